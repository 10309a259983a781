//! Checks of the text fields people fill in, shared by every feature's operations.

use axum::http::StatusCode;
use time::macros::format_description;
use time::{Date, PrimitiveDateTime, Time, UtcOffset};

use super::error::{OpError, OpResult};
use super::web::ApiError;

/// A short text field: trimmed, 1 to `max` characters, no control characters.
pub fn short_text(field: &str, value: &str, max: usize) -> OpResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(OpError::Invalid(format!(
            "{field} must be 1 to {max} characters without control characters"
        )));
    }
    Ok(value.to_owned())
}

/// A note: trimmed, at most `max` characters; line breaks allowed.
pub fn note_text(field: &str, value: &str, max: usize) -> OpResult<String> {
    let value = value.trim();
    if value.chars().count() > max
        || value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(OpError::Invalid(format!(
            "{field} must be at most {max} characters"
        )));
    }
    Ok(value.to_owned())
}

/// A date field written as YYYY-MM-DD.
pub fn parse_day(field: &str, text: &str) -> Result<Date, OpError> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| OpError::Invalid(format!("{field} must be a date written as YYYY-MM-DD")))
}

/// A date on the command line (clap's value parser): YYYY-MM-DD.
pub fn date_arg(s: &str) -> Result<Date, String> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{s:?} is not a date; write it as YYYY-MM-DD"))
}

/// The first millisecond of day `text` (YYYY-MM-DD) in the organisation's time zone.
pub fn day_start_ms(text: &str, offset_hours: i8, field: &str) -> Result<Option<i64>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{field} must be a date written as YYYY-MM-DD"),
        )
    })?;
    let offset = UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(UtcOffset::UTC);
    let start = PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(offset);
    Ok(Some(start.unix_timestamp() * 1000))
}
