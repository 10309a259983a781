//! Login pages: login ID → matrix → answer.

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::app::guard::Source;
use crate::app::state::AppState;
use crate::app::throttle::admit;
use crate::login::login_cookies;
use crate::login::texts::LoginText;
use crate::login::{self, LoginError};
use crate::ui::i18n::{Lang, T};
use crate::ui::{CsrfForm, Frame, PageCsrf, PageViewer, matrix_grid, page};

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    login: Option<String>,
    notice: Option<String>,
}

fn login_page(
    lang: Lang,
    csrf: &str,
    login: &str,
    notice: Option<LoginText>,
    error: Option<LoginText>,
) -> Response {
    let frame = Frame {
        lang,
        title: lang.t(LoginText::LoginTitle),
        viewer: None,
        csrf,
        here: "/login",
    };
    let body = html! {
        section.card {
            h1 { (lang.t(LoginText::LoginTitle)) }
            p.lead { (lang.t(LoginText::Tagline)) }
            @if let Some(notice) = notice { p.notice #notice { (lang.t(notice)) } }
            @if let Some(error) = error { p.error #error role="alert" { (lang.t(error)) } }
            form #login-form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                label for="login" { (lang.t(T::LoginId)) }
                input #login type="text" name="login" value=(login) required autofocus
                    autocomplete="username" maxlength=(login::MAX_LOGIN_LEN);
                button #next type="submit" { (lang.t(LoginText::Next)) }
            }
            p.aside { a href="/register" { (lang.t(LoginText::Register)) } }
        }
    };
    page(&frame, body)
}

pub async fn login_form(
    lang: Lang,
    Extension(viewer): PageViewer,
    Extension(csrf): PageCsrf,
    Query(query): Query<LoginQuery>,
) -> Response {
    if viewer.0.is_some() {
        return Redirect::to("/").into_response();
    }
    let notice = match query.notice.as_deref() {
        Some("registered") => Some(LoginText::RegisteredConfirm),
        Some("logged_out") => Some(LoginText::LoggedOut),
        _ => None,
    };
    let login = query.login.unwrap_or_default();
    login_page(lang, &csrf.0, &login, notice, None)
}

#[derive(Debug, Deserialize)]
pub struct LoginStart {
    login: String,
}

pub async fn login_start(
    State(state): State<AppState>,
    lang: Lang,
    source: Source,
    Extension(csrf): PageCsrf,
    CsrfForm(form): CsrfForm<LoginStart>,
) -> Response {
    if admit(&state, source).is_err() {
        let page = login_page(
            lang,
            &csrf.0,
            &form.login,
            None,
            Some(LoginText::TooManyRequests),
        );
        return (StatusCode::TOO_MANY_REQUESTS, page).into_response();
    }
    let issued = match login::issue_challenge(&state, &form.login, source.ip_string()).await {
        Ok(issued) => issued,
        Err(LoginError::BadLogin | LoginError::Failed) => {
            return login_page(lang, &csrf.0, "", None, Some(LoginText::LoginFailed));
        }
        Err(LoginError::Storage(e)) => {
            return crate::app::web::ApiError::internal(e).into_response();
        }
    };
    let digits = issued.matrix.digits();
    let frame = Frame {
        lang,
        title: lang.t(LoginText::MatrixTitle),
        viewer: None,
        csrf: &csrf.0,
        here: "/login",
    };
    let cell = |i: u8| -> Markup {
        let d = digits
            .as_bytes()
            .get(usize::from(i))
            .map_or('?', |b| *b as char);
        html! { td.cell data-cell=(i) { (d) } }
    };
    let body = html! {
        section.card.wide {
            h1 { (lang.t(LoginText::MatrixTitle)) }
            p.lead { (lang.t(LoginText::MatrixHelp)) }
            p.who { (lang.t(T::LoginId)) ": " strong #matrix-login { (form.login.trim()) } }
            (matrix_grid("matrix", cell))
            p.expires { (lang.t(LoginText::MatrixExpires)) " " strong #expires-in { (issued.expires_in) } }
            form #answer-form method="post" action="/login/answer" {
                input type="hidden" name="csrf" value=(csrf.0);
                input type="hidden" name="challenge" value=(issued.id);
                input type="hidden" name="login" value=(form.login.trim());
                label for="answer" { (lang.t(LoginText::Answer)) }
                input #answer type="password" name="answer" required autofocus
                    autocomplete="one-time-code" maxlength=(hoshu_otp::MAX_ANSWER_LEN);
                button #submit-answer type="submit" { (lang.t(LoginText::LogIn)) }
            }
            p.aside { a href="/login" { (lang.t(LoginText::StartOver)) } }
        }
    };
    page(&frame, body)
}

#[derive(Debug, Deserialize)]
pub struct LoginAnswer {
    challenge: String,
    login: String,
    answer: String,
}

pub async fn login_answer(
    State(state): State<AppState>,
    lang: Lang,
    source: Source,
    headers: HeaderMap,
    certificate: Option<Extension<crate::app::tls::ClientCertificate>>,
    Extension(csrf): PageCsrf,
    CsrfForm(form): CsrfForm<LoginAnswer>,
) -> Response {
    if admit(&state, source).is_err() {
        let page = login_page(
            lang,
            &csrf.0,
            &form.login,
            None,
            Some(LoginText::TooManyRequests),
        );
        return (StatusCode::TOO_MANY_REQUESTS, page).into_response();
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    match login::answer(
        &state,
        &form.challenge,
        &form.answer,
        source.ip_string(),
        user_agent,
        &certificate.map(|c| c.0).unwrap_or_default(),
    )
    .await
    {
        Ok(session) => {
            let mut response = Redirect::to("/").into_response();
            for cookie in login_cookies(&session) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(LoginError::Storage(e)) => crate::app::web::ApiError::internal(e).into_response(),
        Err(_) => {
            let page = login_page(
                lang,
                &csrf.0,
                form.login.trim(),
                None,
                Some(LoginText::LoginFailed),
            );
            (StatusCode::UNAUTHORIZED, page).into_response()
        }
    }
}
