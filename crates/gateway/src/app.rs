//! The router. Every route is listed once in [`routes`] with the [`Access`] it needs; the guard
//! in `access` enforces it, and anything not listed is a 404.

use std::net::SocketAddr;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{MethodFilter, MethodRouter, on};
use hoshu_domain::Role;

use crate::access::{Access, guard};
use crate::state::AppState;
use crate::{api, api_sessions, pages};

/// One route: method, path, what the caller needs, and the handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.access)
    }
}

fn route<H, T>(method: Method, path: &'static str, access: Access, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone())
        .expect("routes use only standard methods, which all have a filter");
    Route {
        method,
        path,
        access,
        handler: on(filter, handler),
    }
}

pub const ADMIN: Access = Access::Roles(&[Role::Admin]);

pub fn routes() -> Vec<Route> {
    use Access::{Authenticated, Public};
    use Method as M;
    vec![
        // Pages
        route(M::GET, "/", Authenticated, pages::portal),
        route(M::GET, "/login", Public, pages::login_form),
        route(M::POST, "/login", Public, pages::login_start),
        route(M::POST, "/login/answer", Public, pages::login_answer),
        route(M::POST, "/logout", Authenticated, pages::logout),
        route(M::GET, "/register", Public, pages::register_form),
        route(M::POST, "/register/start", Public, pages::register_start),
        route(M::POST, "/register", Public, pages::register_submit),
        route(M::GET, "/lang/{code}", Public, pages::set_language),
        route(M::GET, "/static/{file}", Public, pages::static_file),
        route(M::GET, "/healthz", Public, || async { "ok" }),
        // JSON API (DESIGN §4)
        route(M::POST, "/api/v1/login/challenge", Public, api::challenge),
        route(M::POST, "/api/v1/login/answer", Public, api::answer),
        route(M::POST, "/api/v1/register", Public, api::register),
        route(
            M::POST,
            "/api/v1/register/check",
            Public,
            api::register_check,
        ),
        route(M::GET, "/api/v1/me", Authenticated, api::me),
        route(M::POST, "/api/v1/logout", Authenticated, api::logout),
        // Remote sessions (DESIGN §8)
        route(
            M::GET,
            "/api/v1/targets",
            Authenticated,
            api_sessions::targets,
        ),
        route(
            M::POST,
            "/api/v1/sessions",
            Authenticated,
            api_sessions::create,
        ),
        route(
            M::GET,
            "/api/v1/sessions",
            Authenticated,
            api_sessions::list,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/tunnel",
            Authenticated,
            api_sessions::tunnel,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/recording",
            Authenticated,
            api_sessions::recording,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/commands",
            Authenticated,
            api_sessions::commands,
        ),
        route(M::DELETE, "/api/v1/sessions/{id}", ADMIN, api_sessions::end),
        route(M::POST, "/targets/open", Authenticated, pages::open_target),
        route(M::GET, "/sessions", Authenticated, pages::sessions_page),
        route(
            M::GET,
            "/sessions/{id}/view",
            Authenticated,
            pages::session_page,
        ),
        route(
            M::GET,
            "/sessions/{id}/play",
            Authenticated,
            pages::play_page,
        ),
        route(
            M::POST,
            "/sessions/{id}/end",
            ADMIN,
            pages::end_session_page,
        ),
    ]
}

pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes() {
        let guarded = route
            .handler
            .route_layer(from_fn_with_state((state.clone(), route.access), guard));
        router = router.route(route.path, guarded);
    }
    router
        .fallback(pages::not_found)
        .with_state(state)
        .layer(from_fn(crate::web::security_headers))
}

/// The service to serve, with the peer address available to handlers.
pub fn make_service(
    state: AppState,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
    router(state).into_make_service_with_connect_info::<SocketAddr>()
}
