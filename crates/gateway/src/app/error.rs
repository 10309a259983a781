//! Errors of operations (DESIGN §10 "JSON errors"). A refusal is a typed value: a stable code,
//! its parameters, and a sentence in Japanese and in English that says what to do. The JSON API
//! answers `{"error", "error_ja", "code"}`, pages show the reader's language, and the command
//! line prints English (Japanese under `LANG=ja_JP.UTF-8`). No sentence is built where an error
//! is raised: each feature's refusals are an enum whose texts live beside it.

use std::fmt;

use axum::http::StatusCode;
use hoshu_storage::StorageError;

use crate::ui::i18n::Lang;

/// A refusal people read: what went wrong and what to do, in both languages.
pub trait Problem: fmt::Debug + Send + Sync + 'static {
    /// A stable word for scripts, tests and the audit log (`field-too-long`, `no-such-vendor`).
    fn code(&self) -> &'static str;
    /// The HTTP status the API and the pages answer with.
    fn status(&self) -> StatusCode;
    /// The sentence in `lang`.
    fn message(&self, lang: Lang) -> String;
}

/// Why an operation did not happen: refused (with a sentence for people), or the store failed
/// (the detail goes to the log; people are told to try again).
#[derive(Debug)]
pub enum OpError {
    Refused(Box<dyn Problem>),
    Storage(StorageError),
}

pub type OpResult<T> = Result<T, OpError>;

impl OpError {
    pub fn status(&self) -> StatusCode {
        match self {
            OpError::Refused(problem) => problem.status(),
            OpError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            OpError::Refused(problem) => problem.code(),
            OpError::Storage(_) => Internal.code(),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            OpError::Refused(problem) => problem.message(lang),
            OpError::Storage(_) => Internal.message(lang),
        }
    }
}

impl<P: Problem> From<P> for OpError {
    fn from(problem: P) -> Self {
        OpError::Refused(Box::new(problem))
    }
}

impl From<StorageError> for OpError {
    fn from(err: StorageError) -> Self {
        match storage_refusal(&err) {
            Some(problem) => OpError::Refused(problem),
            None => OpError::Storage(err),
        }
    }
}

/// The refusals the store itself makes (a name taken, a name unknown), as problems; `None` for
/// a failure of the store.
pub fn storage_refusal(err: &StorageError) -> Option<Box<dyn Problem>> {
    Some(match err {
        StorageError::VendorTaken(name) => Box::new(Taken::Vendor(name.clone())),
        StorageError::NameTaken(name) => Box::new(Taken::Target(name.clone())),
        StorageError::LoginTaken(login) => Box::new(Taken::Login(login.clone())),
        StorageError::AssetTagTaken(tag) => Box::new(Taken::AssetTag(tag.clone())),
        StorageError::NoSuchVendor(name) => Box::new(Missing::VendorNamed(name.clone())),
        StorageError::NoSuchSystem(name) => Box::new(Missing::System(name.clone())),
        StorageError::NoSuchUser(login) => Box::new(Missing::User(login.clone())),
        _ => return None,
    })
}

/// English, for logs and the command line.
impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpError::Refused(problem) => f.write_str(&problem.message(Lang::En)),
            OpError::Storage(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for OpError {}

/// The request could not be carried out because of the gateway itself (a database error, a
/// file that cannot be written); the detail is in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Internal;

impl Problem for Internal {
    fn code(&self) -> &'static str {
        "internal"
    }

    fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Ja => "内部エラーが発生しました。しばらくしてからもう一度お試しください。続く場合は管理者に連絡してください。",
            Lang::En => "internal error; try again later, and tell your administrator if it persists",
        }
        .to_owned()
    }
}

/// Something named in the request does not exist (or is not the caller's to see).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    Vendor(i64),
    VendorNamed(String),
    System(String),
    User(String),
    Target(String),
    Contract(i64),
    Document,
    WorkRequest(i64),
    Device(String),
    Session,
    /// A live session the caller may attach or act on.
    LiveSession,
    Recording,
    Thumbnail,
    /// An API path the router does not know.
    Endpoint,
}

