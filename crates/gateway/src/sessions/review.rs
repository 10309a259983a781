//! Session review (DESIGN §7): the keystroke log of a graphical session, and one search
//! over every keystroke log and SSH command log the reader may see ("which session typed
//! `shutdown`?"); a hit links into the recording at that moment.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::{Deserialize, Serialize};

use crate::app::error::Missing;
use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::app::web::{ApiError, percent_encode};
use crate::sessions;
use crate::sessions::engine::recorder::file_sha256;
use crate::sessions::texts::SessionRefusal;
use crate::sessions::texts::SessionText;
use crate::ui::i18n::{Lang, T};
use crate::ui::{Frame, PageCsrf, format_at, page};

#[derive(Debug, Serialize)]
struct ThumbnailView {
    at_ms: i64,
    url: String,
}

/// The thumbnails of a graphical session's time line (their times, on the recording's clock).
pub async fn thumbnails(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = crate::sessions::visible::visible_session(&state, &viewer, &id).await?;
    readable(&state, &stored).await?;
    let list: Vec<ThumbnailView> = state
        .store
        .thumbnail_times(&stored.id)
        .await?
        .into_iter()
        .map(|at_ms| ThumbnailView {
            at_ms,
            url: format!("/api/v1/sessions/{}/thumbnails/{at_ms}", stored.id),
        })
        .collect();
    Ok(Json(list).into_response())
}

pub async fn thumbnail(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, at_ms)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    let stored = crate::sessions::visible::visible_session(&state, &viewer, &id).await?;
    readable(&state, &stored).await?;
    let (mimetype, image) = state
        .store
        .thumbnail(&stored.id, at_ms)
        .await?
        .ok_or(Missing::Thumbnail)?;
    let mut response = image.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = axum::http::HeaderValue::from_str(&mimetype) {
        headers.insert(axum::http::header::CONTENT_TYPE, value);
    }
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, max-age=86400"),
    );
    Ok(response)
}

/// Whether a recording file is the one sealed in the audit chain when its session closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// Its SHA-256 equals the sealed one.
    Verified,
    /// The session is still live (nothing sealed yet).
    Live,
    /// The session ended without a sealed hash (the gateway stopped mid-session).
    Unsealed,
    /// The file differs from what was sealed: modified or replaced.
    Mismatch,
}

impl Integrity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Integrity::Verified => "verified",
            Integrity::Live => "live",
            Integrity::Unsealed => "unsealed",
            Integrity::Mismatch => "mismatch",
        }
    }
}

/// Checks `stored`'s recording file against the SHA-256 sealed in the audit chain.
pub async fn integrity(
    state: &AppState,
    stored: &hoshu_storage::RemoteSession,
) -> Result<Integrity, ApiError> {
    if stored.ended_at_ms.is_none() {
        return Ok(Integrity::Live);
    }
    let Some(sealed) = state.store.sealed_recording_sha256(&stored.id).await? else {
        return Ok(Integrity::Unsealed);
    };
    let Some(file) = stored.recording.clone() else {
        return Ok(Integrity::Mismatch);
    };
    let path = state.config.data_dir.join("recordings").join(file);
    let actual = tokio::task::spawn_blocking(move || file_sha256(&path))
        .await
        .map_err(ApiError::internal)?;
    Ok(match actual {
        Ok(actual) if actual == sealed => Integrity::Verified,
        Ok(_) | Err(_) => {
            tracing::warn!(session = %stored.id, "Recording does not match its sealed SHA-256");
            Integrity::Mismatch
        }
    })
}

/// What is served from a recording — the stream, its index, its thumbnails — is served only
/// while the file is the one sealed when its session closed (or the session still runs); a
/// modified recording is refused (409) with everything derived from it. The verdict is the
/// one [`integrity`] gives.
pub async fn readable(
    state: &AppState,
    stored: &hoshu_storage::RemoteSession,
) -> Result<Integrity, ApiError> {
    let integrity = integrity_cached(state, stored).await?;
    if integrity == Integrity::Mismatch {
        return Err(SessionRefusal::RecordingModified.into());
    }
    Ok(integrity)
}

