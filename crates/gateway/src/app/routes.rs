//! The router. Every route is listed once in [`routes`] with the [`Access`] it needs; the guard
//! in `access` enforces it, and anything not listed is a 404.

use std::net::SocketAddr;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{MethodFilter, MethodRouter, on};
use hoshu_domain::Role;

use super::guard::{Access, guard};
use super::state::AppState;
use crate::{audit, devices, emergency, login, portal, sessions, ui, vendors, work};

/// One route: method, path, what the caller needs, and the handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

impl Route {
    /// Raises the request body limit (2 MiB by default) for a route that takes files.
    fn body_limit(mut self, bytes: usize) -> Route {
        self.handler = self
            .handler
            .layer(axum::extract::DefaultBodyLimit::max(bytes));
        self
    }
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

/// A document upload: the largest document and room for the form around it.
const DOCUMENT_BODY: usize = vendors::MAX_DOCUMENT + 64 * 1024;

pub const ADMIN: Access = Access::Roles(&[Role::Admin]);
/// Those who read the vendor records, stops and the audit log, and watch live sessions
/// (立会い): operators and auditors.
pub const OVERSIGHT: Access = Access::Roles(&[Role::Admin, Role::Auditor]);
/// Those who ask for work.
pub const VENDOR: Access = Access::Roles(&[Role::Vendor]);
/// Those who act on work requests: approvers and operators decide, the requester withdraws.
pub const WORK_DECIDERS: Access = Access::Roles(&[Role::Approver, Role::Admin, Role::Vendor]);

pub fn routes() -> Vec<Route> {
    use Access::{Authenticated, Public};
    use Method as M;
    vec![
        // Pages
        route(M::GET, "/", Authenticated, portal::pages::portal),
        route(M::GET, "/login", Public, login::pages::login_form),
        route(M::POST, "/login", Public, login::pages::login_start),
        route(M::POST, "/login/answer", Public, login::pages::login_answer),
        route(M::POST, "/logout", Authenticated, portal::pages::logout),
        route(M::GET, "/register", Public, login::register::register_form),
        route(
            M::POST,
            "/register/start",
            Public,
            login::register::register_start,
        ),
        route(
            M::POST,
            "/register",
            Public,
            login::register::register_submit,
        ),
        route(M::GET, "/lang/{code}", Public, ui::set_language),
        route(M::GET, "/static/{file}", Public, ui::static_file),
        route(M::GET, "/healthz", Public, || async { "ok" }),
        // JSON API (DESIGN §4)
        route(
            M::POST,
            "/api/v1/login/challenge",
            Public,
            login::api::challenge,
        ),
        route(M::POST, "/api/v1/login/answer", Public, login::api::answer),
        route(M::POST, "/api/v1/register", Public, login::api::register),
        // A device enrolling has no session: its one-time code is the credential (throttled).
        route(
            M::POST,
            "/api/v1/devices/enroll",
            Public,
            devices::api::enroll,
        ),
        // Authenticated by the device's client certificate (mTLS), checked by the handler.
        route(
            M::POST,
            "/api/v1/devices/report",
            Access::Device,
            devices::api::report,
        ),
        route(
            M::GET,
            "/api/v1/devices/status",
            Access::Device,
            devices::api::status,
        ),
        // Each user sees their own lent devices; administrators and auditors all.
        route(M::GET, "/api/v1/devices", Authenticated, devices::api::list),
        route(
            M::POST,
            "/api/v1/register/check",
            Public,
            login::api::register_check,
        ),
        route(M::GET, "/api/v1/me", Authenticated, login::api::me),
        route(M::POST, "/api/v1/logout", Authenticated, login::api::logout),
        // Remote sessions (DESIGN §8)
        route(
            M::GET,
            "/api/v1/targets",
            Authenticated,
            sessions::api::targets,
        ),
        route(
            M::POST,
            "/api/v1/sessions",
            Authenticated,
            sessions::api::create,
        ),
        route(
            M::GET,
            "/api/v1/sessions",
            Authenticated,
            sessions::api::list,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/tunnel",
            Authenticated,
            sessions::api::tunnel,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/recording",
            Authenticated,
            sessions::api::recording,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/recording/index",
            Authenticated,
            sessions::api::recording_index,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/commands",
            Authenticated,
            sessions::api::commands,
        ),
        route(
            M::DELETE,
            "/api/v1/sessions/{id}",
            ADMIN,
            sessions::api::end,
        ),
        // The access model (DESIGN §5)
        route(M::GET, "/api/v1/vendors", OVERSIGHT, vendors::api::vendors),
        route(M::POST, "/api/v1/vendors", ADMIN, vendors::api::add_vendor),
        route(
            M::GET,
            "/api/v1/vendors/{id}",
            OVERSIGHT,
            vendors::api::vendor,
        ),
        route(
            M::POST,
            "/api/v1/vendors/{id}/application",
            ADMIN,
            vendors::api::move_application,
        ),
        route(
            M::POST,
            "/api/v1/vendors/{id}/devices",
            ADMIN,
            devices::api::lend_device,
        ),
        route(
            M::POST,
            "/api/v1/vendors/{id}/documents",
            ADMIN,
            vendors::api::add_document,
        )
        .body_limit(DOCUMENT_BODY),
        route(
            M::GET,
            "/api/v1/documents/{id}",
            OVERSIGHT,
            vendors::api::document,
        ),
        route(
            M::GET,
            "/api/v1/contracts",
            OVERSIGHT,
            vendors::api::contracts,
        ),
        route(
            M::POST,
            "/api/v1/contracts",
            ADMIN,
            vendors::api::add_contract,
        ),
        route(
            M::GET,
            "/api/v1/work-requests",
            Authenticated,
            work::api::work_requests,
        ),
        route(
            M::POST,
            "/api/v1/work-requests",
            VENDOR,
            work::api::request_work,
        ),
        route(
            M::POST,
            "/api/v1/work-requests/{id}/decision",
            WORK_DECIDERS,
            work::api::decide_work,
        ),
        route(M::GET, "/api/v1/locks", OVERSIGHT, emergency::api::locks),
        route(M::POST, "/api/v1/locks", ADMIN, emergency::api::stop),
        route(M::POST, "/api/v1/locks/lift", ADMIN, emergency::api::lift),
        route(
            M::GET,
            "/api/v1/notifications",
            Authenticated,
            work::api::notifications,
        ),
        // Access-model pages
        route(M::GET, "/admin/vendors", OVERSIGHT, vendors::pages::list),
        route(M::POST, "/admin/vendors", ADMIN, vendors::pages::add),
        route(
            M::GET,
            "/admin/vendors/{id}",
            OVERSIGHT,
            vendors::pages::show,
        ),
        route(
            M::POST,
            "/admin/vendors/{id}/move",
            ADMIN,
            vendors::pages::move_application,
        ),
        route(
            M::POST,
            "/admin/vendors/{id}/documents",
            ADMIN,
            vendors::pages::attach_document,
        )
        .body_limit(DOCUMENT_BODY),
        route(
            M::POST,
            "/admin/vendors/{id}/devices",
            ADMIN,
            devices::pages::lend,
        ),
        route(
            M::POST,
            "/admin/vendors/{id}/devices/revoke",
            ADMIN,
            devices::pages::revoke,
        ),
        route(
            M::POST,
            "/admin/vendors/{id}/contracts",
            ADMIN,
            vendors::pages::add_contract,
        ),
        route(
            M::POST,
            "/admin/vendors/{id}/users",
            ADMIN,
            vendors::pages::add_user,
        ),
        route(M::GET, "/work", Authenticated, work::pages::page),
        route(M::POST, "/work", VENDOR, work::pages::request),
        route(
            M::POST,
            "/work/{id}/decision",
            WORK_DECIDERS,
            work::pages::decide,
        ),
        route(
            M::GET,
            "/admin/emergency",
            OVERSIGHT,
            emergency::pages::page,
        ),
        route(
            M::POST,
            "/admin/emergency/stop",
            ADMIN,
            emergency::pages::stop,
        ),
        route(
            M::POST,
            "/admin/emergency/lift",
            ADMIN,
            emergency::pages::lift,
        ),
        // Session review (DESIGN §7): the handlers show each reader only what they may see.
        route(
            M::GET,
            "/search",
            Authenticated,
            sessions::review::search_page,
        ),
        route(
            M::GET,
            "/api/v1/search",
            Authenticated,
            sessions::review::search,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/keystrokes",
            Authenticated,
            sessions::review::keystrokes,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/thumbnails",
            Authenticated,
            sessions::review::thumbnails,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/thumbnails/{at}",
            Authenticated,
            sessions::review::thumbnail,
        ),
        // The audit log (DESIGN §7)
        route(M::GET, "/audit", OVERSIGHT, audit::pages::page),
        route(M::GET, "/api/v1/audit", OVERSIGHT, audit::api::search),
        route(
            M::GET,
            "/api/v1/audit/verify",
            OVERSIGHT,
            audit::api::verify,
        ),
        route(
            M::GET,
            "/api/v1/audit/export",
            OVERSIGHT,
            audit::api::export,
        ),
        route(
            M::GET,
            "/api/v1/sessions/export",
            Authenticated,
            audit::api::export_sessions,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/watch",
            OVERSIGHT,
            sessions::api::watch,
        ),
        // The handler lets the session's own user see its watchers too.
        route(
            M::GET,
            "/api/v1/sessions/{id}/watchers",
            Authenticated,
            sessions::api::watchers,
        ),
        route(
            M::POST,
            "/targets/open",
            Authenticated,
            sessions::pages::open_target,
        ),
        route(M::GET, "/sessions", Authenticated, sessions::pages::list),
        route(
            M::GET,
            "/sessions/{id}/view",
            Authenticated,
            sessions::pages::view,
        ),
        route(
            M::GET,
            "/sessions/{id}/watch",
            OVERSIGHT,
            sessions::pages::watch,
        ),
        route(
            M::GET,
            "/sessions/{id}/play",
            Authenticated,
            sessions::pages::play,
        ),
        route(M::POST, "/sessions/{id}/end", ADMIN, sessions::pages::end),
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
        .fallback(ui::not_found)
        .with_state(state)
        .layer(from_fn(super::web::problems_as_pages))
        .layer(from_fn(super::web::security_headers))
}

/// The service to serve, with the peer address available to handlers.
pub fn make_service(
    state: AppState,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
    router(state).into_make_service_with_connect_info::<SocketAddr>()
}
