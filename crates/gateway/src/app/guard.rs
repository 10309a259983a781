//! Deny by default: every route is registered with the [`Access`] it needs, and one guard
//! enforces it before the handler runs. A route that states nothing cannot be registered.
//!
//! The guard also resolves the caller's session (cookie `hoshu_session` or `Authorization:
//! Bearer`), applies idle and absolute expiry, hands out the CSRF token for forms, and refuses
//! cross-origin unsafe requests.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hoshu_domain::Role;
use hoshu_storage::User;
use subtle::ConstantTimeEq;

use super::error::{CrossSite, Problem, Refused};
use crate::app::state::{AppState, unix_now};
use crate::app::web::{ApiError, cookie, set_cookie};
use crate::login::{new_token, token_hash};
use crate::ui::i18n::Lang;

pub const SESSION_COOKIE: &str = "hoshu_session";
/// `__Host-`: the browser keeps it only if it is Secure, for this host alone, with Path=/, so no
/// other site or subdomain can plant one (RFC 6265bis §4.1.3.2).
pub const CSRF_COOKIE: &str = "__Host-hoshu_csrf";

/// What a route requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not (login, registration, static files).
    Public,
    /// Any logged-in user.
    Authenticated,
    /// A logged-in user with one of these roles.
    Roles(&'static [Role]),
    /// No browser session: the handler requires the client certificate of an enrolled, not
    /// revoked device (mTLS, DESIGN §6) and refuses with 403 without one.
    Device,
}

impl Access {
    fn allows(self, viewer: Option<&Viewer>) -> Result<(), Refused> {
        match (self, viewer) {
            (Access::Public | Access::Device, _) => Ok(()),
            (_, None) => Err(Refused::NotLoggedIn),
            (Access::Authenticated, Some(_)) => Ok(()),
            (Access::Roles(roles), Some(v)) if roles.contains(&v.user.role) => Ok(()),
            (Access::Roles(_), Some(_)) => Err(Refused::Role),
        }
    }
}

/// The logged-in caller. Present in a handler only on routes that require a login.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: User,
    pub token_hash: [u8; 32],
}

/// The caller, if logged in; on every route.
#[derive(Debug, Clone)]
pub struct MaybeViewer(pub Option<Viewer>);

/// The CSRF token to put in forms (double-submit: it must equal the `__Host-hoshu_csrf` cookie).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// Constant-time check of a submitted form token.
    pub fn matches(&self, submitted: &str) -> bool {
        !self.0.is_empty() && bool::from(self.0.as_bytes().ct_eq(submitted.as_bytes()))
    }
}

/// The address the request came from (the TCP peer).
#[derive(Debug, Clone, Copy)]
pub struct Source(pub Option<SocketAddr>);

impl Source {
    pub fn ip_string(self) -> Option<String> {
        self.0.map(|a| a.ip().to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_owned());
    }
    cookie(headers, SESSION_COOKIE)
}

/// Unsafe methods must come from our own pages: a browser sends `Origin` on them, and it must
/// name the host the request was sent to — the `Host` header in HTTP/1.1, the `:authority` (URI)
/// in HTTP/2. (API clients without `Origin` use a bearer token.)
fn cross_origin(method: &Method, uri: &Uri, headers: &HeaderMap) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) && foreign_origin(uri, headers)
}

/// The request carries an `Origin` that is not this gateway. WebSocket upgrades (GET, not
/// covered by CORS) check this too.
pub fn foreign_origin(uri: &Uri, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
        .unwrap_or("");
    origin != format!("https://{host}")
}

/// Looks up the session behind a token and applies idle and absolute expiry.
async fn resolve(state: &AppState, token: &str) -> Result<Option<Viewer>, ApiError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let hash = token_hash(token);
    let Some(session) = state.store.session(&hash).await? else {
        return Ok(None);
    };
    let now = unix_now();
    let idle = state.config.session.idle_minutes * 60;
    if now >= session.expires_at || now - session.last_seen >= idle {
        state.store.end_session(&hash).await?;
        return Ok(None);
    }
    let Some(user) = state.store.user(session.user).await? else {
        return Ok(None);
    };
    if user.admin_locked {
        state.store.end_session(&hash).await?;
        return Ok(None);
    }
    // Coarse last-seen updates: idle expiry needs minutes, not every request's write.
    if now - session.last_seen >= 15 {
        state.store.touch_session(&hash, now).await?;
    }
    Ok(Some(Viewer {
        user,
        token_hash: hash,
    }))
}

/// The one guard every route passes through; see the module documentation.
pub async fn guard(
    State((state, access)): State<(AppState, Access)>,
    mut request: Request,
    next: Next,
) -> Response {
    let api = is_api(request.uri().path());
    let lang = Lang::from_headers(request.headers());
    if cross_origin(request.method(), request.uri(), request.headers()) {
        return refuse(api, lang, &CrossSite);
    }
    let token = presented_token(request.headers());
    let viewer = match &token {
        Some(token) => match resolve(&state, token).await {
            Ok(viewer) => viewer,
            Err(err) => return err.into_response(),
        },
        None => None,
    };
    if let Err(refused) = access.allows(viewer.as_ref()) {
        let mut response = refuse(api, lang, &refused);
        if token.is_some() && viewer.is_none() {
            // The session is gone (expired, ended or locked): drop the stale cookie too.
            response
                .headers_mut()
                .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
        }
        return response;
    }
    let existing_csrf = cookie(request.headers(), CSRF_COOKIE).filter(|c| c.len() == 43);
    let csrf = existing_csrf.clone().unwrap_or_else(new_token);
    request.extensions_mut().insert(CsrfToken(csrf.clone()));
    if let Some(viewer) = &viewer {
        request.extensions_mut().insert(viewer.clone());
    }
    request.extensions_mut().insert(MaybeViewer(viewer));
    let mut response = next.run(request).await;
    let handler_set_csrf = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| {
            v.as_bytes()
                .starts_with(format!("{CSRF_COOKIE}=").as_bytes())
        });
    if existing_csrf.is_none() && !handler_set_csrf {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(CSRF_COOKIE, &csrf, None));
    }
    response
}

/// A new CSRF token's cookie (at login: the token changes with the session).
pub fn fresh_csrf_cookie() -> axum::http::HeaderValue {
    set_cookie(CSRF_COOKIE, &new_token(), None)
}

fn refuse(api: bool, lang: Lang, problem: &dyn Problem) -> Response {
    if api {
        return ApiError::of(problem).into_response();
    }
    match problem.status() {
        StatusCode::UNAUTHORIZED => Redirect::to("/login").into_response(),
        status => crate::ui::problem_page(lang, status, &problem.message(lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_cross_origin_requests_are_spotted() {
        let path: Uri = "/login".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8443".parse().unwrap());
        assert!(!cross_origin(&Method::POST, &path, &headers));
        headers.insert(header::ORIGIN, "https://127.0.0.1:8443".parse().unwrap());
        assert!(!cross_origin(&Method::POST, &path, &headers));
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(cross_origin(&Method::POST, &path, &headers));
        assert!(!cross_origin(&Method::GET, &path, &headers));
        // HTTP/2: no Host header, the authority is in the URI.
        let h2: Uri = "https://127.0.0.1:8443/login".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, "https://127.0.0.1:8443".parse().unwrap());
        assert!(!cross_origin(&Method::POST, &h2, &headers));
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(cross_origin(&Method::POST, &h2, &headers));
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        let token = CsrfToken("abc".into());
        assert!(token.matches("abc"));
        assert!(!token.matches("abd"));
        assert!(!token.matches(""));
        assert!(!CsrfToken(String::new()).matches(""));
    }
}
