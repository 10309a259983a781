//! The sessions feature's refusals, in Japanese and English.

use axum::http::StatusCode;
use hoshu_domain::{Denial, LockScope};

use crate::app::error::Problem;
use crate::ui::i18n::Lang;

/// Why a session could not be opened (DESIGN §8: 403 with the decision's reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The access decision's denial.
    Denied(Denial),
    /// The user or the target was removed.
    Gone,
    /// The recording file cannot be created: no recording, no session.
    Recording,
    /// The session cannot be recorded in the database.
    RecordingInDatabase,
    /// The access decision could not be made (database error).
    Internal,
    /// The user has as many live sessions as one user may.
    TooManySessions { limit: u32 },
}

impl Refusal {
    /// The sentence for the user.
    pub fn reason(&self, lang: Lang) -> String {
        match (self, lang) {
            (Refusal::Denied(denial), Lang::En) => denial.to_string(),
            (Refusal::Denied(denial), Lang::Ja) => lang.denial(denial),
            (Refusal::Gone, Lang::Ja) => "ユーザーまたは接続先が削除されました。".to_owned(),
            (Refusal::Gone, Lang::En) => "the user or the target no longer exists".to_owned(),
            (Refusal::Recording, Lang::Ja) => {
                "セッションを録画できないため、接続できません。管理者に連絡してください。"
                    .to_owned()
            }
            (Refusal::Recording, Lang::En) => {
                "the session cannot be recorded, so it cannot be opened; tell the administrator"
                    .to_owned()
            }
            (Refusal::RecordingInDatabase, Lang::Ja) => {
                "セッションをデータベースに記録できません。管理者に連絡してください。".to_owned()
            }
            (Refusal::RecordingInDatabase, Lang::En) => {
                "the session cannot be recorded in the database; tell the administrator".to_owned()
            }
            (Refusal::Internal, Lang::Ja) => {
                "アクセスの判定ができませんでした(データベースのエラー)。管理者に連絡してください。"
                    .to_owned()
            }
            (Refusal::Internal, Lang::En) => {
                "the access decision could not be made (database error); tell the administrator"
                    .to_owned()
            }
            (Refusal::TooManySessions { limit }, Lang::Ja) => format!(
                "同時に開けるセッションは1人{limit}件までです。使っていないセッションを閉じてから開き直してください。"
            ),
            (Refusal::TooManySessions { limit }, Lang::En) => format!(
                "you already have {limit} sessions open, the most one user may have at once; close one you no longer use and open this one again"
            ),
        }
    }
}

impl Problem for Refusal {
    fn code(&self) -> &'static str {
        match self {
            Refusal::Denied(denial) => denial.code(),
            Refusal::Gone => "gone",
            Refusal::Recording | Refusal::RecordingInDatabase => "recording",
            Refusal::Internal => "internal",
            Refusal::TooManySessions { .. } => "too-many-sessions",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            // Not forbidden: allowed again once one of the user's sessions ends.
            Refusal::TooManySessions { .. } => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::FORBIDDEN,
        }
    }

    fn message(&self, lang: Lang) -> String {
        self.reason(lang)
    }
}

/// Why a session request was refused, besides opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRefusal {
    /// A list's `state` is neither live nor ended.
    ListState {
        given: String,
    },
    /// A recording that does not match the SHA-256 sealed when its session closed: it is never
    /// played, and nothing derived from it is served.
    RecordingModified,
    /// A `from`/`until` window of a recording that ends before it starts.
    Window,
    SearchTooLong {
        max: usize,
    },
    /// A graphical session's WebSocket without the `guacamole` subprotocol.
    Subprotocol,
}