impl Problem for Missing {
    fn code(&self) -> &'static str {
        match self {
            Missing::Vendor(_) | Missing::VendorNamed(_) => "no-such-vendor",
            Missing::System(_) => "no-such-system",
            Missing::User(_) => "no-such-user",
            Missing::Target(_) => "no-such-target",
            Missing::Contract(_) => "no-such-contract",
            Missing::Document => "no-such-document",
            Missing::WorkRequest(_) => "no-such-work-request",
            Missing::Device(_) => "no-such-device",
            Missing::Session => "no-such-session",
            Missing::LiveSession => "no-such-live-session",
            Missing::Recording => "no-such-recording",
            Missing::Thumbnail => "no-such-thumbnail",
            Missing::Endpoint => "no-such-endpoint",
        }
    }

    fn status(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Missing::Vendor(id), Lang::Ja) => format!("ID {id} の保守業者はありません。"),
            (Missing::Vendor(id), Lang::En) => format!("no vendor has id {id}"),
            (Missing::VendorNamed(name), Lang::Ja) => {
                format!("「{name}」という保守業者はありません。保守業者の一覧で名前を確認してください。")
            }
            (Missing::VendorNamed(name), Lang::En) => {
                format!("no vendor is named {name:?}; check the name in the list of vendors")
            }
            (Missing::System(name), Lang::Ja) => {
                format!("「{name}」という業務システムはありません。先に業務システムを登録してください。")
            }
            (Missing::System(name), Lang::En) => {
                format!("no business system is named {name:?}; add the system first")
            }
            (Missing::User(login), Lang::Ja) => {
                format!("ログインID「{login}」のユーザーはいません。ユーザーの一覧で確認してください。")
            }
            (Missing::User(login), Lang::En) => {
                format!("no user has login ID {login:?}; check it in the list of users")
            }
            (Missing::Target(name), Lang::Ja) => format!("「{name}」という接続先はありません。"),
            (Missing::Target(name), Lang::En) => format!("no target named {name:?}"),
            (Missing::Contract(id), Lang::Ja) => format!("ID {id} の契約はありません。"),
            (Missing::Contract(id), Lang::En) => format!("no contract has id {id}"),
            (Missing::Document, Lang::Ja) => "その書類はありません。".to_owned(),
            (Missing::Document, Lang::En) => "no such document".to_owned(),
            (Missing::WorkRequest(id), Lang::Ja) => format!("作業申請 {id} はありません。"),
            (Missing::WorkRequest(id), Lang::En) => format!("no work request has id {id}"),
            (Missing::Device(tag), Lang::Ja) => {
                format!("資産番号「{tag}」の端末は登録されていません。")
            }
            (Missing::Device(tag), Lang::En) => {
                format!("no device with asset tag {tag:?} is registered")
            }
            (Missing::Session, Lang::Ja) => "そのセッションはありません。".to_owned(),
            (Missing::Session, Lang::En) => "no such session".to_owned(),
            (Missing::LiveSession, Lang::Ja) => {
                "接続中のそのセッションはありません(すでに終了しているか、別の画面で開かれています)。接続先をもう一度開いてください。".to_owned()
            }
            (Missing::LiveSession, Lang::En) => {
                "no such live session for you, or its tunnel is already open; open the target again".to_owned()
            }
            (Missing::Recording, Lang::Ja) => "このセッションには画面の録画がありません。".to_owned(),
            (Missing::Recording, Lang::En) => "no graphical recording".to_owned(),
            (Missing::Thumbnail, Lang::Ja) => "そのサムネイルはありません。".to_owned(),
            (Missing::Thumbnail, Lang::En) => "no such thumbnail".to_owned(),
            (Missing::Endpoint, Lang::Ja) => "そのAPIはありません。".to_owned(),
            (Missing::Endpoint, Lang::En) => "no such API endpoint".to_owned(),
        }
    }
}

/// A name that must be unique is in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    Login(String),
    Target(String),
    Vendor(String),
    AssetTag(String),
}

