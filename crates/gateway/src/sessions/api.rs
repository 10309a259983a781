//! The session API of DESIGN §8: targets, opening sessions, the tunnel, the session list,
//! recordings, ending a session.

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::app::error::{CrossSite, Missing, OpError};
use crate::app::guard::{Source, Viewer};
use crate::app::state::AppState;
use crate::app::web::ApiError;
use crate::sessions::texts::{SessionRefusal, Unopened};
use crate::sessions::visible::{
    SessionFilter, SessionView, session_view, visible_session, visible_sessions, visible_targets,
};
use crate::sessions::{self, Outcome, open_session};
use crate::ui::i18n::Lang;

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    target: String,
}

pub async fn create(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    source: Source,
    certificate: Option<Extension<crate::app::tls::ClientCertificate>>,
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
        // DESIGN §8: 403 {"error", "reason"} with the access decision's reason and its code;
        // an unknown target (404) or a failure (500) says why the same way.
        Err(err) => {
            if let OpError::Storage(e) = &err {
                tracing::error!(error = %e, "Opening a session failed");
            }
            let mut answer = ApiError::of(&Unopened)
                .with_code(err.code())
                .with("reason", err.message(Lang::En))
                .with("reason_ja", err.message(Lang::Ja));
            answer.status = err.status();
            answer.into_response()
        }
    }
}

/// The tunnel WebSocket: subprotocol `guacamole` for graphical targets; for SSH, binary frames
/// of terminal bytes and JSON text frames (session/terminal.rs).
pub async fn tunnel(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    lang: Lang,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if crate::app::guard::foreign_origin(&uri, &headers) {
        return Err(CrossSite.into());
    }
    if !sessions::valid_session_id(&id) {
        return Err(Missing::Session.into());
    }
    if !sessions::can_attach(&state, &id, viewer.user.id) {
        return Err(Missing::LiveSession.into());
    }
    // A graphical session speaks the Guacamole protocol (notes/guacamole-protocol.md); a
    // client that does not ask for it is not one.
    let graphical = state.sessions.protocol(&id) != Some(hoshu_domain::Protocol::Ssh);
    if graphical && !offers_guacamole(&headers) {
        return Err(SessionRefusal::Subprotocol.into());
    }
    // The session is taken only once the upgrade succeeded: a failed upgrade leaves it to the
    // unattached-session reaper instead of losing its recorder.
    let user = viewer.user.id;
    Ok(upgrade
        .protocols(["guacamole"])
        .max_message_size(1 << 20)
        .on_upgrade(move |socket| async move {
            sessions::serve_tunnel(&state, &id, user, lang, socket).await;
        }))
}

/// Whether the WebSocket request offers the subprotocol `guacamole`.
fn offers_guacamole(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == "guacamole")
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    #[serde(flatten)]
    filter: SessionFilter,
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
            return Err(SessionRefusal::ListState {
                given: other.to_owned(),
            }
            .into());
        }
    };
    let sessions = query.filter.apply(
        visible_sessions(&state, &viewer, live).await?,
        state.config.access.utc_offset_hours,
    )?;
    let views: Vec<SessionView> = sessions.iter().map(|s| session_view(&state, s)).collect();
    Ok(Json(views).into_response())
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
    crate::sessions::review::readable(&state, &stored).await?;
    let file = stored
        .recording
        .clone()
        .filter(|f| f.ends_with(".guac.zst"))
        .ok_or(Missing::Recording)?;
    let path = state.config.data_dir.join("recordings").join(file);
    let index = tokio::task::spawn_blocking(move || sessions::playback::index(&path))
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
    let file = stored.recording.clone().ok_or(Missing::Session)?;
    let content_type = if file.ends_with(".cast.zst") {
        // asciicast v2 (newline-delimited JSON), as asciinema serves it.
        "application/x-asciicast"
    } else {
        "application/vnd.glyptodon.guacamole.stream"
    };
    if let (Some(from), Some(until)) = (query.from, query.until)
        && until <= from
    {
        return Err(SessionRefusal::Window.into());
    }
    // A modified recording is refused, never silently played.
    let integrity = crate::sessions::review::readable(&state, &stored).await?;
    let path = state.config.data_dir.join("recordings").join(&file);
    let mut response = if file.ends_with(".guac.zst") {
        let (body, keyframe_ms) = tokio::task::spawn_blocking(move || {
            sessions::playback::stream(&path, query.from, query.until)
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
        tokio::task::spawn_blocking(move || sessions::read_recording(path))
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
    let ended = Outcome::EndedByAdministrator {
        login: viewer.user.login.clone(),
    };
    if !sessions::valid_session_id(&id) || !state.sessions.end(&id, ended) {
        return Err(Missing::LiveSession.into());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The watch WebSocket (subprotocol `guacamole`, admins and auditors): a read-only live view of
/// a session.
pub async fn watch(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    source: Source,
    uri: Uri,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if crate::app::guard::foreign_origin(&uri, &headers) {
        return Err(CrossSite.into());
    }
    if !sessions::valid_session_id(&id) || state.sessions.watchers(&id).is_none() {
        return Err(Missing::LiveSession.into());
    }
    if !offers_guacamole(&headers) {
        return Err(SessionRefusal::Subprotocol.into());
    }
    let lang = Lang::from_headers(&headers);
    let user = viewer.user;
    Ok(upgrade
        .protocols(["guacamole"])
        .max_message_size(sessions::WATCH_MAX_MESSAGE)
        .on_upgrade(move |socket| {
            sessions::serve_watcher(state, id, user, source.ip_string(), lang, socket)
        }))
}

/// `GET /api/v1/sessions/<id>/watchers` → `[{"login","since_ms"}]`: who watches a live session,
/// for its own user, admins and auditors.
pub async fn watchers(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let list = sessions::valid_session_id(&id)
        .then(|| state.sessions.watcher_list(&id, &viewer.user))
        .flatten()
        .ok_or(Missing::LiveSession)?;
    Ok(Json(list).into_response())
}
