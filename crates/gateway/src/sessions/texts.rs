//! The sessions feature's refusals, in Japanese and English.

use axum::http::StatusCode;
use hoshu_domain::Denial;

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
        }
    }

    fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
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
}

impl Problem for SessionRefusal {
    fn code(&self) -> &'static str {
        match self {
            SessionRefusal::ListState { .. } => "session-state",
            SessionRefusal::RecordingModified => "recording-modified",
            SessionRefusal::Window => "recording-window",
            SessionRefusal::SearchTooLong { .. } => "search-too-long",
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