/// [`integrity`], remembered per file as long as its length and modification time stay the
/// same: the player asks for a recording's thumbnails one by one, and hashing an hour-long
/// recording for each would be slow.
async fn integrity_cached(
    state: &AppState,
    stored: &hoshu_storage::RemoteSession,
) -> Result<Integrity, ApiError> {
    type Checked = std::collections::HashMap<String, (u64, std::time::SystemTime, Integrity)>;
    static CHECKED: std::sync::OnceLock<std::sync::Mutex<Checked>> = std::sync::OnceLock::new();
    let stamp = stored.recording.as_ref().and_then(|file| {
        let meta = std::fs::metadata(state.config.data_dir.join("recordings").join(file)).ok()?;
        Some((meta.len(), meta.modified().ok()?))
    });
    let checked = CHECKED.get_or_init(Default::default);
    let lock = || checked.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((len, modified)) = stamp
        && stored.ended_at_ms.is_some()
        && let Some((l, m, verdict)) = lock().get(&stored.id).cloned()
        && (l, m) == (len, modified)
    {
        return Ok(verdict);
    }
    let verdict = integrity(state, stored).await?;
    if let Some((len, modified)) = stamp
        && matches!(verdict, Integrity::Verified | Integrity::Mismatch)
    {
        let mut checked = lock();
        // Bounded: forgetting only costs a hash.
        if checked.len() >= 4096 {
            checked.clear();
        }
        checked.insert(stored.id.clone(), (len, modified, verdict.clone()));
    }
    Ok(verdict)
}

/// Most hits one search returns.
const MAX_HITS: u32 = 200;

#[derive(Debug, Serialize)]
struct KeyView {
    at_ms: i64,
    text: String,
}

/// The keystroke log of a session the caller may see.
pub async fn keystrokes(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = crate::sessions::visible::visible_session(&state, &viewer, &id).await?;
    let lines: Vec<KeyView> = state
        .store
        .keystrokes(&stored.id)
        .await?
        .into_iter()
        .map(|(at_ms, text)| KeyView { at_ms, text })
        .collect();
    Ok(Json(lines).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// One hit: where, when, what was typed, and the recording at that moment.
#[derive(Debug, Serialize)]
pub struct Hit {
    session: String,
    user: String,
    target: String,
    kind: String,
    at_ms: i64,
    text: String,
    /// The player at this hit (offset from the session's start).
    play: String,
}

async fn hits(state: &AppState, viewer: &Viewer, needle: &str) -> Result<Vec<Hit>, ApiError> {
    let needle = needle.trim();
    if needle.is_empty() {
        return Ok(Vec::new());
    }
    if needle.chars().count() > 200 {
        return Err(SessionRefusal::SearchTooLong { max: 200 }.into());
    }
    // Fetch more than shown: hits in sessions the reader may not see are dropped after.
    let found = state
        .store
        .search_session_logs(needle, MAX_HITS * 5)
        .await?;
    let mut out = Vec::new();
    let mut sessions = std::collections::HashMap::new();
    for (id, at_ms, kind, text) in found {
        if !sessions.contains_key(&id) {
            let stored = state.store.remote_session(&id).await?;
            sessions.insert(id.clone(), stored);
        }
        let Some(Some(stored)) = sessions.get(&id) else {
            continue;
        };
        if !sessions::may_see(&viewer.user, stored) {
            continue;
        }
        let offset = (at_ms - stored.started_at_ms).max(0);
        out.push(Hit {
            play: format!("/sessions/{id}/play?t={offset}"),
            session: id,
            user: stored.user_login.clone(),
            target: stored.target.clone(),
            kind,
            at_ms,
            text,
        });
        if out.len() >= MAX_HITS as usize {
            break;
        }
    }
    Ok(out)
}

pub async fn search(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    Ok(Json(hits(&state, &viewer, &query.q).await?).into_response())
}

/// The search page: a box, and the hits with links into the recordings.
pub async fn search_page(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Extension(csrf): PageCsrf,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let found = hits(&state, &viewer, &query.q).await?;
    let offset = state.config.access.utc_offset_hours;
    let here = format!("/search?q={}", percent_encode(&query.q));
    let frame = Frame {
        lang,
        title: lang.t(T::SearchLogs),
        viewer: Some(&viewer),
        csrf: &csrf.0,
        here: &here,
    };
    let body = html! {
        section.card.wide {
            p { a href="/" { "← " (lang.t(T::BackToPortal)) } }
            h1 { (lang.t(T::SearchLogs)) }
            form.filters #log-search method="get" action="/search" {
                label { (lang.t(SessionText::SearchHelp)) input type="search" name="q" value=(query.q) maxlength="200"; }
                button type="submit" { (lang.t(T::Filter)) }
            }
            @if !query.q.trim().is_empty() {
                @if found.is_empty() {
                    p #no-hits { (lang.t(SessionText::NoHits)) }
                } @else {
                    table.list #hits {
                        thead { tr { th { (lang.t(T::When)) } th { (lang.t(T::User)) } th { (lang.t(T::Target)) } th { (lang.t(T::Kind)) } th { (lang.t(SessionText::Typed)) } th {} } }
                        tbody {
                            @for hit in &found {
                                tr data-session=(hit.session) {
                                    td { (format_at(hit.at_ms / 1000, offset)) }
                                    td { (hit.user) }
                                    td { (hit.target) }
                                    td { (hit.kind) }
                                    td { code { (hit.text) } }
                                    td { a.play href=(hit.play) { (lang.t(SessionText::Play)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&frame, body))
}
