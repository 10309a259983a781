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
use crate::{api, api_access, api_audit, api_devices, api_review, api_sessions, pages};

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
const DOCUMENT_BODY: usize = crate::onboarding::MAX_DOCUMENT + 64 * 1024;

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
        // A device enrolling has no session: its one-time code is the credential (throttled).
        route(
            M::POST,
            "/api/v1/devices/enroll",
            Public,
            api_devices::enroll,
        ),
        // Authenticated by the device's client certificate (mTLS), checked by the handler.
        route(
            M::POST,
            "/api/v1/devices/report",
            Access::Device,
            api_devices::report,
        ),
        route(
            M::GET,
            "/api/v1/devices/status",
            Access::Device,
            api_devices::status,
        ),
        // Each user sees their own lent devices; administrators and auditors all.
        route(M::GET, "/api/v1/devices", Authenticated, api_devices::list),
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
            "/api/v1/sessions/{id}/recording/index",
            Authenticated,
            api_sessions::recording_index,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/commands",
            Authenticated,
            api_sessions::commands,
        ),
        route(M::DELETE, "/api/v1/sessions/{id}", ADMIN, api_sessions::end),
        // The access model (DESIGN §5)
        route(M::GET, "/api/v1/vendors", OVERSIGHT, api_access::vendors),
        route(M::POST, "/api/v1/vendors", ADMIN, api_access::add_vendor),
        route(
            M::GET,
            "/api/v1/vendors/{id}",
            OVERSIGHT,
            api_access::vendor,
        ),
        route(
            M::POST,
            "/api/v1/vendors/{id}/application",
            ADMIN,
            api_access::move_application,
        ),
        route(
            M::POST,
            "/api/v1/vendors/{id}/devices",
            ADMIN,
            api_access::lend_device,
        ),
        route(
            M::POST,
            "/api/v1/vendors/{id}/documents",
            ADMIN,
            api_access::add_document,
        )
        .body_limit(DOCUMENT_BODY),
        route(
            M::GET,
            "/api/v1/documents/{id}",
            OVERSIGHT,
            api_access::document,
        ),
        route(
            M::GET,
            "/api/v1/contracts",
            OVERSIGHT,
            api_access::contracts,
        ),
        route(
            M::POST,
            "/api/v1/contracts",
            ADMIN,
            api_access::add_contract,
        ),
        route(
            M::GET,
            "/api/v1/work-requests",
            Authenticated,
            api_access::work_requests,
        ),
        route(
            M::POST,
            "/api/v1/work-requests",
            VENDOR,
            api_access::request_work,
        ),
        route(
            M::POST,
            "/api/v1/work-requests/{id}/decision",
            WORK_DECIDERS,
            api_access::decide_work,
        ),
        route(M::GET, "/api/v1/locks", OVERSIGHT, api_access::locks),
        route(M::POST, "/api/v1/locks", ADMIN, api_access::stop),
        route(M::POST, "/api/v1/locks/lift", ADMIN, api_access::lift),
        route(
            M::GET,
            "/api/v1/notifications",
            Authenticated,
            api_access::notifications,
        ),
        // Access-model pages
        route(M::GET, "/admin/vendors", OVERSIGHT, pages::vendors_page),
        route(M::POST, "/admin/vendors", ADMIN, pages::add_vendor),
        route(M::GET, "/admin/vendors/{id}", OVERSIGHT, pages::vendor_page),
        route(
            M::POST,
            "/admin/vendors/{id}/move",
            ADMIN,
            pages::vendor_move,
        ),
        route(
            M::POST,
            "/admin/vendors/{id}/documents",
            ADMIN,
            pages::vendor_document,
        )
        .body_limit(DOCUMENT_BODY),
        route(
            M::POST,
            "/admin/vendors/{id}/devices",
            ADMIN,
            pages::vendor_lend,
        ),
        route(
            M::POST,
            "/admin/vendors/{id}/devices/revoke",
            ADMIN,
            pages::vendor_revoke_device,
        ),
        route(
            M::POST,
            "/admin/vendors/{id}/contracts",
            ADMIN,
            pages::vendor_contract,
        ),
        route(
            M::POST,
            "/admin/vendors/{id}/users",
            ADMIN,
            pages::vendor_user,
        ),
        route(M::GET, "/work", Authenticated, pages::work_page),
        route(M::POST, "/work", VENDOR, pages::work_request),
        route(
            M::POST,
            "/work/{id}/decision",
            WORK_DECIDERS,
            pages::work_decide,
        ),
        route(M::GET, "/admin/emergency", OVERSIGHT, pages::emergency_page),
        route(
            M::POST,
            "/admin/emergency/stop",
            ADMIN,
            pages::emergency_stop,
        ),
        route(
            M::POST,
            "/admin/emergency/lift",
            ADMIN,
            pages::emergency_lift,
        ),
        // Session review (DESIGN §7): the handlers show each reader only what they may see.
        route(M::GET, "/search", Authenticated, api_review::search_page),
        route(M::GET, "/api/v1/search", Authenticated, api_review::search),
        route(
            M::GET,
            "/api/v1/sessions/{id}/keystrokes",
            Authenticated,
            api_review::keystrokes,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/thumbnails",
            Authenticated,
            api_review::thumbnails,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/thumbnails/{at}",
            Authenticated,
            api_review::thumbnail,
        ),
        // The audit log (DESIGN §7)
        route(M::GET, "/audit", OVERSIGHT, pages::audit_page),
        route(M::GET, "/api/v1/audit", OVERSIGHT, api_audit::search),
        route(M::GET, "/api/v1/audit/verify", OVERSIGHT, api_audit::verify),
        route(M::GET, "/api/v1/audit/export", OVERSIGHT, api_audit::export),
        route(
            M::GET,
            "/api/v1/sessions/export",
            Authenticated,
            api_audit::export_sessions,
        ),
        route(
            M::GET,
            "/api/v1/sessions/{id}/watch",
            OVERSIGHT,
            api_sessions::watch,
        ),
        // The handler lets the session's own user see its watchers too.
        route(
            M::GET,
            "/api/v1/sessions/{id}/watchers",
            Authenticated,
            api_sessions::watchers,
        ),
        route(M::POST, "/targets/open", Authenticated, pages::open_target),
        route(M::GET, "/sessions", Authenticated, pages::sessions_page),
        route(
            M::GET,
            "/sessions/{id}/view",
            Authenticated,
            pages::session_page,
        ),
        route(M::GET, "/sessions/{id}/watch", OVERSIGHT, pages::watch_page),
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