impl Problem for Taken {
    fn code(&self) -> &'static str {
        match self {
            Taken::Login(_) => "login-taken",
            Taken::Target(_) => "target-name-taken",
            Taken::Vendor(_) => "vendor-name-taken",
            Taken::AssetTag(_) => "asset-tag-taken",
        }
    }

    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Taken::Login(login), Lang::Ja) => {
                format!(
                    "ログインID「{login}」はすでに使われています。別のログインIDにしてください。"
                )
            }
            (Taken::Login(login), Lang::En) => {
                format!("a user with login ID {login:?} already exists; choose another login ID")
            }
            (Taken::Target(name), Lang::Ja) => {
                format!(
                    "「{name}」という接続先はすでにあります。別の名前にするか、先に削除してください。"
                )
            }
            (Taken::Target(name), Lang::En) => format!(
                "a target named {name:?} already exists; choose another name or remove it first"
            ),
            (Taken::Vendor(name), Lang::Ja) => {
                format!("「{name}」という保守業者はすでにあります。別の名前にしてください。")
            }
            (Taken::Vendor(name), Lang::En) => {
                format!("a vendor named {name:?} already exists; choose another name")
            }
            (Taken::AssetTag(tag), Lang::Ja) => format!(
                "資産番号「{tag}」の端末はすでに登録されています。その端末を失効させるか、別の資産番号にしてください。"
            ),
            (Taken::AssetTag(tag), Lang::En) => format!(
                "a device with asset tag {tag:?} is already registered; revoke it or choose another tag"
            ),
        }
    }
}

/// Someone else changed the record meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedMeanwhile;

impl Problem for ChangedMeanwhile {
    fn code(&self) -> &'static str {
        "changed-meanwhile"
    }

    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Ja => "他の人が同時に変更しました。ページを再読み込みしてやり直してください。",
            Lang::En => "someone else changed this meanwhile; reload and try again",
        }
        .to_owned()
    }
}

/// An unsafe request, or a WebSocket, from a page of another site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrossSite;

impl Problem for CrossSite {
    fn code(&self) -> &'static str {
        "cross-site"
    }

    fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Ja => "他のサイトからの要求は受け付けません。このゲートウェイのページから操作してください。",
            Lang::En => "requests from another site are refused; use this gateway's own pages",
        }
        .to_owned()
    }
}

/// What the guard refuses before any handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No valid login session.
    NotLoggedIn,
    /// Logged in, but the route needs another role.
    Role,
}

impl Problem for Refused {
    fn code(&self) -> &'static str {
        match self {
            Refused::NotLoggedIn => "not-logged-in",
            Refused::Role => "role",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Refused::NotLoggedIn => StatusCode::UNAUTHORIZED,
            Refused::Role => StatusCode::FORBIDDEN,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Refused::NotLoggedIn, Lang::Ja) => {
                "先にログインしてください(有効なログインセッションがありません)。"
            }
            (Refused::NotLoggedIn, Lang::En) => "log in first: no valid session",
            (Refused::Role, Lang::Ja) => "この操作の権限がありません。",
            (Refused::Role, Lang::En) => "your role does not allow this",
        }
        .to_owned()
    }
}

/// A request the framework could not take (a body that is not the JSON asked for, a missing
/// header); `detail` is what the framework said, in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub detail: String,
}

impl Problem for Malformed {
    fn code(&self) -> &'static str {
        "bad-request"
    }

    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Ja => format!("要求の形式が正しくありません: {}", self.detail),
            Lang::En => format!("the request is malformed: {}", self.detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_refusals_become_problems_and_failures_stay_internal() {
        let taken = OpError::from(StorageError::LoginTaken("sato".into()));
        assert_eq!(taken.code(), "login-taken");
        assert_eq!(taken.status(), StatusCode::CONFLICT);
        assert!(taken.message(Lang::Ja).contains("sato"));
        assert!(taken.to_string().contains("already exists"));
        let failed = OpError::from(StorageError::Corrupt("x".into()));
        assert_eq!(failed.code(), "internal");
        assert!(
            !failed.message(Lang::En).contains('x'),
            "no detail for people"
        );
    }
}
