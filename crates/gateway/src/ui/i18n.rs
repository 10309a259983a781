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

    pub fn t(self, text: impl Text) -> &'static str {
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

/// A piece of text by meaning, in both languages. Each feature keeps its own texts (its
/// `texts.rs`); what several features show is [`T`].
pub trait Text: Copy {
    /// Japanese and English.
    fn both(self) -> (&'static str, &'static str);
}

/// The texts several features share (layout, common labels and errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T {
    Product,
    LoginId,
    Vendor,
    When,
    From,
    LogOut,
    NotFound,
    Forbidden,
    BadRequest,
    Language,
    RoleAdmin,
    RoleApprover,
    RoleAuditor,
    RoleVendor,
    BackToPortal,
    Sessions,
    User,
    Target,
    Targets,
    Open,
    NoTargets,
    Protocol,
    System,
    // SSH sessions
    Vendors,
    State,
    ValidFrom,
    ValidUntil,
    WorkRequests,
    EmergencyStop,
    AuditLog,
    SearchLogs,
    Kind,
    Filter,
    Actor,
    Id,
}

impl Text for T {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            T::Product => (
                "Hoshu リモート保守ゲートウェイ",
                "Hoshu remote maintenance gateway",
            ),
            T::LoginId => ("ログインID", "Login ID"),
            T::Vendor => ("保守業者", "Vendor"),
            T::When => ("日時", "When"),
            T::From => ("接続元", "From"),
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
            T::BackToPortal => ("ポータルに戻る", "Back to the portal"),
            T::Sessions => ("セッション一覧", "Sessions"),
            T::User => ("ユーザー", "User"),
            T::Target => ("接続先", "Target"),
            T::Targets => ("接続先", "Targets"),
            T::Open => ("接続", "Open"),
            T::NoTargets => (
                "接続できる接続先はありません。",
                "No targets are available to you.",
            ),
            T::Protocol => ("プロトコル", "Protocol"),
            T::System => ("業務システム", "System"),

            T::Vendors => ("保守業者", "Vendors"),
            T::State => ("状態", "State"),
            T::ValidFrom => ("開始日", "Valid from"),
            T::ValidUntil => ("終了日", "Valid until"),
            T::WorkRequests => ("作業申請", "Work requests"),
            T::EmergencyStop => ("緊急停止", "Emergency stop"),
            T::AuditLog => ("監査ログ", "Audit log"),
            T::SearchLogs => ("操作ログ検索", "Search operation logs"),
            T::Kind => ("種類", "Kind"),
            T::Filter => ("絞り込み", "Filter"),
            T::Actor => ("実施者", "By"),
            T::Id => ("番号", "No."),
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