impl Problem for SessionRefusal {
    fn code(&self) -> &'static str {
        match self {
            SessionRefusal::ListState { .. } => "session-state",
            SessionRefusal::RecordingModified => "recording-modified",
            SessionRefusal::Window => "recording-window",
            SessionRefusal::SearchTooLong { .. } => "search-too-long",
            SessionRefusal::Subprotocol => "websocket-subprotocol",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            SessionRefusal::RecordingModified => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (SessionRefusal::ListState { given }, Lang::Ja) => {
                format!("state は live か ended にしてください({given:?} ではなく)。")
            }
            (SessionRefusal::ListState { given }, Lang::En) => {
                format!("state must be live or ended, not {given:?}")
            }
            (SessionRefusal::RecordingModified, Lang::Ja) => {
                "この録画は、セッション終了時に監査ログへ封印された SHA-256 と一致しません。変更または差し替えられています。監査担当者に連絡してください。".to_owned()
            }
            (SessionRefusal::RecordingModified, Lang::En) => {
                "this recording does not match the SHA-256 sealed in the audit chain when its session closed: it was modified or replaced; tell the auditor".to_owned()
            }
            (SessionRefusal::Window, Lang::Ja) => {
                "再生範囲の終わり(until)は始まり(from)より後にしてください。".to_owned()
            }
            (SessionRefusal::Window, Lang::En) => {
                "until must come after from in a recording's window".to_owned()
            }
            (SessionRefusal::SearchTooLong { max }, Lang::Ja) => {
                format!("検索語は{max}文字以内にしてください。")
            }
            (SessionRefusal::SearchTooLong { max }, Lang::En) => {
                format!("search for at most {max} characters")
            }
            (SessionRefusal::Subprotocol, Lang::Ja) => {
                "このトンネルは WebSocket のサブプロトコル guacamole で開いてください。".to_owned()
            }
            (SessionRefusal::Subprotocol, Lang::En) => {
                "open this tunnel with the WebSocket subprotocol guacamole".to_owned()
            }
        }
    }
}

/// The summary of a refused open (DESIGN §8 `error`); the reason says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unopened;

impl Problem for Unopened {
    fn code(&self) -> &'static str {
        "session-refused"
    }

    fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Ja => "接続できません",
            Lang::En => "the session cannot be opened",
        }
        .to_owned()
    }
}

/// The terminal's notice when a paste is dropped by the target's clipboard policy.
pub fn paste_refused(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "この接続先への貼り付けは無効です",
        Lang::En => "pasting is disabled for this target",
    }
}

impl Lang {
    /// The access decision's reason in this language.
    pub fn denial(self, denial: &Denial) -> String {
        if self == Lang::En {
            return denial.to_string();
        }
        match denial {
            Denial::Locked { scope, reason } => {
                let what = match scope {
                    LockScope::All => "すべてのリモート保守",
                    LockScope::Vendor(_) => "貴社のリモート保守",
                    LockScope::Target(_) => "この接続先",
                    LockScope::User(_) => "あなたのアカウントのリモート保守",
                };
                format!("{what}は緊急停止中です: {reason}")
            }
            Denial::UserInactive => "アカウントがロックされています。管理者に連絡してください。".to_owned(),
            Denial::RoleMayNotOpen(_) => {
                "この役割ではリモート接続できません。接続できるのは管理者と保守業者です。".to_owned()
            }
            Denial::NoVendor => {
                "アカウントがどの保守業者にも属していません。管理者に連絡してください。".to_owned()
            }
            Denial::DemoExpired => {
                "デモアカウントの期限が切れました。延長は管理者に依頼してください。".to_owned()
            }
            Denial::DemoTargetsOnly => {
                "デモアカウントはデモ用の接続先だけに接続できます。この接続先には利用開始済みの申請が必要です。".to_owned()
            }
            Denial::ApplicationNotActive(state) => format!(
                "貴社の申請は「{}」で、まだ利用開始されていません。利用開始後に接続できます。",
                self.application_state(*state)
            ),
            Denial::TargetWithoutSystem => {
                "この接続先はどの業務システムにも属していないため、契約の対象になりません。管理者に連絡してください。".to_owned()
            }
            Denial::NoContract { system } => {
                format!("本日有効な、業務システム「{system}」の保守契約がありません。")
            }
            Denial::NoApproval => {
                "現在有効な承認済みの作業申請がありません。作業を申請し、承認を待ってください。".to_owned()
            }
            Denial::NoDevice => {
                "登録済みの貸与端末が割り当てられていません。貸与された端末(hoshu-agent で登録済み)から接続してください。".to_owned()
            }
            Denial::DeviceNotPresented => {
                "このブラウザは貸与端末の証明書を提示していません。証明書を導入した貸与端末から接続してください。".to_owned()
            }
            Denial::DeviceNotReporting { asset_tag } => format!(
                "端末 {asset_tag} から状態報告が届いていません。端末で hoshu-agent を起動してください。"
            ),
            Denial::DeviceNotCompliant { asset_tag, reasons } => format!(
                "端末 {asset_tag} がセキュリティ条件を満たしていません: {}",
                self.posture_problems(reasons)
            ),
        }
    }
}

