//! Checks of the fields people fill in, shared by every feature's operations: each refusal
//! names the field in the reader's language.

use axum::http::StatusCode;
use time::macros::format_description;
use time::{Date, PrimitiveDateTime, Time, UtcOffset};

use super::error::{OpResult, Problem};
use crate::ui::i18n::Lang;

/// A field of a form or request, by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    VendorName,
    Contacts,
    SystemsUsed,
    Tools,
    Frequency,
    Note,
    SystemName,
    Description,
    ContractTitle,
    ValidFrom,
    ValidUntil,
    FileName,
    Reason,
    Purpose,
    Comment,
    WorkStart,
    WorkEnd,
    Name,
    LentUntil,
    /// A filter's first day.
    From,
    /// A filter's last day.
    Until,
}

impl Field {
    /// The field's name in `lang`, as a sentence starts with it.
    pub fn name(self, lang: Lang) -> &'static str {
        let (ja, en) = match self {
            Field::VendorName => ("保守業者名", "the vendor name"),
            Field::Contacts => ("連絡先", "contacts"),
            Field::SystemsUsed => ("対象システム", "each system"),
            Field::Tools => ("使用ツール", "tools"),
            Field::Frequency => ("作業頻度", "frequency"),
            Field::Note => ("メモ", "the note"),
            Field::SystemName => ("業務システム名", "the system name"),
            Field::Description => ("説明", "the description"),
            Field::ContractTitle => ("契約名", "the contract title"),
            Field::ValidFrom => ("開始日", "valid_from"),
            Field::ValidUntil => ("終了日", "valid_until"),
            Field::FileName => ("ファイル名", "the file name"),
            Field::Reason => ("理由", "the reason"),
            Field::Purpose => ("作業目的", "the purpose"),
            Field::Comment => ("コメント", "the comment"),
            Field::WorkStart => ("開始日時", "the start"),
            Field::WorkEnd => ("終了日時", "the end"),
            Field::Name => ("氏名", "the name"),
            Field::LentUntil => ("貸与期限", "until"),
            Field::From => ("開始日", "from"),
            Field::Until => ("終了日", "until"),
        };
        match lang {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    /// Empty, longer than `max` characters, or with control characters.
    ShortText { field: Field, max: usize },
    /// Longer than `max` characters (line breaks allowed).
    Note { field: Field, max: usize },
    /// Not a date written as YYYY-MM-DD.
    Date { field: Field },
    /// Not a date and time.
    DateTime { field: Field },
}

impl Problem for FieldError {
    fn code(&self) -> &'static str {
        match self {
            FieldError::ShortText { .. } => "field-text",
            FieldError::Note { .. } => "field-too-long",
            FieldError::Date { .. } => "field-date",
            FieldError::DateTime { .. } => "field-date-time",
        }
    }

    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    fn message(&self, lang: Lang) -> String {
        match (*self, lang) {
            (FieldError::ShortText { field, max }, Lang::Ja) => format!(
                "{}は1〜{max}文字で、制御文字を含めずに入力してください。",
                field.name(lang)
            ),
            (FieldError::ShortText { field, max }, Lang::En) => format!(
                "{} must be 1 to {max} characters without control characters",
                field.name(lang)
            ),
            (FieldError::Note { field, max }, Lang::Ja) => {
                format!("{}は{max}文字以内で入力してください。", field.name(lang))
            }
            (FieldError::Note { field, max }, Lang::En) => {
                format!("{} must be at most {max} characters", field.name(lang))
            }
            (FieldError::Date { field }, Lang::Ja) => {
                format!("{}は日付(YYYY-MM-DD)で入力してください。", field.name(lang))
            }
            (FieldError::Date { field }, Lang::En) => {
                format!("{} must be a date written as YYYY-MM-DD", field.name(lang))
            }
            (FieldError::DateTime { field }, Lang::Ja) => {
                format!("{}は日付と時刻で入力してください。", field.name(lang))
            }
            (FieldError::DateTime { field }, Lang::En) => {
                format!("{} must be a date and time", field.name(lang))
            }
        }
    }
}

/// A short text field: trimmed, 1 to `max` characters, no control characters.
pub fn short_text(field: Field, value: &str, max: usize) -> OpResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(FieldError::ShortText { field, max }.into());
    }
    Ok(value.to_owned())
}

/// A note: trimmed, at most `max` characters; line breaks allowed.
pub fn note_text(field: Field, value: &str, max: usize) -> OpResult<String> {
    let value = value.trim();
    if value.chars().count() > max
        || value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(FieldError::Note { field, max }.into());
    }
    Ok(value.to_owned())
}

/// A date field written as YYYY-MM-DD.
pub fn parse_day(field: Field, text: &str) -> OpResult<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| FieldError::Date { field }.into())
}

/// A date and time from a form's `datetime-local` field, in the organisation's time zone.
pub fn local_time(field: Field, text: &str, offset_hours: i8) -> OpResult<i64> {
    let parsed = PrimitiveDateTime::parse(
        text.trim(),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    )
    .map_err(|_| FieldError::DateTime { field })?;
    let offset = UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(UtcOffset::UTC);
    Ok(parsed.assume_offset(offset).unix_timestamp())
}

/// A date on the command line (clap's value parser): YYYY-MM-DD.
pub fn date_arg(s: &str) -> Result<Date, String> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{s:?} is not a date; write it as YYYY-MM-DD"))
}

/// The first millisecond of day `text` (YYYY-MM-DD) in the organisation's time zone; `None`
/// for an empty field (no filter).
pub fn day_start_ms(text: &str, offset_hours: i8, field: Field) -> OpResult<Option<i64>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = parse_day(field, text)?;
    let offset = UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(UtcOffset::UTC);
    let start = PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(offset);
    Ok(Some(start.unix_timestamp() * 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_are_trimmed_and_bounded() {
        assert_eq!(
            short_text(Field::Name, "  保守  ", 10).ok().as_deref(),
            Some("保守")
        );
        assert!(short_text(Field::Name, "   ", 10).is_err());
        assert!(short_text(Field::Name, "a\nb", 10).is_err());
        assert!(short_text(Field::Name, &"a".repeat(11), 10).is_err());
        assert!(note_text(Field::Note, "line one\nline two", 100).is_ok());
    }

    #[test]
    fn a_refused_field_is_named_in_both_languages() {
        let err = short_text(Field::ContractTitle, "", 200).unwrap_err();
        assert_eq!(err.code(), "field-text");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert!(err.message(Lang::Ja).starts_with("契約名は1〜200文字"));
        assert!(
            err.message(Lang::En)
                .starts_with("the contract title must be")
        );
        let err = parse_day(Field::ValidFrom, "31/12/2026").unwrap_err();
        assert!(err.message(Lang::En).contains("YYYY-MM-DD"));
        assert_eq!(
            day_start_ms("2026-12-07", 9, Field::From).ok().flatten(),
            Some(time::macros::datetime!(2026-12-07 00:00 +9).unix_timestamp() * 1000)
        );
        assert_eq!(day_start_ms(" ", 9, Field::From).ok().flatten(), None);
    }
}
