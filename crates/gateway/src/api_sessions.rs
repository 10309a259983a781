//! The session API of DESIGN §8: targets, opening sessions, the tunnel, the session list,
//! recordings, ending a session.

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::access::{Source, Viewer};
use crate::session;
use crate::state::AppState;
use crate::web::ApiError;

#[derive(Debug, Serialize)]
struct TargetView {
    name: String,
    protocol: hoshu_domain::Protocol,
    system: Option<String>,
}

/// Targets this user may see (all of them until the access model of DESIGN §5 lands).
pub async fn targets(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, ApiError> {
    let targets: Vec<TargetView> = visible_targets(&state, &viewer)
        .await?
        .into_iter()
        .map(|t| TargetView {
            name: t.name,
            protocol: t.protocol,
            system: t.system,
        })
        .collect();
    Ok(Json(targets).into_response())
}

/// The targets the viewer may see (DESIGN §8): those they may open now, or once a work request
/// is approved or an emergency stop lifted; all for operators, approvers and auditors.
pub async fn visible_targets(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<hoshu_storage::Target>, ApiError> {
    let mut visible = Vec::new();
    for target in state.store.targets().await? {
        match session::policy::facts(state, viewer.user.id, target.id).await {
            Ok(facts) if session::policy::listed(&facts) => visible.push(target),
            Ok(_) | Err(session::policy::Verdict::Gone | session::policy::Verdict::Denied(_)) => {}
            Err(session::policy::Verdict::Failed) => {
                return Err(ApiError::internal("access facts unavailable"));
            }
        }
    }
    Ok(visible)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    target: String,
}

/// Opens a session on a target (its id and the target's protocol), or says why not; shared with
/// the portal's form.
pub async fn open_session(
    state: &AppState,
    viewer: &Viewer,
    target: &str,
    source: Source,
    certificate: &crate::tls::ClientCertificate,
) -> Result<(String, hoshu_domain::Protocol), (StatusCode, serde_json::Value)> {
    // The user's own lent device, when the browser presented its certificate.
    let presented = match crate::api_devices::device_of_certificate(state, certificate).await {
        Ok(device) => device
            .filter(|d| d.user == viewer.user.id)
            .map(|d| d.asset_tag),
        Err(e) => {
            return Err((
                e.status,
                serde_json::json!({ "error": e.message, "reason": "internal error" }),
            ));
        }
    };
    let target = match state.store.target_by_name(target).await {
        Ok(Some(target)) => target,
        Ok(None) => {
            return Err((
                StatusCode::NOT_FOUND,
                serde_json::json!({ "error": format!("no target named {target:?}"), "reason": "unknown target" }),
            ));
        }
        Err(e) => {
            let e = ApiError::internal(e);
            return Err((
                e.status,
                serde_json::json!({ "error": e.message, "reason": "internal error" }),
            ));
        }
    };
    let protocol = target.protocol;
    session::open(state, &viewer.user, target, source.ip_string(), presented)
        .await
        .map(|id| (id, protocol))
        .map_err(|refusal| {
            (
                StatusCode::FORBIDDEN,
                serde_json::json!({
                    "error": "the session cannot be opened",
                    "reason": refusal.reason,
                    "code": refusal.code,
                    "reason_ja": refusal.denial.as_ref().map(|d| crate::i18n::Lang::Ja.denial(d)),
                }),
            )
        })
}

pub async fn create(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    source: Source,
    certificate: Option<Extension<crate::tls::ClientCertificate>>,
    Json(request): Json<OpenRequest>,
) -> Response {
    let certificate = certificate.map(|c| c.0).unwrap_or_default();
    match open_session(&state, &viewer, &request.target, source, &certificate).await {
        Ok((id, protocol)) => {
            let body = serde_json::json!({
                "id": id,
                "protocol": protocol,
                "tunnel": format!("/api/v1/sessions/{id}/tunnel"),
            });
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err((status, body)) => (status, Json(body)).into_response(),
    }
}

/// The tunnel WebSocket: subprotocol `guacamole` for graphical targets; for SSH, binary frames
/// of terminal bytes and JSON text frames (session/terminal.rs).
pub async fn tunnel(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if crate::access::foreign_origin(&uri, &headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "tunnel opened from another site",
        ));
    }
    if !session::valid_session_id(&id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such session"));
    }
    if !session::can_attach(&state, &id, viewer.user.id) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no such live session for you, or its tunnel is already open; open the target again",
        ));
    }
    // The session is taken only once the upgrade succeeded: a failed upgrade leaves it to the
    // unattached-session reaper instead of losing its recorder.
    let user = viewer.user.id;
    Ok(upgrade
        .protocols(["guacamole"])
        .max_message_size(1 << 20)
        .on_upgrade(move |socket| async move {
            session::serve_tunnel(&state, &id, user, socket).await;
        }))
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    #[serde(flatten)]
    filter: SessionFilter,
}

