//! The JSON API of DESIGN §4 (`/api/v1`): login challenge and answer, registration, `me`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use crate::app::guard::{SESSION_COOKIE, Source, Viewer};
use crate::app::state::AppState;
use crate::app::web::{ApiError, set_cookie};
use crate::login::texts::LoginRefusal;
use crate::login::{self, LoginError, RegisterError};
use crate::ui::i18n::Lang;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    login: String,
}

#[derive(Debug, Serialize)]
struct ChallengeResponse {
    challenge: String,
    matrix: String,
    expires_in: i64,
}

pub async fn challenge(
    State(state): State<AppState>,
    source: Source,
    Json(request): Json<ChallengeRequest>,
) -> Result<Response, ApiError> {
    crate::app::throttle::admit(&state, source)?;
    let issued = login::issue_challenge(&state, &request.login, source.ip_string())
        .await
        .map_err(login_error)?;
    Ok(Json(ChallengeResponse {
        challenge: issued.id,
        matrix: issued.matrix.digits(),
        expires_in: issued.expires_in,
    })
    .into_response())
}

fn login_error(err: LoginError) -> ApiError {
    match err {
        LoginError::BadLogin => LoginRefusal::BadLogin.into(),
        LoginError::Failed => LoginRefusal::Failed.into(),
        LoginError::Storage(e) => ApiError::internal(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    challenge: String,
    answer: String,
}

#[derive(Debug, Serialize)]
pub struct Me {
    login: String,
    name: String,
    role: hoshu_domain::Role,
    vendor: Option<String>,
}

impl From<&hoshu_storage::User> for Me {
    fn from(user: &hoshu_storage::User) -> Self {
        Me {
            login: user.login.clone(),
            name: user.name.clone(),
            role: user.role,
            vendor: user.vendor.clone(),
        }
    }
}

pub async fn answer(
    State(state): State<AppState>,
    source: Source,
    headers: HeaderMap,
    certificate: Option<Extension<crate::app::tls::ClientCertificate>>,
    Json(request): Json<AnswerRequest>,
) -> Result<Response, ApiError> {
    crate::app::throttle::admit(&state, source)?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let session = login::answer(
        &state,
        &request.challenge,
        &request.answer,
        source.ip_string(),
        user_agent,
        &certificate.map(|c| c.0).unwrap_or_default(),
    )
    .await
    .map_err(login_error)?;
    let mut response = Json(Me::from(&session.user)).into_response();
    for cookie in login::login_cookies(&session) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    code: String,
    cells: Vec<u8>,
    #[serde(default)]
    fixed: String,
    #[serde(default)]
    insert: usize,
}

pub async fn register(
    State(state): State<AppState>,
    source: Source,
    lang: Lang,
    Json(request): Json<RegisterRequest>,
) -> Result<Response, Response> {
    crate::app::throttle::admit(&state, source).map_err(IntoResponse::into_response)?;
    if request.cells.len() > hoshu_otp::CELLS * 4 {
        return Err(ApiError::from(LoginRefusal::TooManyCells).into_response());
    }
    match login::register(
        &state,
        &request.code,
        &request.cells,
        &request.fixed,
        request.insert,
        source.ip_string(),
    )
    .await
    {
        Ok(user) => Ok(Json(serde_json::json!({ "login": user.login })).into_response()),
        Err(RegisterError::Violations(violations)) => {
            let texts: Vec<String> = violations.iter().map(|v| lang.violation(v)).collect();
            Err(ApiError::from(LoginRefusal::Violations)
                .with("violations", texts)
                .into_response())
        }
        Err(RegisterError::BadCode) => Err(ApiError::from(LoginRefusal::BadCode)
            .with("violations", serde_json::json!([]))
            .into_response()),
        Err(err) => Err(ApiError::internal(err).into_response()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    cells: Vec<u8>,
    #[serde(default)]
    fixed: String,
    #[serde(default)]
    insert: usize,
}

/// Policy check and strength figures while a user picks a pattern; stores nothing.
pub async fn register_check(
    State(state): State<AppState>,
    lang: Lang,
    Json(request): Json<CheckRequest>,
) -> Result<Response, ApiError> {
    if request.cells.len() > hoshu_otp::CELLS * 4 {
        return Err(LoginRefusal::TooManyCells.into());
    }
    let policy = &state.config.otp;
    let violations =
        match hoshu_otp::enrol(policy, &request.cells, Some(&request.fixed), request.insert) {
            Ok(_) => Vec::new(),
            Err(v) => v.iter().map(|v| lang.violation(v)).collect(),
        };
    // Beyond the policy's maximum the figures mean nothing; within it they are cached per length.
    let k = request.cells.len();
    let strength = if k > 0 && k <= policy.max_cells {
        Some(state.strength_figures(k).await)
    } else {
        None
    };
    Ok(Json(serde_json::json!({
        "violations": violations,
        "strength": strength,
    }))
    .into_response())
}

pub async fn me(axum::Extension(viewer): axum::Extension<Viewer>) -> Json<Me> {
    Json(Me::from(&viewer.user))
}

pub async fn logout(
    State(state): State<AppState>,
    source: Source,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Response, ApiError> {
    crate::login::end_session(&state, &viewer, source).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    Ok(response)
}
