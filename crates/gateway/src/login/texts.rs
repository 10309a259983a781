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
