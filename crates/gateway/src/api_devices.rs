//! Device API (DESIGN §6): enrolment with a one-time code. The device has no session; the code
//! is its only credential, so the route is public and throttled like login.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hoshu_domain::{AuditEvent, AuditKind, posture::is_fingerprint};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use crate::access::Source;
use crate::api::throttle;
use crate::device_ca::{self, DeviceCaError};
use crate::login::registration_code_hash;
use crate::state::{AppState, unix_now};
use crate::web::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    code: String,
    csr_pem: String,
    fingerprint: String,
}

/// The same answer for an unknown, used, expired or revoked code: a guesser learns nothing.
const CODE_REFUSED: &str =
    "enrolment code is wrong, used or expired; ask your administrator for a new one";

/// How far before now the certificate starts, so a device whose clock is a little behind
/// accepts it.
const CLOCK_SKEW: Duration = Duration::minutes(5);

pub async fn enroll(
    State(state): State<AppState>,
    source: Source,
    Json(request): Json<EnrolRequest>,
) -> Result<Response, ApiError> {
    throttle(&state, source)?;
    if !is_fingerprint(&request.fingerprint) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "fingerprint must be 64 lowercase hex digits (SHA-256)",
        ));
    }
    let code_hash = registration_code_hash(&request.code);
    let now = unix_now();
    let refuse = |asset_tag: Option<String>, why: &'static str| {
        let state = state.clone();
        async move {
            let mut event = AuditEvent::new(AuditKind::DeviceEnrolRefused).detail("why", why);
            if let Some(ip) = source.ip_string() {
                event = event.source(ip);
            }
            if let Some(tag) = asset_tag {
                event = event.subject(tag);
            }
            state.audit(event).await.map_err(ApiError::internal)?;
            Err::<Response, _>(ApiError::new(StatusCode::FORBIDDEN, CODE_REFUSED))
        }
    };
    let device = state
        .store
        .enrolment_code_device(&code_hash, now)
        .await
        .map_err(ApiError::internal)?;
    let Some(device) = device else {
        return refuse(None, "unknown, used or expired code").await;
    };
    if device.lent_until <= now {
        return refuse(Some(device.asset_tag), "lending period over").await;
    }

    let ca = device_ca::load_or_create(&state.store)
        .await
        .map_err(ApiError::internal)?;
    let not_before = OffsetDateTime::now_utc() - CLOCK_SKEW;
    let not_after = OffsetDateTime::from_unix_timestamp(device.lent_until)
        .map_err(|e| ApiError::internal(format!("lending period end out of range: {e}")))?;
    let issued = match device_ca::issue(
        &ca,
        &request.csr_pem,
        &device.asset_tag,
        not_before,
        not_after,
    ) {
        Ok(issued) => issued,
        Err(e @ (DeviceCaError::BadCsr | DeviceCaError::CsrTooLarge)) => {
            // A broken CSR does not use up the code: the agent can try again.
            return Err(ApiError::new(StatusCode::BAD_REQUEST, e.to_string()));
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    let stored = state
        .store
        .complete_enrolment(
            &code_hash,
            device.id,
            &request.fingerprint,
            &issued.serial,
            &issued.pem,
            now,
        )
        .await
        .map_err(ApiError::internal)?;
    if !stored {
        // Used by a concurrent request between the look-up and now.
        return refuse(Some(device.asset_tag), "code used concurrently").await;
    }
    let mut event = AuditEvent::new(AuditKind::DeviceEnrolled)
        .subject(device.asset_tag.as_str())
        .detail("user", device.user_login.as_str())
        .detail("serial", issued.serial.as_str())
        .detail("fingerprint", request.fingerprint.as_str());
    if let Some(ip) = source.ip_string() {
        event = event.source(ip);
    }
    state.audit(event).await.map_err(ApiError::internal)?;
    tracing::info!(asset_tag = %device.asset_tag, serial = %issued.serial, "Device enrolled");
    Ok((
        StatusCode::OK,
        Json(serde_json::json!({
            "certificate_pem": issued.pem,
            "ca_pem": ca.certificate_pem,
        })),
    )
        .into_response())
}
