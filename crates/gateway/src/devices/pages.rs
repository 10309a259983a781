//! The device forms of the vendor page (DESIGN §6): lending a device, revoking one. What the
//! page shows of devices is `views`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use hoshu_domain::VendorId;
use maud::html;
use serde::Deserialize;

use crate::app::fields::{Field, parse_day};
use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::devices;
use crate::devices::texts::DeviceText;
use crate::ui::i18n::Lang;
use crate::ui::i18n::T;
use crate::ui::{CsrfForm, Frame, page};
use crate::ui::{done, op_error_page};

#[derive(Debug, Deserialize)]
pub struct LendForm {
    asset_tag: String,
    user: String,
    until: String,
}

/// Lends a device to one of the vendor's users; the enrolment code is shown once.
pub async fn lend(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LendForm>,
) -> Response {
    let back = format!("/admin/vendors/{id}");
    let result = async {
        let until = parse_day(Field::LentUntil, &form.until)?;
        devices::lend_device(
            &state.store,
            VendorId(id),
            &form.asset_tag,
            &form.user,
            devices::end_of_day(until, state.config.access.utc_offset_hours),
            &viewer.user.login,
        )
        .await
    }
    .await;
    let lent = match result {
        Ok(lent) => lent,
        Err(err) => return op_error_page(lang, &viewer, &back, err),
    };
    let frame = Frame {
        lang,
        title: lang.t(DeviceText::LendDevice),
        viewer: Some(&viewer),
        csrf: "",
        here: &back,
    };
    // The address this page was reached at is the one the device can use too.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("GATEWAY");
    let command = format!(
        "hoshu-agent enroll --gateway https://{host}/ --code {}",
        lent.code
    );
    let body = html! {
        section.card {
            p.notice { (lent.asset_tag) " → " (lent.holder) }
            p.notice { (lang.t(DeviceText::CodeIssued)) }
            p { code #enrolment-code { (lent.code) } }
            p { (lang.t(DeviceText::CodeHelp)) }
            pre #enrol-command { (command) }
            p { a href=(back) { "← " (lang.t(T::Vendors)) } }
        }
    };
    page(&frame, body)
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    asset_tag: String,
}

/// Revokes one of the vendor's devices: its certificate stops working at once.
pub async fn revoke(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Response {
    let result = devices::revoke_device(
        &state.store,
        &form.asset_tag,
        Some(VendorId(id)),
        &viewer.user.login,
    )
    .await
    .map(|_| ());
    state.access_changed.notify_one();
    done(lang, &viewer, &format!("/admin/vendors/{id}"), result)
}
