//! JSON API of work requests (DESIGN §5) and the notifications their decisions send.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hoshu_storage::WorkRequest;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::app::web::ApiError;
use crate::work::{self, Decision, NewRequest};

pub fn work_request_json(w: &WorkRequest) -> Value {
    json!({
        "id": w.id,
        "user": w.user_login,
        "vendor": w.vendor,
        "targets": w.targets,
        "purpose": w.purpose,
        "starts_at": w.starts_at,
        "ends_at": w.ends_at,
        "state": w.state,
        "decided_by": w.decided_by,
        "decided_at": w.decided_at,
        "comment": w.comment,
        "created_at": w.created_at,
    })
}

pub async fn work_requests(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, ApiError> {
    let requests = work::visible(&state, &viewer.user).await?;
    Ok(Json(requests.iter().map(work_request_json).collect::<Vec<_>>()).into_response())
}

pub async fn request_work(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Json(new): Json<NewRequest>,
) -> Result<Response, ApiError> {
    let id = work::request(&state, &viewer.user, new).await?;
    let request = state
        .store
        .work_request(id)
        .await?
        .ok_or_else(|| ApiError::internal("work request vanished"))?;
    Ok((StatusCode::CREATED, Json(work_request_json(&request))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    decision: Decision,
    #[serde(default)]
    comment: String,
}

pub async fn decide_work(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    Json(request): Json<DecisionRequest>,
) -> Result<Response, ApiError> {
    let decided =
        work::decide(&state, &viewer.user, id, request.decision, &request.comment).await?;
    Ok(Json(work_request_json(&decided)).into_response())
}

pub async fn notifications(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, ApiError> {
    let list = state.store.notifications(viewer.user.id).await?;
    let rows: Vec<Value> = list
        .iter()
        .map(|n| json!({ "id": n.id, "kind": n.kind, "subject": n.subject_id, "note": n.note, "created_at": n.created_at, "read": n.read }))
        .collect();
    Ok(Json(rows).into_response())
}
