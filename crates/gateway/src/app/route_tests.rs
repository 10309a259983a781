//! Walks every route with every kind of caller: deny by default must hold for each of them.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hoshu_domain::Role;
use hoshu_storage::{BrowserSession, NewUser, Store};
use tower::ServiceExt;

use crate::app::config::Config;
use crate::app::guard::{Access, CSRF_COOKIE, SESSION_COOKIE};
use crate::app::routes::{router, routes};
use crate::app::state::{AppState, unix_now};
use crate::login::{new_token, token_hash};

async fn state() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path()).await.expect("store opens");
    for role in Role::ALL {
        let vendor = (role == Role::Vendor).then_some("ACME");
        let new = NewUser {
            login: role.as_str(),
            name: role.as_str(),
            role,
            vendor,
        };
        store
            .create_user(&new, unix_now())
            .await
            .expect("user added");
    }
    let config = Config::embedded(
        dir.path().to_owned(),
        "127.0.0.1:0".parse().expect("address"),
    );
    (dir, AppState::new(store, config))
}

async fn session_for(state: &AppState, role: Role) -> String {
    let user = state
        .store
        .existing_user(role.as_str())
        .await
        .expect("user exists");
    let token = new_token();
    let now = unix_now();
    let session = BrowserSession {
        user: user.id,
        created_at: now,
        last_seen: now,
        expires_at: now + 3600,
        source: None,
    };
    state
        .store
        .create_session(&token_hash(&token), &session, None)
        .await
        .expect("session stored");
    token
}

fn concrete(path: &str) -> String {
    path.replace("{code}", "en")
        .replace("{file}", "style.css")
        .replace("{id}", "00000000-0000-4000-8000-000000000000")
        .replace("{at}", "0")
}

#[tokio::test]
async fn every_route_enforces_its_access_for_every_role() {
    let (_dir, state) = state().await;
    let app = router(state.clone());
    let csrf = new_token();
    let callers: Vec<Option<Role>> = std::iter::once(None).chain(Role::ALL.map(Some)).collect();
    for route in routes() {
        for caller in &callers {
            let mut cookies = format!("{CSRF_COOKIE}={csrf}");
            if let Some(role) = caller {
                let token = session_for(&state, *role).await;
                cookies.push_str(&format!("; {SESSION_COOKIE}={token}"));
            }
            let path = concrete(route.path);
            let api = path.starts_with("/api/");
            let mut request = Request::builder()
                .method(route.method.clone())
                .uri(&path)
                .header(header::COOKIE, cookies);
            let body = if route.method == axum::http::Method::GET {
                Body::empty()
            } else if api {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from("{}")
            } else {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(format!("csrf={csrf}"))
            };
            let response = app
                .clone()
                .oneshot(request.body(body).expect("request builds"))
                .await
                .expect("router answers");
            let status = response.status();
            let location = response.headers().get(header::LOCATION).cloned();
            let allowed = match (route.access, caller) {
                (Access::Public | Access::Device, _) => true,
                (_, None) => false,
                (Access::Authenticated, Some(_)) => true,
                (Access::Roles(roles), Some(role)) => roles.contains(role),
            };
            let what = format!("{route:?} as {caller:?}: {status}");
            if route.access == Access::Device {
                // No client certificate reaches a oneshot request: refused for everyone, a
                // logged-in administrator included.
                assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
            } else if allowed {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{what} should be allowed"
                );
            } else if caller.is_none() && api {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
            } else if caller.is_none() {
                assert_eq!(status, StatusCode::SEE_OTHER, "{what}");
                assert_eq!(
                    location.as_ref().and_then(|l| l.to_str().ok()),
                    Some("/login"),
                    "{what}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
            }
        }
    }
}

#[test]
fn only_admins_and_auditors_may_watch_live_sessions() {
    let all = routes();
    for path in ["/sessions/{id}/watch", "/api/v1/sessions/{id}/watch"] {
        let route = all
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("{path} is routed"));
        assert_eq!(
            route.access,
            Access::Roles(&[Role::Admin, Role::Auditor]),
            "{path}"
        );
    }
    // Its watchers list is for the session's own user too; the handler checks who asks.
    let watchers = all
        .iter()
        .find(|r| r.path == "/api/v1/sessions/{id}/watchers")
        .expect("the watchers list is routed");
    assert_eq!(watchers.access, Access::Authenticated);
}

#[tokio::test]
async fn unlisted_paths_are_not_found_and_responses_carry_security_headers() {
    let (_dir, state) = state().await;
    let app = router(state);
    for path in ["/admin", "/api/v1/nothing", "/static/../Cargo.toml"] {
        let response = app
            .clone()
            .oneshot(
                Request::get(path)
                    .body(Body::empty())
                    .expect("request builds"),
            )
            .await
            .expect("router answers");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let headers = response.headers();
        assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
        assert!(headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    }
}

#[tokio::test]
async fn a_store_failure_is_an_error_page_on_pages_and_json_on_the_api() {
    let (_dir, state) = state().await;
    let token = session_for(&state, Role::Admin).await;
    // The database goes away under the running gateway.
    state.store.close().await;
    let app = router(state);
    for (path, lang, page) in [
        ("/", "ja", true),
        ("/sessions", "en", true),
        ("/api/v1/me", "ja", false),
    ] {
        let response = app
            .clone()
            .oneshot(
                Request::get(path)
                    .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
                    .header(header::ACCEPT_LANGUAGE, lang)
                    .body(Body::empty())
                    .expect("request builds"),
            )
            .await
            .expect("router answers");
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("a body");
        let body = String::from_utf8_lossy(&body);
        if page {
            assert!(
                content_type.starts_with("text/html"),
                "{path}: {content_type}"
            );
            let wanted = match lang {
                "ja" => "内部エラーが発生しました",
                _ => "internal error; try again later",
            };
            assert!(body.contains(wanted), "{path}: {body}");
            assert!(body.contains(&format!("lang=\"{lang}\"")), "{path}: {body}");
        } else {
            assert!(content_type.starts_with("application/json"), "{path}");
            let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            assert_eq!(json["code"], "internal", "{json}");
            assert!(
                json["error_ja"]
                    .as_str()
                    .is_some_and(|m| m.contains("内部エラー"))
            );
        }
    }
}
