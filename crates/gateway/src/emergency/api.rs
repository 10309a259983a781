//! JSON API of emergency stops (DESIGN §5).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hoshu_storage::Lock;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::app::web::ApiError;
use crate::emergency::{self, Scope};

fn lock_json(l: &Lock) -> Value {
    json!({
        "id": l.id,
        "scope": l.scope,
        "name": l.subject_name,
        "reason": l.reason,
        "created_by": l.created_by,
        "created_at": l.created_at,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopRequest {
    scope: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    reason: String,
}

pub async fn locks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let locks = state.store.active_locks().await?;
    Ok(Json(locks.iter().map(lock_json).collect::<Vec<_>>()).into_response())
}

pub async fn stop(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Json(request): Json<StopRequest>,
) -> Result<Response, ApiError> {
    let scope = Scope::parse(&request.scope, &request.name)?;
    let id = emergency::stop(&state.store, &scope, &request.reason, &viewer.user.login).await?;
    state.access_changed.notify_one();
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

pub async fn lift(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Json(request): Json<StopRequest>,
) -> Result<Response, ApiError> {
    let scope = Scope::parse(&request.scope, &request.name)?;
    let lifted = emergency::lift(&state.store, &scope, &viewer.user.login).await?;
    Ok(Json(json!({ "lifted": lifted })).into_response())
}
