//! Registration: a one-time code → clicking cells in order on a blank table, choosing the fixed
//! password and its position, seeing the strength figures → one real login to confirm.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::app::guard::Source;
use crate::app::state::AppState;
use crate::app::throttle::admit;
use crate::app::web::ApiError;
use crate::login::texts::LoginText;
use crate::login::{self, RegisterError};
use crate::ui::i18n::Lang;
use crate::ui::{CsrfForm, Frame, PageCsrf, matrix_grid, page};

fn code_page(lang: Lang, csrf: &str, status: StatusCode, error: Option<LoginText>) -> Response {
    let frame = Frame {
        lang,
        title: lang.t(LoginText::RegisterTitle),
        viewer: None,
        csrf,
        here: "/register",
    };
    let body = html! {
        section.card {
            h1 { (lang.t(LoginText::RegisterTitle)) }
            p.lead { (lang.t(LoginText::RegisterCodeHelp)) }
            @if let Some(error) = error { p.error #error role="alert" { (lang.t(error)) } }
            form #code-form method="post" action="/register/start" {
                input type="hidden" name="csrf" value=(csrf);
                label for="code" { (lang.t(LoginText::RegistrationCode)) }
                input #code type="text" name="code" required autofocus autocomplete="off"
                    maxlength="64" spellcheck="false";
                button #next type="submit" { (lang.t(LoginText::Next)) }
            }
        }
    };
    (status, page(&frame, body)).into_response()
}

pub async fn register_form(lang: Lang, Extension(csrf): PageCsrf) -> Response {
    code_page(lang, &csrf.0, StatusCode::OK, None)
}

struct PatternPage<'a> {
    code: &'a str,
    login: &'a str,
    violations: Vec<String>,
}

fn pattern_page(state: &AppState, lang: Lang, csrf: &str, p: &PatternPage<'_>) -> Response {
    let policy = &state.config.otp;
    let frame = Frame {
        lang,
        title: lang.t(LoginText::RegisterTitle),
        viewer: None,
        csrf,
        here: "/register",
    };
    let cell = |i: u8| -> Markup {
        html! { td { button.cell type="button" data-cell=(i) aria-label={ "cell " (i) } {} } }
    };
    let body = html! {
        section.card.wide {
            h1 { (lang.t(LoginText::RegisterTitle)) }
            p.who { (lang.t(LoginText::RegisterFor)) ": " strong #register-login { (p.login) } }
            p.lead { (lang.t(LoginText::RegisterHelp)) }
            @if !p.violations.is_empty() {
                div.error #violations role="alert" {
                    p { (lang.t(LoginText::PolicyViolations)) }
                    ul { @for v in &p.violations { li { (v) } } }
                }
            }
            (matrix_grid("pattern-grid", cell))
            p.controls {
                (lang.t(LoginText::CellsChosen)) ": " strong #cell-count { "0" }
                " (" (policy.min_cells) "–" (policy.max_cells) ") "
                button #undo type="button" { (lang.t(LoginText::Undo)) }
                button #clear type="button" { (lang.t(LoginText::Clear)) }
            }
            ul.error #live-violations aria-live="polite" {}
            form #register-form method="post" action="/register"
                data-min-cells=(policy.min_cells) data-max-cells=(policy.max_cells)
                data-allow-repeats=(policy.allow_repeats) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="code" value=(p.code);
                input #cells type="hidden" name="cells" value="";
                label for="fixed" { (lang.t(LoginText::FixedPassword)) }
                input #fixed type="password" name="fixed" autocomplete="new-password"
                    maxlength=(hoshu_otp::MAX_FIXED_LEN);
                p.hint { (lang.t(LoginText::FixedHelp)) }
                label for="insert" { (lang.t(LoginText::InsertPosition)) }
                input #insert type="number" name="insert" min="0" max="0" value="0";
                p.hint { (lang.t(LoginText::InsertHelp)) }
                section.strength #strength {
                    h2 { (lang.t(LoginText::Strength)) }
                    dl {
                        dt { (lang.t(LoginText::StrengthSpace)) } dd #s-space { "—" }
                        dt { (lang.t(LoginText::StrengthOnline)) } dd #s-online { "—" }
                        dt { (lang.t(LoginText::StrengthObserved)) } dd #s-observed { "—" }
                    }
                    p.hint { (lang.t(LoginText::StrengthNote)) }
                }
                button #register type="submit" { (lang.t(LoginText::RegisterButton)) }
            }
        }
        script src="/static/register.js" {}
    };
    page(&frame, body)
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    code: String,
}

pub async fn register_start(
    State(state): State<AppState>,
    lang: Lang,
    source: Source,
    Extension(csrf): PageCsrf,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, ApiError> {
    if admit(&state, source).is_err() {
        return Ok(code_page(
            lang,
            &csrf.0,
            StatusCode::TOO_MANY_REQUESTS,
            Some(LoginText::TooManyRequests),
        ));
    }
    let Some(owner) = login::registration_code_owner(&state, &form.code).await? else {
        return Ok(code_page(
            lang,
            &csrf.0,
            StatusCode::BAD_REQUEST,
            Some(LoginText::RegisterCodeInvalid),
        ));
    };
    let p = PatternPage {
        code: form.code.trim(),
        login: &owner.login,
        violations: Vec::new(),
    };
    Ok(pattern_page(&state, lang, &csrf.0, &p))
}

#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    code: String,
    cells: String,
    fixed: String,
    insert: String,
}

pub async fn register_submit(
    State(state): State<AppState>,
    lang: Lang,
    source: Source,
    Extension(csrf): PageCsrf,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> Result<Response, ApiError> {
    if admit(&state, source).is_err() {
        return Ok(code_page(
            lang,
            &csrf.0,
            StatusCode::TOO_MANY_REQUESTS,
            Some(LoginText::TooManyRequests),
        ));
    }
    // "3,17,42": cell numbers in the order clicked. Junk becomes an out-of-range cell, which the
    // policy check reports like any other violation.
    let cells: Vec<u8> = form
        .cells
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .take(hoshu_otp::CELLS * 4)
        .map(|s| s.trim().parse::<u8>().unwrap_or(u8::MAX))
        .collect();
    let insert = form.insert.trim().parse::<usize>().unwrap_or(usize::MAX);
    match login::register(
        &state,
        &form.code,
        &cells,
        &form.fixed,
        insert,
        source.ip_string(),
    )
    .await
    {
        Ok(user) => {
            let login: String = url_escape(&user.login);
            Ok(Redirect::to(&format!("/login?notice=registered&login={login}")).into_response())
        }
        Err(RegisterError::BadCode) => Ok(code_page(
            lang,
            &csrf.0,
            StatusCode::BAD_REQUEST,
            Some(LoginText::RegisterCodeInvalid),
        )),
        Err(RegisterError::Violations(violations)) => {
            let owner = login::registration_code_owner(&state, &form.code).await?;
            let login = owner.map(|u| u.login).unwrap_or_default();
            let p = PatternPage {
                code: form.code.trim(),
                login: &login,
                violations: violations.iter().map(|v| lang.violation(v)).collect(),
            };
            Ok((
                StatusCode::BAD_REQUEST,
                pattern_page(&state, lang, &csrf.0, &p),
            )
                .into_response())
        }
        Err(err) => Err(ApiError::internal(err)),
    }
}

/// Percent-encodes a login ID for a query string.
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