/// The recordings list's filters (issue 7), from the page's form or the API's query string;
/// empty fields match everything.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SessionFilter {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub target: String,
    /// First day (YYYY-MM-DD, organisation time zone).
    #[serde(default)]
    pub from: String,
    /// Last day, inclusive.
    #[serde(default)]
    pub until: String,
    /// Words in the outcome ("timeout", "emergency stop", "administrator" …).
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub protocol: String,
}

impl SessionFilter {
    /// The first and the end (exclusive) millisecond of the date filters.
    fn bounds(&self, offset_hours: i8) -> Result<(Option<i64>, Option<i64>), ApiError> {
        let from = crate::api_audit::day_start_ms(&self.from, offset_hours, "from")?;
        let until = crate::api_audit::day_start_ms(&self.until, offset_hours, "until")?
            .map(|ms| ms + 86_400_000);
        Ok((from, until))
    }

    /// Keeps the sessions that match every filter given.
    pub fn apply(
        &self,
        sessions: Vec<hoshu_storage::RemoteSession>,
        offset_hours: i8,
    ) -> Result<Vec<hoshu_storage::RemoteSession>, ApiError> {
        let (from, until) = self.bounds(offset_hours)?;
        let contains = |field: &str, wanted: &str| {
            let wanted = wanted.trim();
            wanted.is_empty() || field.to_lowercase().contains(&wanted.to_lowercase())
        };
        Ok(sessions
            .into_iter()
            .filter(|s| {
                contains(&s.user_login, &self.user)
                    && contains(s.vendor.as_deref().unwrap_or(""), &self.vendor)
                    && contains(&s.target, &self.target)
                    && contains(s.outcome.as_deref().unwrap_or(""), &self.outcome)
                    && (self.protocol.trim().is_empty() || s.protocol == self.protocol.trim())
                    && from.is_none_or(|f| s.started_at_ms >= f)
                    && until.is_none_or(|u| s.started_at_ms < u)
            })
            .collect())
    }
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: String,
    pub user: String,
    pub target: String,
    pub protocol: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub outcome: Option<String>,
    pub bytes_to_browser: u64,
}

fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn session_view(state: &AppState, s: &hoshu_storage::RemoteSession) -> SessionView {
    let live_bytes = state.sessions.bytes_to_browser(&s.id);
    SessionView {
        id: s.id.clone(),
        user: s.user_login.clone(),
        target: s.target.clone(),
        protocol: s.protocol.clone(),
        started_at: rfc3339(s.started_at_ms),
        ended_at: s.ended_at_ms.map(rfc3339),
        outcome: s.outcome.clone(),
        bytes_to_browser: live_bytes.unwrap_or(u64::try_from(s.bytes_to_browser).unwrap_or(0)),
    }
}

/// Sessions the caller may see (`session::may_see`): admins and auditors all, a vendor's
/// manager the company's, others their own. The query narrows; the rule decides.
pub async fn visible_sessions(
    state: &AppState,
    viewer: &Viewer,
    live: Option<bool>,
) -> Result<Vec<hoshu_storage::RemoteSession>, ApiError> {
    let user = &viewer.user;
    let all = matches!(
        user.role,
        hoshu_domain::Role::Admin | hoshu_domain::Role::Auditor
    );
    let company = user
        .vendor_manager
        .then_some(user.vendor.as_deref())
        .flatten();
    let sessions = state
        .store
        .remote_sessions(live, (!all).then_some(user.id), company)
        .await?;
    Ok(sessions
        .into_iter()
        .filter(|s| session::may_see(user, s))
        .collect())
}

pub async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let live = match query.state.as_deref() {
        None => None,
        Some("live") => Some(true),
        Some("ended") => Some(false),
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("state must be live or ended, not {other:?}"),
            ));
        }
    };
    let sessions = query.filter.apply(
        visible_sessions(&state, &viewer, live).await?,
        state.config.access.utc_offset_hours,
    )?;
    let views: Vec<SessionView> = sessions.iter().map(|s| session_view(&state, s)).collect();
    Ok(Json(views).into_response())
}

