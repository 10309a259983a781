//! HTTP plumbing shared by the JSON API and the pages: cookies, errors, security headers.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{Internal, OpError, Problem};
use crate::ui::i18n::Lang;

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value with the attributes every Hoshu cookie has: only over HTTPS, never to
/// scripts, never on cross-site requests.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age_secs {
        text.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&text).expect("cookie names and values are ASCII tokens made here")
}

/// Percent-encoding of everything but RFC 3986's unreserved characters: for query strings and
/// RFC 5987 file names (UTF-8, so Japanese names survive).
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An error answered as JSON (DESIGN §10): `{"error": English, "error_ja": Japanese, "code"}`,
/// plus what a route adds (`reason`, `violations` …).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub message_ja: String,
    /// More fields of the body.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    /// The answer to a refusal.
    pub fn of(problem: &dyn Problem) -> Self {
        ApiError {
            status: problem.status(),
            code: problem.code(),
            message: problem.message(Lang::En),
            message_ja: problem.message(Lang::Ja),
            extra: serde_json::Map::new(),
        }
    }

    /// The gateway itself failed: the detail goes to the log only; callers see a message that
    /// says what to do.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "Request failed");
        ApiError::of(&Internal)
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.message_ja,
            Lang::En => &self.message,
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// The code of the body, when it is more specific than the summary's.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }
}

/// What an error response says, kept with it so a page route answers with a page
/// ([`problems_as_pages`]) instead of JSON.
#[derive(Debug, Clone)]
struct ProblemText {
    en: String,
    ja: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let text = ProblemText {
            en: self.message.clone(),
            ja: self.message_ja.clone(),
        };
        let mut body = self.extra;
        body.insert("error".to_owned(), self.message.into());
        body.insert("error_ja".to_owned(), self.message_ja.into());
        body.insert("code".to_owned(), self.code.into());
        let mut response = (self.status, Json(serde_json::Value::Object(body))).into_response();
        response.extensions_mut().insert(text);
        response
    }
}

impl<P: Problem> From<P> for ApiError {
    fn from(problem: P) -> Self {
        ApiError::of(&problem)
    }
}

impl From<OpError> for ApiError {
    fn from(err: OpError) -> Self {
        match err {
            OpError::Refused(problem) => ApiError::of(problem.as_ref()),
            OpError::Storage(e) => ApiError::internal(e),
        }
    }
}

impl From<hoshu_storage::StorageError> for ApiError {
    fn from(err: hoshu_storage::StorageError) -> Self {
        ApiError::from(OpError::from(err))
    }
}

/// Errors answer in the kind of their route: a failure on a page (a database error, a refusal a
/// page handler passes on) is an error page in the reader's language, never the API's JSON; a
/// refusal the framework makes on an API route (a body that is not the JSON asked for, a
/// missing WebSocket upgrade) is the API's JSON, never plain text.
pub async fn problems_as_pages(request: Request, next: Next) -> Response {
    let page = !request.uri().path().starts_with("/api/");
    let lang = Lang::from_headers(request.headers());
    let response = next.run(request).await;
    let status = response.status();
    if let Some(text) = response.extensions().get::<ProblemText>() {
        if !page {
            return response;
        }
        let message = match lang {
            Lang::Ja => &text.ja,
            Lang::En => &text.en,
        };
        return crate::ui::problem_page(lang, status, message);
    }
    let plain_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if page || !(status.is_client_error() || status.is_server_error()) || !plain_text {
        return response;
    }
    let detail = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let mut answer = ApiError::of(&super::error::Malformed { detail });
    answer.status = status;
    answer.into_response()
}

/// Content-Security-Policy for every response: only our own scripts and styles, no framing, no
/// plugins, forms post only to us.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The terminal page: xterm.js sizes its cells with `<style>` elements it creates, which
/// `style-src 'self'` refuses. Scripts stay our own.
pub const TERMINAL_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The terminal recording player: asciinema-player runs its terminal emulator as WebAssembly
/// (compiling it needs 'wasm-unsafe-eval', which allows no JavaScript eval) and styles like
/// xterm.js does.
pub const CAST_PLAYER_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
     script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A page that needs a wider policy (above) sets its own; every other response gets the
    // strict one.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    let fixed = [
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Not "no-referrer": with it Chromium sends `Origin: null` on same-site form posts, which
        // the same-origin check in `access` must refuse.
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; hoshu_session=xyz"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, "hoshu_session").as_deref(), Some("xyz"));
        assert_eq!(cookie(&headers, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&headers, "hoshu"), None);
    }
}
