//! The emergency stop's refusals, in Japanese and English.

use axum::http::StatusCode;

use super::Scope;
use crate::app::error::Problem;
use crate::ui::i18n::Lang;

/// Why a stop could not be put in force or lifted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopRefusal {
    /// A vendor, target or user scope without its name.
    NameMissing {
        scope: &'static str,
    },
    UnknownScope,
    /// Lifting, when no stop of this scope is in force (a typo must not look like success).
    NoneInForce {
        scope: Scope,
    },
}

impl Scope {
    /// The scope as people read it.
    pub fn describe_in(&self, lang: Lang) -> String {
        match (self, lang) {
            (Scope::All, Lang::Ja) => "全体".to_owned(),
            (Scope::All, Lang::En) => "all".to_owned(),
            (Scope::Vendor(name), Lang::Ja) => format!("保守業者 {name}"),
            (Scope::Vendor(name), Lang::En) => format!("vendor {name}"),
            (Scope::Target(name), Lang::Ja) => format!("接続先 {name}"),
            (Scope::Target(name), Lang::En) => format!("target {name}"),
            (Scope::User(login), Lang::Ja) => format!("ユーザー {login}"),
            (Scope::User(login), Lang::En) => format!("user {login}"),
        }
    }
}

impl Problem for StopRefusal {
    fn code(&self) -> &'static str {
        match self {
            StopRefusal::NameMissing { .. } => "stop-name-missing",
            StopRefusal::UnknownScope => "stop-scope",
            StopRefusal::NoneInForce { .. } => "no-stop-in-force",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            StopRefusal::NoneInForce { .. } => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (StopRefusal::NameMissing { scope }, Lang::Ja) => {
                let what = match *scope {
                    "vendor" => "保守業者",
                    "target" => "接続先",
                    _ => "ユーザー",
                };
                format!("停止する{what}を指定してください。")
            }
            (StopRefusal::NameMissing { scope }, Lang::En) => format!("name the {scope} to stop"),
            (StopRefusal::UnknownScope, Lang::Ja) => {
                "範囲は全体・保守業者・接続先・ユーザーのいずれかです。".to_owned()
            }
            (StopRefusal::UnknownScope, Lang::En) => {
                "scope must be all, vendor, target or user".to_owned()
            }
            (StopRefusal::NoneInForce { scope }, Lang::Ja) => {
                format!("{}に有効な緊急停止はありません。", scope.describe_in(lang))
            }
            (StopRefusal::NoneInForce { scope }, Lang::En) => format!(
                "no emergency stop is in force for {}",
                scope.describe_in(lang)
            ),
        }
    }
}

/// The emergency stop page's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmergencyText {
    EmergencyHelp,
    Scope,
    ScopeAll,
    ScopeVendor,
    ScopeTarget,
    ScopeUser,
    NameOfScope,
    Reason,
    StopNow,
    Lift,
    LocksInForce,
    NoLocks,
}

impl crate::ui::i18n::Text for EmergencyText {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            EmergencyText::EmergencyHelp => (
                "対象の接続をすべて直ちに切断し、解除されるまで新しい接続を拒否します。",
                "Cuts every matching session at once and refuses new ones until lifted.",
            ),
            EmergencyText::Scope => ("範囲", "Scope"),
            EmergencyText::ScopeAll => ("すべて", "Everything"),
            EmergencyText::ScopeVendor => ("保守業者", "Vendor"),
            EmergencyText::ScopeTarget => ("接続先", "Target"),
            EmergencyText::ScopeUser => ("利用者", "User"),
            EmergencyText::NameOfScope => (
                "名前(業者名・接続先名・ログインID)",
                "Name (vendor, target or login ID)",
            ),
            EmergencyText::Reason => ("理由", "Reason"),
            EmergencyText::StopNow => ("今すぐ停止", "Stop now"),
            EmergencyText::Lift => ("解除", "Lift"),
            EmergencyText::LocksInForce => ("実施中の緊急停止", "Emergency stops in force"),
            EmergencyText::NoLocks => (
                "実施中の緊急停止はありません。",
                "No emergency stop is in force.",
            ),
        }
    }
}
