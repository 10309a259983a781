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

/// The login and registration pages' texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginText {
    Tagline,
    LoginTitle,
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
}

impl crate::ui::i18n::Text for LoginText {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            LoginText::Tagline => (
                "貸与端末とマトリクス認証で、保守対象サーバへ安全に接続します。",
                "Reach the servers you maintain safely, with your lent device and a matrix one-time password.",
            ),
            LoginText::LoginTitle => ("ログイン", "Log in"),
            LoginText::Next => ("次へ", "Next"),
            LoginText::MatrixTitle => {
                ("ワンタイムパスワードの入力", "Enter your one-time password")
            }
            LoginText::MatrixHelp => (
                "登録したパターンの順にマス目の数字を読み取り、固定パスワードを登録した位置に挟んで入力してください。",
                "Read the digits under your pattern's cells in order, and type them with your fixed password at its registered position.",
            ),
            LoginText::MatrixExpires => (
                "この表は一度だけ、次の秒数以内に使えます:",
                "This table works once, within this many seconds:",
            ),
            LoginText::Answer => ("ワンタイムパスワード", "One-time password"),
            LoginText::LogIn => ("ログイン", "Log in"),
            LoginText::StartOver => ("最初からやり直す", "Start over"),
            LoginText::LoginFailed => (
                "ログインできませんでした。ログインIDとパスワードを確認し、新しい表でもう一度お試しください。",
                "Login failed. Check your login ID and password, and try again with a new table.",
            ),
            LoginText::TooManyRequests => (
                "このアドレスからの要求が多すぎます。1分ほど待ってからお試しください。",
                "Too many requests from this address. Wait a minute and try again.",
            ),
            LoginText::LoggedOut => ("ログアウトしました。", "You are logged out."),
            LoginText::RegisteredConfirm => (
                "パターンを登録しました。確認のため、一度ログインしてください。",
                "Your pattern is registered. Log in once now to confirm it.",
            ),
            LoginText::Register => ("パターンの登録", "Register a pattern"),
            LoginText::RegisterTitle => ("パターンの登録", "Register your pattern"),
            LoginText::RegisterCodeHelp => (
                "管理者から受け取った登録コードを入力してください。登録コードは一度だけ使えます。",
                "Enter the registration code your administrator gave you. It works once.",
            ),
            LoginText::RegistrationCode => ("登録コード", "Registration code"),
            LoginText::RegisterCodeInvalid => (
                "登録コードが正しくないか、使用済みか、期限切れです。管理者に新しいコードを依頼してください。",
                "The registration code is wrong, used or expired. Ask your administrator for a new one.",
            ),
            LoginText::RegisterFor => ("登録するユーザー", "Registering for"),
            LoginText::RegisterHelp => (
                "空の表のマス目を、覚えやすい順にクリックしてください。クリックした順番もパスワードの一部です。",
                "Click cells of the blank table in an order you will remember. The order is part of your password.",
            ),
            LoginText::Undo => ("1つ戻す", "Undo"),
            LoginText::Clear => ("すべて消す", "Clear"),
            LoginText::CellsChosen => ("選んだマス目の数", "Cells chosen"),
            LoginText::FixedPassword => ("固定パスワード", "Fixed password"),
            LoginText::FixedHelp => (
                "毎回同じ文字列です(英数字・記号)。使わない場合は空欄にしてください(ポリシーで必須の場合を除く)。",
                "The same characters every time (letters, digits, symbols). Leave empty for none, unless policy requires one.",
            ),
            LoginText::InsertPosition => ("固定パスワードの位置", "Fixed password position"),
            LoginText::InsertHelp => (
                "何桁目の数字の後に固定パスワードを入れるか(0 = 先頭)。",
                "After how many digits the fixed password goes (0 = first).",
            ),
            LoginText::Strength => ("強度の目安", "How strong is it"),
            LoginText::StrengthSpace => ("パターンの組み合わせ数", "Possible patterns"),
            LoginText::StrengthOnline => (
                "当てずっぽうの1回の入力が当たる確率(数字部分)",
                "Chance that one blind guess is right (digits only)",
            ),
            LoginText::StrengthObserved => (
                "表と入力を盗み見られた場合、パターンが特定されるまでの平均回数",
                "Observations of table and typed answer needed to recover the pattern, on average",
            ),
            LoginText::StrengthNote => (
                "表と入力の両方を何度も見られるとパターンは推測されます。貸与端末の証明書があるため、盗まれたパターンだけではログインできません。",
                "Someone who sees both the table and what you type a few times can work out the pattern; the lent device's certificate is what makes a stolen pattern useless.",
            ),
            LoginText::RegisterButton => ("登録する", "Register"),
            LoginText::PolicyViolations => ("次の点を直してください:", "Please fix the following:"),
        }
    }
}
