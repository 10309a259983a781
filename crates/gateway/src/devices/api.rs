//! Device API (DESIGN §6): enrolment with a one-time code, and posture reports over mTLS.
//! Neither has a browser session: the code, then the client certificate, is the device's
//! credential, so both routes are public to the guard and authenticate here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hoshu_domain::{AuditEvent, AuditKind, PostureReport, evaluate, posture::is_fingerprint};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use crate::app::fields::{Field, parse_day};
use crate::app::guard::Source;
use crate::app::guard::Viewer;
use crate::app::state::{AppState, unix_now};
use crate::app::throttle::admit;
use crate::app::tls::ClientCertificate;
use crate::app::web::ApiError;
use crate::devices::ca::{self, DeviceCaError};
use crate::devices::texts::AgentRefusal;
use crate::devices::views::device_json;
use crate::login::registration_code_hash;
use axum::Extension;
use axum::extract::Path;
use hoshu_domain::VendorId;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    code: String,
    csr_pem: String,
    fingerprint: String,
}

/// How far before now the certificate starts, so a device whose clock is a little behind
/// accepts it.
const CLOCK_SKEW: Duration = Duration::minutes(5);

pub async fn enroll(
    State(state): State<AppState>,
    source: Source,
    Json(request): Json<EnrolRequest>,
) -> Result<Response, ApiError> {
    admit(&state, source)?;
    if !is_fingerprint(&request.fingerprint) {
        return Err(AgentRefusal::Fingerprint.into());
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
            Err::<Response, _>(ApiError::from(AgentRefusal::Code))
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

    let ca = ca::load_or_create(&state.store)
        .await
        .map_err(ApiError::internal)?;
    let not_before = OffsetDateTime::now_utc() - CLOCK_SKEW;
    let not_after = OffsetDateTime::from_unix_timestamp(device.lent_until)
        .map_err(|e| ApiError::internal(format!("lending period end out of range: {e}")))?;
    let issued = match ca::issue(
        &ca,
        &request.csr_pem,
        &device.asset_tag,
        not_before,
        not_after,
    ) {
        Ok(issued) => issued,
        Err(e @ (DeviceCaError::BadCsr | DeviceCaError::CsrTooLarge)) => {
            // A broken CSR does not use up the code: the agent can try again.
            return Err(AgentRefusal::Csr {
                detail: e.to_string(),
            }
            .into());
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

/// `POST /api/v1/devices/report`: one posture report, evaluated against `[posture.policy]`
/// with the holder's company's own rules over it, stored, and answered with the verdict and its reasons.
pub async fn report(
    State(state): State<AppState>,
    certificate: Option<axum::Extension<ClientCertificate>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let certificate = certificate.map(|c| c.0).unwrap_or_default();
    let Some(device) = certificate.device(&state.store).await? else {
        return Err(AgentRefusal::Certificate.into());
    };
    let report = PostureReport::from_json(&body).map_err(|e| AgentRefusal::Report {
        detail: e.to_string(),
    })?;
    let now = unix_now();
    let compliance = evaluate(
        &crate::devices::policy_for(&state.config.posture.policy, &device),
        &report,
        device.fingerprint.as_deref().unwrap_or_default(),
        now,
    );
    // INVARIANT: `from_json` accepted the body, so it is UTF-8 JSON.
    let json = String::from_utf8_lossy(&body);
    state
        .store
        .record_posture_report(device.id, &json, compliance.compliant, now)
        .await
        .map_err(ApiError::internal)?;
    // Only changes go to the audit chain: a report a minute per device would drown it.
    if device.compliant != Some(compliance.compliant) {
        let reasons: Vec<&str> = compliance.reasons.iter().map(|r| r.code()).collect();
        state
            .audit(
                AuditEvent::new(AuditKind::DevicePosture)
                    .subject(device.asset_tag.as_str())
                    .detail("user", device.user_login.as_str())
                    .detail("compliant", compliance.compliant)
                    .detail("reasons", reasons.join(",")),
            )
            .await
            .map_err(ApiError::internal)?;
    }
    tracing::debug!(
        asset_tag = %device.asset_tag,
        compliant = compliance.compliant,
        reasons = compliance.reasons.len(),
        "Posture report"
    );
    Ok(Json(compliance).into_response())
}

/// `GET /api/v1/devices/status` (mTLS): what the gateway decides about this device now, for
/// `hoshu-agent status`.
pub async fn status(
    State(state): State<AppState>,
    certificate: Option<axum::Extension<ClientCertificate>>,
) -> Result<Response, ApiError> {
    let certificate = certificate.map(|c| c.0).unwrap_or_default();
    let Some(device) = certificate.device(&state.store).await? else {
        return Err(AgentRefusal::Certificate.into());
    };
    Ok(Json(device_json(&state, &device, unix_now())).into_response())
}

/// `GET /api/v1/devices`: a vendor user's own devices; administrators and auditors see all.
pub async fn list(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<crate::app::guard::Viewer>,
) -> Result<Response, ApiError> {
    let devices = match viewer.user.role {
        hoshu_domain::Role::Admin | hoshu_domain::Role::Auditor => state.store.devices().await,
        _ => state.store.devices_of_user(viewer.user.id).await,
    }
    .map_err(ApiError::internal)?;
    let now = unix_now();
    let rows: Vec<serde_json::Value> = devices
        .iter()
        .map(|d| device_json(&state, d, now))
        .collect();
    Ok(Json(rows).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lend {
    asset_tag: String,
    /// Login ID of the vendor's user who holds the device.
    user: String,
    /// Last day of the lending period (YYYY-MM-DD, the organisation's calendar).
    until: String,
}

/// Lends a device to one of the vendor's users: registers it and answers with its one-time
/// enrolment code (shown once; only its hash is kept).
pub async fn lend_device(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    Json(request): Json<Lend>,
) -> Result<Response, ApiError> {
    let until = parse_day(Field::LentUntil, &request.until)?;
    let lent = crate::devices::lend_device(
        &state.store,
        VendorId(id),
        &request.asset_tag,
        &request.user,
        crate::devices::end_of_day(until, state.config.access.utc_offset_hours),
        &viewer.user.login,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "asset_tag": lent.asset_tag, "user": lent.holder, "lent_until": lent.lent_until,
            "code": lent.code,
        })),
    )
        .into_response())
}
