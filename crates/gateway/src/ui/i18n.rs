//! Japanese (default) and English text. Every message a person sees comes from here, in both.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::app::web::cookie;

pub const LANG_COOKIE: &str = "hoshu_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The user's choice (cookie), else the browser's preference, else Japanese.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(lang) = cookie(headers, LANG_COOKIE).and_then(|c| Lang::from_code(&c)) {
            return lang;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(preferred_from_accept_language)
            .unwrap_or(Lang::Ja)
    }

    pub fn t(self, text: T) -> &'static str {
        let (ja, en) = text.both();
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

/// The highest-weighted of ja / en in an Accept-Language header (RFC 9110 §12.5.4).
fn preferred_from_accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for item in value.split(',').take(32) {
        let mut parts = item.trim().split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let Some(lang) = Lang::from_code(primary) else {
            continue;
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

/// Every piece of text, by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T {
    Product,
    Tagline,
    LoginTitle,
    LoginId,
    Next,
    MatrixTitle,
    MatrixHelp,
    MatrixExpires,
    Answer,
    LogIn,
    StartOver,
    LoginFailed,
    TooManyRequests,
    LoggedOut,
    RegisteredConfirm,
    Register,
    RegisterTitle,
    RegisterCodeHelp,
    RegistrationCode,
    RegisterCodeInvalid,
    RegisterFor,
    RegisterHelp,
    Undo,
    Clear,
    CellsChosen,
    FixedPassword,
    FixedHelp,
    InsertPosition,
    InsertHelp,
    Strength,
    StrengthSpace,
    StrengthOnline,
    StrengthObserved,
    StrengthNote,
    RegisterButton,
    PolicyViolations,
    PortalTitle,
    Welcome,
    Role,
    Vendor,
    RecentLogins,
    When,
    From,
    Result,
    Success,
    Failure,
    NoLogins,
    LogOut,
    NotFound,
    Forbidden,
    BadRequest,
    Language,
    RoleAdmin,
    RoleApprover,
    RoleAuditor,
    RoleVendor,
    SessionRefused,
    BackToPortal,
    Connecting,
    Connected,
    Clipboard,
    PasteHint,
    PasteSend,
    Disconnect,
    SessionEnded,
    Sessions,
    User,
    Target,
    Targets,
    Outcome,
    Bytes,
    Live,
    Play,
    Pause,
    Seek,
    Loading,
    EndSession,
    Open,
    NoTargets,
    Protocol,
    System,
    Watch,
    Watching,
    WatchersNow,
    NoWatchers,
    BeingWatched,
    TerminateSession,
    // SSH sessions (issue 8)
    TargetPassword,
    TargetUsername,
    CredentialsHint,
    CopyDisabled,
    PasteDisabled,
    Commands,
    NoCommands,
}

impl T {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            T::Product => (
                "Hoshu リモート保守ゲートウェイ",
                "Hoshu remote maintenance gateway",
            ),
            T::Tagline => (
                "貸与端末とマトリクス認証で、保守対象サーバへ安全に接続します。",
                "Reach the servers you maintain safely, with your lent device and a matrix one-time password.",
            ),
            T::LoginTitle => ("ログイン", "Log in"),
            T::LoginId => ("ログインID", "Login ID"),
            T::Next => ("次へ", "Next"),
            T::MatrixTitle => ("ワンタイムパスワードの入力", "Enter your one-time password"),
            T::MatrixHelp => (
                "登録したパターンの順にマス目の数字を読み取り、固定パスワードを登録した位置に挟んで入力してください。",
                "Read the digits under your pattern's cells in order, and type them with your fixed password at its registered position.",
            ),
            T::MatrixExpires => (
                "この表は一度だけ、次の秒数以内に使えます:",
                "This table works once, within this many seconds:",
            ),
            T::Answer => ("ワンタイムパスワード", "One-time password"),
            T::LogIn => ("ログイン", "Log in"),
            T::StartOver => ("最初からやり直す", "Start over"),
            T::LoginFailed => (
                "ログインできませんでした。ログインIDとパスワードを確認し、新しい表でもう一度お試しください。",
                "Login failed. Check your login ID and password, and try again with a new table.",
            ),
            T::TooManyRequests => (
                "このアドレスからの要求が多すぎます。1分ほど待ってからお試しください。",
                "Too many requests from this address. Wait a minute and try again.",
            ),
            T::LoggedOut => ("ログアウトしました。", "You are logged out."),
            T::RegisteredConfirm => (
                "パターンを登録しました。確認のため、一度ログインしてください。",
                "Your pattern is registered. Log in once now to confirm it.",
            ),
            T::Register => ("パターンの登録", "Register a pattern"),
            T::RegisterTitle => ("パターンの登録", "Register your pattern"),
            T::RegisterCodeHelp => (
                "管理者から受け取った登録コードを入力してください。登録コードは一度だけ使えます。",
                "Enter the registration code your administrator gave you. It works once.",
            ),
            T::RegistrationCode => ("登録コード", "Registration code"),
            T::RegisterCodeInvalid => (
                "登録コードが正しくないか、使用済みか、期限切れです。管理者に新しいコードを依頼してください。",
                "The registration code is wrong, used or expired. Ask your administrator for a new one.",
            ),
            T::RegisterFor => ("登録するユーザー", "Registering for"),
            T::RegisterHelp => (
                "空の表のマス目を、覚えやすい順にクリックしてください。クリックした順番もパスワードの一部です。",
                "Click cells of the blank table in an order you will remember. The order is part of your password.",
            ),
            T::Undo => ("1つ戻す", "Undo"),
            T::Clear => ("すべて消す", "Clear"),
            T::CellsChosen => ("選んだマス目の数", "Cells chosen"),
            T::FixedPassword => ("固定パスワード", "Fixed password"),
            T::FixedHelp => (
                "毎回同じ文字列です(英数字・記号)。使わない場合は空欄にしてください(ポリシーで必須の場合を除く)。",
                "The same characters every time (letters, digits, symbols). Leave empty for none, unless policy requires one.",
            ),
            T::InsertPosition => ("固定パスワードの位置", "Fixed password position"),
            T::InsertHelp => (
                "何桁目の数字の後に固定パスワードを入れるか(0 = 先頭)。",
                "After how many digits the fixed password goes (0 = first).",
            ),
            T::Strength => ("強度の目安", "How strong is it"),
            T::StrengthSpace => ("パターンの組み合わせ数", "Possible patterns"),
            T::StrengthOnline => (
                "当てずっぽうの1回の入力が当たる確率(数字部分)",
                "Chance that one blind guess is right (digits only)",
            ),
            T::StrengthObserved => (
                "表と入力を盗み見られた場合、パターンが特定されるまでの平均回数",
                "Observations of table and typed answer needed to recover the pattern, on average",
            ),
            T::StrengthNote => (
                "表と入力の両方を何度も見られるとパターンは推測されます。貸与端末の証明書があるため、盗まれたパターンだけではログインできません。",
                "Someone who sees both the table and what you type a few times can work out the pattern; the lent device's certificate is what makes a stolen pattern useless.",
            ),
            T::RegisterButton => ("登録する", "Register"),
            T::PolicyViolations => ("次の点を直してください:", "Please fix the following:"),
            T::PortalTitle => ("ポータル", "Portal"),
            T::Welcome => ("ようこそ", "Welcome"),
            T::Role => ("役割", "Role"),
            T::Vendor => ("保守業者", "Vendor"),
            T::RecentLogins => ("最近のログイン", "Recent logins"),
            T::When => ("日時", "When"),
            T::From => ("接続元", "From"),
            T::Result => ("結果", "Result"),
            T::Success => ("成功", "Success"),
            T::Failure => ("失敗", "Failure"),
            T::NoLogins => ("まだ記録がありません。", "Nothing recorded yet."),
            T::LogOut => ("ログアウト", "Log out"),
            T::NotFound => ("ページが見つかりません。", "Page not found."),
            T::Forbidden => (
                "この操作の権限がありません。",
                "You are not allowed to do this.",
            ),
            T::BadRequest => (
                "要求を処理できませんでした。ページを再読み込みしてやり直してください。",
                "The request could not be processed. Reload the page and try again.",
            ),
            T::Language => ("English", "日本語"),
            T::RoleAdmin => ("管理者", "Administrator"),
            T::RoleApprover => ("承認者", "Approver"),
            T::RoleAuditor => ("監査者", "Auditor"),
            T::RoleVendor => ("保守業者", "Vendor engineer"),
            T::SessionRefused => ("接続できません", "The session cannot be opened"),
            T::BackToPortal => ("ポータルに戻る", "Back to the portal"),
            T::Connecting => ("接続中…", "Connecting…"),
            T::Connected => ("接続しました", "Connected"),
            T::Clipboard => ("クリップボード", "Clipboard"),
            T::PasteHint => ("接続先に貼り付ける文字列", "Text to paste into the target"),
            T::PasteSend => ("接続先へ送る", "Send to the target"),
            T::Disconnect => ("切断", "Disconnect"),
            T::SessionEnded => ("セッションは終了しました", "The session has ended"),
            T::Sessions => ("セッション一覧", "Sessions"),
            T::User => ("ユーザー", "User"),
            T::Target => ("接続先", "Target"),
            T::Targets => ("接続先", "Targets"),
            T::Outcome => ("結果", "Outcome"),
            T::Bytes => ("送信バイト数", "Bytes sent"),
            T::Live => ("接続中", "live"),
            T::Play => ("再生", "Play"),
            T::Pause => ("一時停止", "Pause"),
            T::Seek => ("再生位置", "Position"),
            T::Loading => ("読み込み中…", "Loading…"),
            T::EndSession => ("強制終了", "End"),
            T::Open => ("接続", "Open"),
            T::NoTargets => (
                "接続できる接続先はありません。",
                "No targets are available to you.",
            ),
            T::Protocol => ("プロトコル", "Protocol"),
            T::System => ("業務システム", "System"),
            T::Watch => ("立会い", "Watch"),
            T::Watching => ("立会い中(閲覧のみ・操作不可)", "Watching (view only)"),
            T::WatchersNow => ("立会い者", "Watching now"),
            T::NoWatchers => ("なし", "nobody else"),
            T::BeingWatched => ("監視中:", "Being watched by"),
            T::TerminateSession => ("セッションを強制終了", "Terminate the session"),
            T::TargetPassword => ("接続先のパスワード", "Password for the target"),
            T::TargetUsername => ("接続先のユーザー名", "User name on the target"),
            T::CredentialsHint => (
                "この接続先では資格情報が保存されていません。ゲートウェイが接続先へのログインだけに使います。",
                "No credentials are stored for this target; the gateway uses these only to log in to it.",
            ),
            T::CopyDisabled => (
                "この接続先からのコピーは無効です",
                "Copying from this target is disabled",
            ),
            T::PasteDisabled => (
                "この接続先への貼り付けは無効です",
                "Pasting into this target is disabled",
            ),
            T::Commands => ("実行されたコマンド", "Commands"),
            T::NoCommands => (
                "記録されたコマンドはありません。",
                "No commands were logged.",
            ),
        }
    }
}

impl Lang {
    pub fn role(self, role: hoshu_domain::Role) -> &'static str {
        use hoshu_domain::Role;
        self.t(match role {
            Role::Admin => T::RoleAdmin,
            Role::Approver => T::RoleApprover,
            Role::Auditor => T::RoleAuditor,
            Role::Vendor => T::RoleVendor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_highest_weighted_supported_language() {
        let pick = preferred_from_accept_language;
        assert_eq!(pick("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(pick("fr, en;q=0.5, ja;q=0.8"), Some(Lang::Ja));
        assert_eq!(pick("ja-JP"), Some(Lang::Ja));
        assert_eq!(pick("de, fr"), None);
        assert_eq!(pick("en;q=0"), None);
    }
}
