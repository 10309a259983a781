//! JSON API of vendors (DESIGN §5): the application flow, contracts and documents. The admin
//! pages call the same operations.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hoshu_domain::{ApplicationState, VendorId};
use hoshu_storage::{Contract, Document, Vendor};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::error::Missing;
use crate::app::error::OpError;
use crate::app::fields::{Field, parse_day};
use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::app::web::ApiError;
use crate::vendors::{self, HearingSheet};

pub fn vendor_json(v: &Vendor) -> Value {
    json!({
        "id": v.id,
        "name": v.name,
        "state": v.state,
        "next": v.state.next(),
        "hearing_sheet": v.hearing_sheet,
        "posture_policy": v.posture_policy,
        "created_at": v.created_at,
    })
}

pub fn contract_json(c: &Contract) -> Value {
    json!({
        "id": c.id,
        "vendor": c.vendor,
        "title": c.title,
        "valid_from": c.valid_from.to_string(),
        "valid_until": c.valid_until.to_string(),
        "systems": c.systems,
    })
}

fn document_json(d: &Document) -> Value {
    json!({
        "id": d.id,
        "contract": d.contract_id,
        "filename": d.filename,
        "content_type": d.content_type,
        "size": d.size,
        "sha256": d.sha256,
        "uploaded_by": d.uploaded_by,
        "created_at": d.created_at,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewVendor {
    name: String,
    #[serde(default)]
    hearing_sheet: HearingSheet,
}

pub async fn vendors(State(state): State<AppState>) -> Result<Response, ApiError> {
    let vendors = state.store.vendors().await?;
    Ok(Json(vendors.iter().map(vendor_json).collect::<Vec<_>>()).into_response())
}

pub async fn add_vendor(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Json(new): Json<NewVendor>,
) -> Result<Response, ApiError> {
    let id = vendors::add_vendor(
        &state.store,
        &new.name,
        new.hearing_sheet,
        &viewer.user.login,
    )
    .await?;
    let vendor = vendors::vendor(&state.store, id).await?;
    Ok((StatusCode::CREATED, Json(vendor_json(&vendor))).into_response())
}

/// Everything on record about a vendor: the application with its timeline, contracts,
/// documents, lent devices and users.
pub async fn vendor_detail(state: &AppState, id: VendorId) -> Result<Value, ApiError> {
    let vendor = vendors::vendor(&state.store, id).await?;
    let timeline: Vec<Value> = state
        .store
        .application_events(id)
        .await?
        .iter()
        .map(
            |e| json!({ "from": e.from, "to": e.to, "actor": e.actor, "note": e.note, "at": e.at }),
        )
        .collect();
    let contracts: Vec<Value> = state
        .store
        .contracts(Some(id))
        .await?
        .iter()
        .map(contract_json)
        .collect();
    let documents: Vec<Value> = state
        .store
        .documents(id)
        .await?
        .iter()
        .map(document_json)
        .collect();
    let users: Vec<Value> = state
        .store
        .users()
        .await?
        .iter()
        .filter(|u| u.vendor.as_deref() == Some(vendor.name.as_str()))
        .map(|u| json!({ "login": u.login, "name": u.name, "registered": u.registered, "demo_until": u.demo_until }))
        .collect();
    let mut body = vendor_json(&vendor);
    body["timeline"] = Value::Array(timeline);
    body["contracts"] = Value::Array(contracts);
    body["documents"] = Value::Array(documents);
    let now = crate::app::state::unix_now();
    body["devices"] = state
        .store
        .vendor_devices(id)
        .await?
        .iter()
        .map(|d| crate::devices::views::device_json(state, d, now))
        .collect();
    body["legacy_lent_devices"] = json!(state.store.legacy_lent_devices(id).await?);
    body["users"] = Value::Array(users);
    Ok(body)
}

pub async fn vendor(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(vendor_detail(&state, VendorId(id)).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Move {
    to: ApplicationState,
    #[serde(default)]
    note: String,
}

pub async fn move_application(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    Json(request): Json<Move>,
) -> Result<Response, ApiError> {
    vendors::move_application(
        &state.store,
        VendorId(id),
        request.to,
        &request.note,
        &viewer.user.login,
        state.config.access.today(),
    )
    .await?;
    state.access_changed.notify_one();
    Ok(Json(vendor_detail(&state, VendorId(id)).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    filename: String,
    contract: Option<i64>,
}

/// The document is the request body; its name (and contract) in the query string.
pub async fn add_document(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    Query(query): Query<DocumentQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let doc = vendors::add_document(
        &state.store,
        VendorId(id),
        query.contract,
        &query.filename,
        &body,
        &viewer.user.login,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": doc }))).into_response())
}

/// A document as a download (never shown inline: its type came from outside).
pub async fn document(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (doc, content) = state.store.document(id).await?.ok_or(Missing::Document)?;
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&doc.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // RFC 6266 with the UTF-8 name percent-encoded: Japanese file names survive.
    let encoded = crate::app::web::percent_encode(&doc.filename);
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"document-{id}\"; filename*=UTF-8''{encoded}"
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContractRequest {
    vendor: String,
    title: String,
    valid_from: String,
    valid_until: String,
    systems: Vec<String>,
}

pub async fn contracts(State(state): State<AppState>) -> Result<Response, ApiError> {
    let contracts = state.store.contracts(None).await?;
    Ok(Json(contracts.iter().map(contract_json).collect::<Vec<_>>()).into_response())
}

pub async fn add_contract(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Json(new): Json<NewContractRequest>,
) -> Result<Response, ApiError> {
    let vendor = state
        .store
        .existing_vendor(&new.vendor)
        .await
        .map_err(OpError::from)?;
    let id = vendors::add_contract(
        &state.store,
        vendor.id,
        &new.title,
        parse_day(Field::ValidFrom, &new.valid_from)?,
        parse_day(Field::ValidUntil, &new.valid_until)?,
        &new.systems,
        &viewer.user.login,
    )
    .await?;
    state.access_changed.notify_one();
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}