/// Session `id` if the caller may see it (its recording, its command log); 404 otherwise, so
/// others' session ids are not confirmed.
pub async fn visible_session(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<hoshu_storage::RemoteSession, ApiError> {
    session::stored(state, id)
        .await?
        .filter(|stored| session::may_see(&viewer.user, stored))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such session"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingQuery {
    /// Start at the last keyframe at or before this offset from the start (milliseconds):
    /// seeking without replaying from the beginning. Graphical recordings only.
    from: Option<u64>,
    /// Stop once this offset is reached (a window of the recording).
    until: Option<u64>,
}

/// A graphical recording's time line: duration and keyframes (offsets from its start).
pub async fn recording_index(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = visible_session(&state, &viewer, &id).await?;
    let file = stored
        .recording
        .clone()
        .filter(|f| f.ends_with(".guac.zst"))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no graphical recording"))?;
    let path = state.config.data_dir.join("recordings").join(file);
    let index = tokio::task::spawn_blocking(move || session::playback::index(&path))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Json(index).into_response())
}

pub async fn recording(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Query(query): Query<RecordingQuery>,
) -> Result<Response, ApiError> {
    let stored = visible_session(&state, &viewer, &id).await?;
    let file = stored
        .recording
        .clone()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such session"))?;
    let content_type = if file.ends_with(".cast.zst") {
        // asciicast v2 (newline-delimited JSON), as asciinema serves it.
        "application/x-asciicast"
    } else {
        "application/vnd.glyptodon.guacamole.stream"
    };
    // A modified recording is flagged, never silently played (issue 7).
    let integrity = crate::api_review::integrity(&state, &stored).await?;
    if integrity == crate::api_review::Integrity::Mismatch {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            crate::api_review::MISMATCH,
        ));
    }
    let path = state.config.data_dir.join("recordings").join(&file);
    let mut response = if file.ends_with(".guac.zst") {
        let (body, keyframe_ms) = tokio::task::spawn_blocking(move || {
            session::playback::stream(&path, query.from, query.until)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        let mut response = body.into_response();
        if let Ok(value) = HeaderValue::from_str(&keyframe_ms.to_string()) {
            response.headers_mut().insert("x-hoshu-keyframe-ms", value);
        }
        response
    } else {
        tokio::task::spawn_blocking(move || session::read_recording(path))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        "x-hoshu-integrity",
        HeaderValue::from_static(integrity.as_str()),
    );
    Ok(response)
}

#[derive(Debug, Serialize)]
struct CommandView {
    at_ms: i64,
    command: String,
}

/// The command log of an SSH session, for those who may see the session (as its recording).
pub async fn commands(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = visible_session(&state, &viewer, &id).await?;
    let commands: Vec<CommandView> = state
        .store
        .session_commands(&stored.id)
        .await?
        .into_iter()
        .map(|c| CommandView {
            at_ms: c.at_ms,
            command: c.command,
        })
        .collect();
    Ok(Json(commands).into_response())
}

pub async fn end(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !session::valid_session_id(&id)
        || !state.sessions.end(
            &id,
            &format!("ended by administrator {}", viewer.user.login),
        )
    {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such live session"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The watch WebSocket (subprotocol `guacamole`, admins and auditors): a read-only live view of
/// a session (issue 5 item 6).
pub async fn watch(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    source: Source,
    uri: Uri,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if crate::access::foreign_origin(&uri, &headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "watch opened from another site",
        ));
    }
    if !session::valid_session_id(&id) || state.sessions.watchers(&id).is_none() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such live session"));
    }
    let user = viewer.user;
    Ok(upgrade
        .protocols(["guacamole"])
        .max_message_size(session::WATCH_MAX_MESSAGE)
        .on_upgrade(move |socket| {
            session::serve_watcher(state, id, user, source.ip_string(), socket)
        }))
}

/// `GET /api/v1/sessions/<id>/watchers` → `[{"login","since_ms"}]`: who watches a live session,
/// for its own user, admins and auditors.
pub async fn watchers(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let list = session::valid_session_id(&id)
        .then(|| state.sessions.watcher_list(&id, &viewer.user))
        .flatten()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such live session"))?;
    Ok(Json(list).into_response())
}
