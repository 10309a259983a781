//! Server-rendered HTML pages (maud). Japanese by default, English by choice; no inline script
//! or style, so the Content-Security-Policy can forbid both.

pub mod i18n;

use axum::extract::{FromRequest, Path, Query, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::app::error::Missing;
use crate::app::error::OpError;
use crate::app::guard::{CsrfToken, MaybeViewer, Viewer};
use crate::app::web::{ApiError, percent_encode, set_cookie};
use crate::ui::i18n::{LANG_COOKIE, Lang, T};

/// A time for people, in the organisation's time zone with the offset named.
pub fn format_at(secs: i64, offset_hours: i8) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC[offset_hour sign:mandatory]"
    );
    let offset = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.to_offset(offset).format(&format).ok())
        .unwrap_or_else(|| "?".to_owned())
}

/// Everything a page needs besides its own content.
#[derive(Debug)]
pub struct Frame<'a> {
    pub lang: Lang,
    pub title: &'a str,
    pub viewer: Option<&'a Viewer>,
    pub csrf: &'a str,
    /// Where the language switch should come back to.
    pub here: &'a str,
}

pub fn page(frame: &Frame<'_>, body: Markup) -> Response {
    let lang = frame.lang;
    let other = match lang {
        Lang::Ja => Lang::En,
        Lang::En => Lang::Ja,
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " — Hoshu" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                header.top {
                    a.brand href="/" { "Hoshu " span.kanji { "保守" } }
                    nav {
                        a id="lang-switch" href={ "/lang/" (other.code()) "?next=" (percent_encode(frame.here)) } hreflang=(other.code()) {
                            (lang.t(T::Language))
                        }
                        @if let Some(viewer) = frame.viewer {
                            span.who { (viewer.user.name) " (" (viewer.user.login) ")" }
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(frame.csrf);
                                button id="logout" type="submit" { (lang.t(T::LogOut)) }
                            }
                        }
                    }
                }
                main { (body) }
                footer { (lang.t(T::Product)) }
            }
        }
    };
    Html(markup.into_string()).into_response()
}

pub fn error_page(lang: Lang, status: StatusCode, text: T) -> Response {
    problem_page(lang, status, lang.t(text))
}

/// A page that says what went wrong (`message`, in `lang`) with the status as its heading.
pub fn problem_page(lang: Lang, status: StatusCode, message: &str) -> Response {
    let frame = Frame {
        lang,
        title: message,
        viewer: None,
        csrf: "",
        here: "/",
    };
    let body = html! {
        section.card {
            h1 { (status.as_u16()) }
            p.error #problem role="alert" { (message) }
            p { a href="/" { "Hoshu" } }
        }
    };
    (status, page(&frame, body)).into_response()
}

pub async fn not_found(lang: Lang, request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        return ApiError::from(Missing::Endpoint).into_response();
    }
    error_page(lang, StatusCode::NOT_FOUND, T::NotFound)
}

/// A form whose `csrf` field must match the caller's CSRF cookie; anything else is refused
/// before the handler sees it.
#[derive(Debug)]
pub struct CsrfForm<F>(pub F);

#[derive(Deserialize)]
struct WithCsrf<F> {
    /// A missing field is an empty token, which never matches: refused like a wrong one (403).
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: F,
}

impl<F, S> FromRequest<S> for CsrfForm<F>
where
    F: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_headers(request.headers());
        let token = request.extensions().get::<CsrfToken>().cloned();
        let Form(form) = Form::<WithCsrf<F>>::from_request(request, state)
            .await
            .map_err(|_| error_page(lang, StatusCode::BAD_REQUEST, T::BadRequest))?;
        match token {
            Some(token) if token.matches(&form.csrf) => Ok(CsrfForm(form.fields)),
            _ => Err(error_page(lang, StatusCode::FORBIDDEN, T::BadRequest)),
        }
    }
}

/// Strength figures as shown to people, formatted once here for the page and its script.
pub fn strength_json(strength: &hoshu_otp::Strength) -> serde_json::Value {
    let power = |log10: f64| {
        if !log10.is_finite() {
            return "0".to_owned();
        }
        let exponent = log10.floor();
        let mantissa = 10f64.powf(log10 - exponent);
        format!("{mantissa:.1} × 10^{exponent}")
    };
    let unique_after: Vec<serde_json::Value> = strength
        .unique_probability_after
        .iter()
        .map(|(n, p)| serde_json::json!({ "observations": n, "percent": (p * 1000.0).round() / 10.0 }))
        .collect();
    serde_json::json!({
        "cells": strength.cells,
        "pattern_space": power(strength.pattern_space_log10),
        "online_guess": format!("1 / 10^{}", strength.cells),
        "expected_observations": format!("{:.1}", strength.expected_observations_to_recover),
        "median_candidates_after_two": strength.median_candidates_after_two,
        "unique_after": unique_after,
    })
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    next: Option<String>,
}

/// Whether `next` (already percent-decoded) is a path of this gateway to go back to, and
/// nothing a browser could read as another site: a single leading `/`, no backslash (browsers
/// read `/\host` as `//host`), and only visible ASCII — a tab or a line break is dropped by the
/// browser (`/\t/host` becomes `//host`) and would break the `Location` header.
fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

