//! Japanese renderings of the otp crate's policy violations (its Display is English).

use hoshu_otp::{BannedShape, Violation};

fn japanese(violation: &Violation) -> String {
    match violation {
        Violation::TooShort { min, got } => {
            format!("マス目が{got}個です。{min}個以上選んでください。")
        }
        Violation::TooLong { max, got } => {
            format!("マス目が{got}個です。{max}個以下にしてください。")
        }
        Violation::CellOutOfRange(cell) => {
            format!("マス目{cell}は存在しません。0〜63のマス目を使ってください。")
        }
        Violation::RepeatedCell(cell) => {
            format!("マス目{cell}が複数回使われています。同じマス目は1回だけ使ってください。")
        }
        Violation::FixedRequired => "固定パスワードが必要です。入力してください。".to_owned(),
        Violation::FixedNotAllowed => "固定パスワードは使えません。空欄にしてください。".to_owned(),
        Violation::FixedTooShort { min, got } => {
            format!("固定パスワードが{got}文字です。{min}文字以上にしてください。")
        }
        Violation::FixedTooLong { max, got } => {
            format!("固定パスワードが{got}文字です。{max}文字以下にしてください。")
        }
        Violation::FixedNotPrintableAscii => {
            "固定パスワードには半角英数字・記号・空白だけを使ってください。".to_owned()
        }
        Violation::InsertOutOfRange { max, got } => {
            format!(
                "固定パスワードの位置{got}はパターンの長さを超えています。0〜{max}にしてください。"
            )
        }
        Violation::BannedShape(shape) => {
            let shape = match shape {
                BannedShape::Row => "ブロックの1行をそのまま並べた形",
                BannedShape::Column => "ブロックの1列をそのまま並べた形",
                BannedShape::Diagonal => "ブロックの対角線",
                BannedShape::Corners => "ブロックの四隅",
                BannedShape::SameCellRepeated => "同じマス目の連続",
                BannedShape::SameCellEveryBlock => "4つのブロックの同じ位置",
                BannedShape::AdminList => "管理者が禁止した並び",
            };
            format!(
                "パターンに単純な形({shape})が含まれています。より不規則なパターンを選んでください。"
            )
        }
    }
}

impl crate::ui::i18n::Lang {
    /// A policy violation from registration, in this language (English comes from the otp crate).
    pub fn violation(self, violation: &hoshu_otp::Violation) -> String {
        match self {
            crate::ui::i18n::Lang::En => violation.to_string(),
            crate::ui::i18n::Lang::Ja => japanese(violation),
        }
    }
}

/// Why a login, a registration or a new user was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefusal {
    /// A login ID that cannot be one (empty, too long, control characters).
    BadLogin,
    /// Every failed answer looks the same from outside, whatever the cause (DESIGN §4).
    Failed,
    BadCode,
    /// The pattern breaks the registration policy; the violations are listed beside.
    Violations,
    TooManyCells,
    /// A new user whose login ID cannot be one.
    LoginId,
    VendorRequired,
    NotAVendorUser,
    DemoOrManagerNotVendor,
    /// The demo period of a new demo user is not a number of days from 1 to 365.
    DemoDays,
}

impl crate::app::error::Problem for LoginRefusal {
    fn code(&self) -> &'static str {
        match self {
            LoginRefusal::BadLogin => "bad-login",
            LoginRefusal::Failed => "login-failed",
            LoginRefusal::BadCode => "registration-code",
            LoginRefusal::Violations => "pattern-policy",
            LoginRefusal::TooManyCells => "too-many-cells",
            LoginRefusal::LoginId => "login-id",
            LoginRefusal::VendorRequired => "vendor-required",
            LoginRefusal::NotAVendorUser => "not-a-vendor-user",
            LoginRefusal::DemoOrManagerNotVendor => "demo-or-manager-not-vendor",
            LoginRefusal::DemoDays => "demo-days",
        }
    }

    fn status(&self) -> axum::http::StatusCode {
        match self {
            LoginRefusal::Failed => axum::http::StatusCode::UNAUTHORIZED,
            _ => axum::http::StatusCode::BAD_REQUEST,
        }
    }

    fn message(&self, lang: crate::ui::i18n::Lang) -> String {
        use crate::ui::i18n::Lang::{En, Ja};
        match (self, lang) {
            (LoginRefusal::BadLogin, Ja) => format!(
                "ログインIDは1〜{}文字で入力してください。",
                super::MAX_LOGIN_LEN
            ),
            (LoginRefusal::BadLogin, En) => {
                format!("login ID must be 1 to {} characters", super::MAX_LOGIN_LEN)
            }
            (LoginRefusal::Failed, Ja) => {
                "ログインできませんでした。ログインIDとパスワードを確認し、新しい表でもう一度お試しください。".to_owned()
            }
            (LoginRefusal::Failed, En) => {
                "login failed; check your login ID and password, then try again with a new matrix"
                    .to_owned()
            }
            (LoginRefusal::BadCode, Ja) => {
                "登録コードが正しくないか、使用済みか、期限切れです。管理者に新しいコードを依頼してください。".to_owned()
            }
            (LoginRefusal::BadCode, En) => {
                "registration code is wrong, used or expired; ask your administrator for a new one"
                    .to_owned()
            }
            (LoginRefusal::Violations, Ja) => {
                "パターンが登録ポリシーに合いません。violations の項目をすべて直してください。"
                    .to_owned()
            }
            (LoginRefusal::Violations, En) => {
                "the pattern breaks the registration policy; fix every item in violations"
                    .to_owned()
            }
            (LoginRefusal::TooManyCells, Ja) => "マス目の数が多すぎます。".to_owned(),
            (LoginRefusal::TooManyCells, En) => "too many cells".to_owned(),
            (LoginRefusal::LoginId, Ja) => {
                "ログインIDは1〜64文字で、制御文字を含めずに入力してください。".to_owned()
            }
            (LoginRefusal::LoginId, En) => {
                "the login ID must be 1 to 64 characters without control characters".to_owned()
            }
            (LoginRefusal::VendorRequired, Ja) => {
                "保守業者のユーザーには所属する保守業者(会社)が必要です。".to_owned()
            }
            (LoginRefusal::VendorRequired, En) => {
                "a vendor user needs a vendor (company)".to_owned()
            }
            (LoginRefusal::NotAVendorUser, Ja) => {
                "保守業者に所属できるのは保守業者のユーザーだけです。".to_owned()
            }
            (LoginRefusal::NotAVendorUser, En) => {
                "only vendor users belong to a vendor".to_owned()
            }
            (LoginRefusal::DemoOrManagerNotVendor, Ja) => {
                "デモユーザーや会社の管理担当にできるのは保守業者のユーザーだけです。".to_owned()
            }
            (LoginRefusal::DemoOrManagerNotVendor, En) => {
                "only vendor users can be demo users or their company's manager".to_owned()
            }
            (LoginRefusal::DemoDays, Ja) => {
                "デモ期間は1〜365の日数で入力してください。".to_owned()
            }
            (LoginRefusal::DemoDays, En) => {
                "demo days must be a number from 1 to 365".to_owned()
            }
        }
    }
}