/// The session pages' texts (the session, its review, its player).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionText {
    SessionRefused,
    Connecting,
    Connected,
    Clipboard,
    PasteHint,
    PasteSend,
    Disconnect,
    SessionEnded,
    Outcome,
    Bytes,
    Live,
    Play,
    Pause,
    Seek,
    Loading,
    EndSession,
    Watch,
    Watching,
    WatchersNow,
    NoWatchers,
    BeingWatched,
    TerminateSession,
    TargetPassword,
    TargetUsername,
    CredentialsHint,
    CopyDisabled,
    PasteDisabled,
    Commands,
    NoCommands,
    SearchHelp,
    NoHits,
    Typed,
    Keystrokes,
    NoKeystrokes,
    Speed,
    SkipIdle,
}

impl crate::ui::i18n::Text for SessionText {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            SessionText::SessionRefused => ("接続できません", "The session cannot be opened"),
            SessionText::Connecting => ("接続中…", "Connecting…"),
            SessionText::Connected => ("接続しました", "Connected"),
            SessionText::Clipboard => ("クリップボード", "Clipboard"),
            SessionText::PasteHint => ("接続先に貼り付ける文字列", "Text to paste into the target"),
            SessionText::PasteSend => ("接続先へ送る", "Send to the target"),
            SessionText::Disconnect => ("切断", "Disconnect"),
            SessionText::SessionEnded => ("セッションは終了しました", "The session has ended"),
            SessionText::Outcome => ("結果", "Outcome"),
            SessionText::Bytes => ("送信バイト数", "Bytes sent"),
            SessionText::Live => ("接続中", "live"),
            SessionText::Play => ("再生", "Play"),
            SessionText::Pause => ("一時停止", "Pause"),
            SessionText::Seek => ("再生位置", "Position"),
            SessionText::Loading => ("読み込み中…", "Loading…"),
            SessionText::EndSession => ("強制終了", "End"),
            SessionText::Watch => ("立会い", "Watch"),
            SessionText::Watching => ("立会い中(閲覧のみ・操作不可)", "Watching (view only)"),
            SessionText::WatchersNow => ("立会い者", "Watching now"),
            SessionText::NoWatchers => ("なし", "nobody else"),
            SessionText::BeingWatched => ("監視中:", "Being watched by"),
            SessionText::TerminateSession => ("セッションを強制終了", "Terminate the session"),
            SessionText::TargetPassword => ("接続先のパスワード", "Password for the target"),
            SessionText::TargetUsername => ("接続先のユーザー名", "User name on the target"),
            SessionText::CredentialsHint => (
                "この接続先では資格情報が保存されていません。ゲートウェイが接続先へのログインだけに使います。",
                "No credentials are stored for this target; the gateway uses these only to log in to it.",
            ),
            SessionText::CopyDisabled => (
                "この接続先からのコピーは無効です",
                "Copying from this target is disabled",
            ),
            SessionText::PasteDisabled => (
                "この接続先への貼り付けは無効です",
                "Pasting into this target is disabled",
            ),
            SessionText::Commands => ("実行されたコマンド", "Commands"),
            SessionText::NoCommands => (
                "記録されたコマンドはありません。",
                "No commands were logged.",
            ),
            SessionText::SearchHelp => (
                "入力されたキー操作・コマンドを検索",
                "Search typed keystrokes and commands",
            ),
            SessionText::NoHits => ("該当する操作はありません。", "Nothing typed matches."),
            SessionText::Typed => ("入力内容", "Typed"),
            SessionText::Keystrokes => ("キー入力ログ", "Keystroke log"),
            SessionText::NoKeystrokes => (
                "記録されたキー入力はありません。",
                "No keystrokes were logged.",
            ),
            SessionText::Speed => ("再生速度", "Speed"),
            SessionText::SkipIdle => ("無操作をとばす", "Skip idle"),
        }
    }
}