/// `/lang/{ja|en}?next=/path`: remembers the choice in a cookie and goes back.
pub async fn set_language(Path(code): Path<String>, Query(query): Query<LangQuery>) -> Response {
    let Some(lang) = Lang::from_code(&code) else {
        return error_page(Lang::Ja, StatusCode::NOT_FOUND, T::NotFound);
    };
    let next = query
        .next
        .filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/".to_owned());
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(LANG_COOKIE, lang.code(), Some(365 * 24 * 3600)),
    );
    response
}

const STYLE_CSS: &str = include_str!("../../assets/style.css");
const REGISTER_JS: &str = include_str!("../../assets/register.js");
const SESSION_JS: &str = include_str!("../../assets/session.js");
const PLAYER_JS: &str = include_str!("../../assets/player.js");
const WATCH_JS: &str = include_str!("../../assets/watch.js");
const LIVE_JS: &str = include_str!("../../assets/live.js");
const TERMINAL_JS: &str = include_str!("../../assets/terminal.js");
const WATERMARK_JS: &str = include_str!("../../assets/watermark.js");
const CAST_PLAYER_JS: &str = include_str!("../../assets/cast-player.js");
/// guacamole-common-js 1.5.0 (Apache-2.0), embedded by build.rs from web/node_modules.
const GUACAMOLE_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/guacamole-common.js"));
/// @xterm/xterm 6 and @xterm/addon-fit (MIT), the terminal of SSH sessions.
const XTERM_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/xterm.mjs"));
const XTERM_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/xterm.css"));
const ADDON_FIT_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/addon-fit.mjs"));
/// asciinema-player 3 (Apache-2.0), the player of SSH recordings.
const ASCIINEMA_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/asciinema-player.min.js"));
const ASCIINEMA_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/asciinema-player.css"));

/// The few static files, embedded in the binary.
pub async fn static_file(Path(name): Path<String>) -> Response {
    let (body, content_type) = match name.as_str() {
        "style.css" => (STYLE_CSS, "text/css; charset=utf-8"),
        "register.js" => (REGISTER_JS, "text/javascript; charset=utf-8"),
        "session.js" => (SESSION_JS, "text/javascript; charset=utf-8"),
        "player.js" => (PLAYER_JS, "text/javascript; charset=utf-8"),
        "watch.js" => (WATCH_JS, "text/javascript; charset=utf-8"),
        "live.js" => (LIVE_JS, "text/javascript; charset=utf-8"),
        "guacamole-common.js" => (GUACAMOLE_JS, "text/javascript; charset=utf-8"),
        "terminal.js" => (TERMINAL_JS, "text/javascript; charset=utf-8"),
        "watermark.js" => (WATERMARK_JS, "text/javascript; charset=utf-8"),
        "cast-player.js" => (CAST_PLAYER_JS, "text/javascript; charset=utf-8"),
        "xterm.mjs" => (XTERM_JS, "text/javascript; charset=utf-8"),
        "xterm.css" => (XTERM_CSS, "text/css; charset=utf-8"),
        "addon-fit.mjs" => (ADDON_FIT_JS, "text/javascript; charset=utf-8"),
        "asciinema-player.min.js" => (ASCIINEMA_JS, "text/javascript; charset=utf-8"),
        "asciinema-player.css" => (ASCIINEMA_CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// The four 4×4 blocks of the matrix, in their colours (DESIGN §4 cell numbering). `cell`
/// renders one cell's content.
pub fn matrix_grid(id: &str, cell: impl Fn(u8) -> Markup) -> Markup {
    html! {
        div.matrix id=(id) {
            @for block in 0..4u8 {
                table class={ "block b" (block) } {
                    @for row in 0..4u8 {
                        tr {
                            @for col in 0..4u8 {
                                (cell(block * 16 + row * 4 + col))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Common extractors of every page handler, in one place.
pub type PageViewer = Extension<MaybeViewer>;
pub type PageCsrf = Extension<CsrfToken>;

/// A page that says what went wrong with a form, in the reader's language, with a way back.
pub fn op_error_page(lang: Lang, viewer: &Viewer, back: &str, err: OpError) -> Response {
    if let OpError::Storage(e) = &err {
        tracing::error!(error = %e, "Form failed");
    }
    let message = err.message(lang);
    let frame = Frame {
        lang,
        title: lang.t(T::BadRequest),
        viewer: Some(viewer),
        csrf: "",
        here: back,
    };
    let body = html! {
        section.card {
            p.error #form-error role="alert" data-code=(err.code()) { (message) }
            p { a href=(back) { "← " (lang.t(T::BackToPortal)) } }
        }
    };
    (err.status(), page(&frame, body)).into_response()
}

/// After a form: back to the page it came from, or a page saying what went wrong.
pub fn done(lang: Lang, viewer: &Viewer, back: &str, result: Result<(), OpError>) -> Response {
    match result {
        Ok(()) => Redirect::to(back).into_response(),
        Err(err) => op_error_page(lang, viewer, back, err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_gateways_paths_are_gone_back_to() {
        for ok in ["/", "/sessions?state=ended&user=a", "/admin/vendors/3"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for evil in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/login\r\nSet-Cookie: x=1",
            "https://evil.example",
            "evil",
            "/セッション",
            "",
        ] {
            assert!(!is_local_path(evil), "{evil:?}");
        }
    }
}
