//! The audit log for people (DESIGN §7): search with filters, the chain's verification state,
//! and JSON-lines downloads of audit events and session metadata. Auditors and administrators.

use axum::Extension;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hoshu_domain::ChainedEvent;
use hoshu_storage::{AuditFilter, AuditVerification};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::app::web::ApiError;
use crate::sessions::visible::{session_view, visible_sessions};

/// Most events one page or download holds.
const MAX_PAGE: u32 = 500;
const MAX_DOWNLOAD: u32 = 100_000;

/// The filters as the page's form and the API's query string carry them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub who: String,
    /// First day, `YYYY-MM-DD` (organisation time zone).
    #[serde(default)]
    pub from: String,
    /// Last day, inclusive.
    #[serde(default)]
    pub until: String,
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

impl AuditQuery {
    pub fn filter(&self, offset_hours: i8, max: u32) -> Result<AuditFilter, ApiError> {
        let text = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.chars().take(100).collect::<String>())
        };
        Ok(AuditFilter {
            kind: text(&self.kind),
            who: text(&self.who),
            from_ms: crate::app::fields::day_start_ms(
                &self.from,
                offset_hours,
                crate::app::fields::Field::From,
            )?,
            until_ms: crate::app::fields::day_start_ms(
                &self.until,
                offset_hours,
                crate::app::fields::Field::Until,
            )?
            .map(|ms| ms + 86_400_000),
            before_seq: self.before,
            limit: self.limit.unwrap_or(max).clamp(1, max),
        })
    }
}

pub fn event_json(event: &ChainedEvent) -> Value {
    json!({
        "seq": event.seq,
        "at_ms": event.at_ms,
        "kind": event.kind,
        "actor": event.actor,
        "subject": event.subject,
        "source": event.source,
        "detail": serde_json::from_str::<Value>(&event.detail).unwrap_or(Value::Null),
        "prev_hash": hex::encode(event.prev_hash),
        "hash": hex::encode(event.hash),
    })
}

pub async fn search(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = query.filter(state.config.access.utc_offset_hours, MAX_PAGE)?;
    let events = state.store.search_audit(&filter).await?;
    Ok(Json(events.iter().map(event_json).collect::<Vec<_>>()).into_response())
}

/// Whether the chain is intact, for the page and monitoring.
pub async fn verification(state: &AppState) -> Result<Value, ApiError> {
    Ok(match state.store.verify_audit().await? {
        AuditVerification::Intact { events } => json!({ "intact": true, "events": events }),
        AuditVerification::Broken(chain_break) => json!({
            "intact": false,
            "seq": chain_break.seq,
            "reason": chain_break.to_string(),
        }),
    })
}

pub async fn verify(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(verification(&state).await?).into_response())
}

fn json_lines(lines: impl Iterator<Item = Value>, name: &str) -> Response {
    let mut body = String::new();
    for line in lines {
        body.push_str(&line.to_string());
        body.push('\n');
    }
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Audit events matching the filters as JSON lines, oldest first (for a SIEM or an archive).
pub async fn export(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = query.filter(state.config.access.utc_offset_hours, MAX_DOWNLOAD)?;
    let mut events = state.store.search_audit(&filter).await?;
    events.reverse();
    Ok(json_lines(
        events.iter().map(event_json),
        "hoshu-audit.jsonl",
    ))
}

/// The caller's visible sessions as JSON lines, with their recordings' SHA-256.
pub async fn export_sessions(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, ApiError> {
    let sessions = visible_sessions(&state, &viewer, None).await?;
    let lines = sessions.iter().map(|s| {
        let mut line = serde_json::to_value(session_view(&state, s)).unwrap_or(Value::Null);
        line["recording_sha256"] = json!(s.recording_sha256);
        line
    });
    Ok(json_lines(lines, "hoshu-sessions.jsonl"))
}
