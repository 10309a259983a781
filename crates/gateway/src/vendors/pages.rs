//! Admin pages of the vendor life cycle (seed §6): the vendor list with the hearing-sheet form,
//! and one vendor's page — application flow with its timeline, documents, lent devices
//! (pages/devices.rs),
//! contracts and users. Auditors read them; only administrators change anything.

use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hoshu_domain::{ApplicationState, Protocol, Role, VendorId};
use hoshu_storage::NewUser;
use maud::{Markup, html};
use serde::Deserialize;

use crate::app::error::OpError;
use crate::app::fields::{Field, parse_day};
use crate::app::guard::{CsrfToken, Viewer};
use crate::app::state::AppState;
use crate::app::web::ApiError;
use crate::login::texts::LoginRefusal;
use crate::ui::done;
use crate::ui::i18n::{Lang, T};
use crate::ui::op_error_page;
use crate::ui::{CsrfForm, Frame, PageCsrf, error_page, format_at, page};
use crate::vendors::texts::VendorRefusal;
use crate::vendors::texts::VendorText;
use crate::vendors::{self, HearingSheet};

fn can_change(viewer: &Viewer) -> bool {
    viewer.user.role == Role::Admin
}

pub async fn list(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Extension(csrf): PageCsrf,
) -> Result<Response, ApiError> {
    let vendors = state.store.vendors().await?;
    let frame = Frame {
        lang,
        title: lang.t(T::Vendors),
        viewer: Some(&viewer),
        csrf: &csrf.0,
        here: "/admin/vendors",
    };
    let body = html! {
        section.card.wide {
            h1 { (lang.t(T::Vendors)) }
            table.list #vendors {
                thead { tr { th { (lang.t(VendorText::VendorName)) } th { (lang.t(T::State)) } } }
                tbody {
                    @for v in &vendors {
                        tr data-vendor=(v.name) {
                            td { a href={ "/admin/vendors/" (v.id) } { (v.name) } }
                            td.state data-state=(v.state.as_str()) { (lang.application_state(v.state)) }
                        }
                    }
                }
            }
            @if can_change(&viewer) {
                h2 { (lang.t(VendorText::NewVendor)) }
                form.stack #new-vendor method="post" action="/admin/vendors" {
                    input type="hidden" name="csrf" value=(csrf.0);
                    label { (lang.t(VendorText::VendorName)) input type="text" name="name" required maxlength="100"; }
                    label { (lang.t(VendorText::Contacts)) input type="text" name="contacts" required maxlength="500"; }
                    label { (lang.t(VendorText::SystemsList)) " (" (lang.t(VendorText::SystemsHelp)) ")" input type="text" name="systems" maxlength="1000"; }
                    label { (lang.t(VendorText::Tools)) textarea name="tools" rows="2" maxlength="2000" {} }
                    fieldset {
                        legend { (lang.t(VendorText::Protocols)) }
                        @for p in Protocol::ALL {
                            label.check { input type="checkbox" name={ "protocol_" (p.as_str()) } value="on"; (p.as_str().to_uppercase()) }
                        }
                    }
                    label { (lang.t(VendorText::Frequency)) input type="text" name="frequency" maxlength="200"; }
                    button type="submit" { (lang.t(VendorText::SubmitHearingSheet)) }
                }
            }
        }
    };
    Ok(page(&frame, body))
}

#[derive(Debug, Deserialize)]
pub struct VendorForm {
    name: String,
    contacts: String,
    #[serde(default)]
    systems: String,
    #[serde(default)]
    tools: String,
    #[serde(default)]
    frequency: String,
    protocol_vnc: Option<String>,
    protocol_rdp: Option<String>,
    protocol_ssh: Option<String>,
}

pub async fn add(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<VendorForm>,
) -> Response {
    let protocols = [
        (Protocol::Vnc, &form.protocol_vnc),
        (Protocol::Rdp, &form.protocol_rdp),
        (Protocol::Ssh, &form.protocol_ssh),
    ]
    .into_iter()
    .filter_map(|(p, on)| on.is_some().then_some(p))
    .collect();
    let sheet = HearingSheet {
        contacts: form.contacts,
        systems: form.systems.split([',', '、']).map(str::to_owned).collect(),
        tools: form.tools,
        protocols,
        frequency: form.frequency,
    };
    match vendors::add_vendor(&state.store, &form.name, sheet, &viewer.user.login).await {
        Ok(id) => Redirect::to(&format!("/admin/vendors/{id}")).into_response(),
        Err(err) => op_error_page(lang, &viewer, "/admin/vendors", err),
    }
}

fn sheet_view(lang: Lang, sheet: &serde_json::Value) -> Markup {
    let text = |key: &str| sheet[key].as_str().unwrap_or("").to_owned();
    let list = |key: &str| {
        sheet[key]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    html! {
        dl.facts #hearing-sheet {
            dt { (lang.t(VendorText::Contacts)) } dd { (text("contacts")) }
            dt { (lang.t(VendorText::SystemsList)) } dd { (list("systems")) }
            dt { (lang.t(VendorText::Tools)) } dd { (text("tools")) }
            dt { (lang.t(VendorText::Protocols)) } dd { (list("protocols")) }
            dt { (lang.t(VendorText::Frequency)) } dd { (text("frequency")) }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Extension(csrf): PageCsrf,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let Some(vendor) = state.store.vendor(VendorId(id)).await? else {
        return Ok(error_page(lang, StatusCode::NOT_FOUND, T::NotFound));
    };
    let timeline = state.store.application_events(vendor.id).await?;
    let documents = state.store.documents(vendor.id).await?;
    let devices = state.store.vendor_devices(vendor.id).await?;
    let legacy_devices = state.store.legacy_lent_devices(vendor.id).await?;
    let contracts = state.store.contracts(Some(vendor.id)).await?;
    let systems = state.store.systems().await?;
    let users: Vec<_> = state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.vendor.as_deref() == Some(vendor.name.as_str()))
        .collect();
    let here = format!("/admin/vendors/{id}");
    let frame = Frame {
        lang,
        title: &vendor.name,
        viewer: Some(&viewer),
        csrf: &csrf.0,
        here: &here,
    };
    let admin = can_change(&viewer);
    let offset = state.config.access.utc_offset_hours;
    let hidden = html! { input type="hidden" name="csrf" value=(csrf.0); };
    let body = html! {
        section.card.wide {
            p { a href="/admin/vendors" { "← " (lang.t(T::Vendors)) } }
            h1 #vendor-name { (vendor.name) }
            p { (lang.t(T::State)) ": " strong #application-state data-state=(vendor.state.as_str()) { (lang.application_state(vendor.state)) } }
            h2 { (lang.t(VendorText::HearingSheet)) }
            (sheet_view(lang, &vendor.hearing_sheet))

            h2 { (lang.t(VendorText::Application)) }
            @if admin {
                @if vendor.state.next().is_empty() {
                    p { (lang.t(VendorText::NoMoves)) }
                } @else {
                    form.stack #move-application method="post" action={ (here) "/move" } {
                        (hidden)
                        label { (lang.t(VendorText::Note)) textarea name="note" rows="2" maxlength="2000" {} }
                        div.buttons {
                            @for next in vendor.state.next() {
                                button type="submit" name="to" value=(next.as_str()) data-to=(next.as_str()) {
                                    (lang.t(VendorText::MoveTo)) ": " (lang.application_state(*next))
                                }
                            }
                        }
                    }
                }
            }
            h3 { (lang.t(VendorText::Timeline)) }
            table.list #timeline {
                thead { tr { th { (lang.t(T::When)) } th { (lang.t(T::State)) } th { (lang.t(T::Actor)) } th { (lang.t(VendorText::Note)) } } }
                tbody {
                    @for e in &timeline {
                        tr data-to=(e.to.as_str()) {
                            td { (format_at(e.at, offset)) }
                            td { (lang.application_state(e.to)) }
                            td { (e.actor) }
                            td { (e.note) }
                        }
                    }
                }
            }

            h2 { (lang.t(VendorText::Documents)) }
            table.list #documents {
                tbody {
                    @for d in &documents {
                        tr {
                            td { a href={ "/api/v1/documents/" (d.id) } { (d.filename) } }
                            td { (d.size) " B" }
                            td { (format_at(d.created_at, offset)) }
                            td { (d.uploaded_by) }
                        }
                    }
                }
            }
            @if admin {
                form.stack #attach-document method="post" action={ (here) "/documents" } enctype="multipart/form-data" {
                    (hidden)
                    label { (lang.t(VendorText::AttachDocument)) " (" (lang.t(VendorText::DocumentHelp)) ")" input type="file" name="file" required; }
                    button type="submit" { (lang.t(VendorText::Attach)) }
                }
            }

            (crate::devices::views::vendor_section(
                lang,
                &state,
                &vendor,
                admin.then_some(csrf.0.as_str()),
                &devices,
                &legacy_devices,
                &users,
            ))

            h2 { (lang.t(VendorText::Contracts)) }
            table.list #contracts {
                thead { tr { th { (lang.t(T::Id)) } th { (lang.t(VendorText::ContractTitle)) } th { (lang.t(T::ValidFrom)) } th { (lang.t(T::ValidUntil)) } th { (lang.t(T::System)) } } }
                tbody {
                    @for c in &contracts {
                        tr {
                            td { (c.id) }
                            td { (c.title) }
                            td { (c.valid_from) }
                            td { (c.valid_until) }
                            td { (c.systems.join(", ")) }
                        }
                    }
                }
            }
            @if admin {
                form.stack #add-contract method="post" action={ (here) "/contracts" } {
                    (hidden)
                    label { (lang.t(VendorText::ContractTitle)) input type="text" name="title" required maxlength="200"; }
                    label { (lang.t(T::ValidFrom)) input type="date" name="valid_from" required; }
                    label { (lang.t(T::ValidUntil)) input type="date" name="valid_until" required; }
                    label { (lang.t(T::System)) " (" (lang.t(VendorText::SystemsHelp)) ")"
                        input type="text" name="systems" required list="known-systems" maxlength="1000";
                    }
                    datalist id="known-systems" { @for s in &systems { option value=(s.name) {} } }
                    button type="submit" { (lang.t(VendorText::AddContract)) }
                }
            }

            h2 { (lang.t(VendorText::Users)) }
            table.list #vendor-users {
                tbody {
                    @for u in &users {
                        tr data-login=(u.login) {
                            td { (u.login) }
                            td { (u.name) }
                            td { @if let Some(until) = u.demo_until { "demo → " (format_at(until, offset)) } }
                            td { @if u.vendor_manager { (lang.t(VendorText::Manager)) } }
                        }
                    }
                }
            }
            @if admin {
                form.stack #add-user method="post" action={ (here) "/users" } {
                    (hidden)
                    label { (lang.t(T::LoginId)) input type="text" name="login" required maxlength="64"; }
                    label { (lang.t(T::User)) input type="text" name="name" required maxlength="100"; }
                    label { (lang.t(VendorText::DemoDays)) " (" (lang.t(VendorText::DemoDaysHelp)) ")" input type="number" name="demo_days" min="1" max="365"; }
                    label.check { input type="checkbox" name="manager" value="on"; (lang.t(VendorText::Manager)) }
                    button type="submit" { (lang.t(VendorText::AddUser)) }
                }
            }
        }
    };
    Ok(page(&frame, body))
}

#[derive(Debug, Deserialize)]
pub struct MoveForm {
    to: String,
    #[serde(default)]
    note: String,
}

pub async fn move_application(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> Response {
    let back = format!("/admin/vendors/{id}");
    let result = match form.to.parse::<ApplicationState>() {
        Ok(to) => vendors::move_application(
            &state.store,
            VendorId(id),
            to,
            &form.note,
            &viewer.user.login,
            state.config.access.today(),
        )
        .await
        .map(|_| ()),
        Err(_) => Err(VendorRefusal::UnknownState {
            given: form.to.clone(),
        }
        .into()),
    };
    state.access_changed.notify_one();
    done(lang, &viewer, &back, result)
}

#[derive(Debug, Deserialize)]
pub struct ContractForm {
    title: String,
    valid_from: String,
    valid_until: String,
    systems: String,
}

pub async fn add_contract(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ContractForm>,
) -> Response {
    let result = async {
        let from = parse_day(Field::ValidFrom, &form.valid_from)?;
        let until = parse_day(Field::ValidUntil, &form.valid_until)?;
        let systems: Vec<String> = form
            .systems
            .split([',', '、'])
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        for system in &systems {
            // A system named here for the first time is registered, as `target add` does.
            vendors::add_system(&state.store, system, "", &viewer.user.login).await?;
        }
        vendors::add_contract(
            &state.store,
            VendorId(id),
            &form.title,
            from,
            until,
            &systems,
            &viewer.user.login,
        )
        .await
        .map(|_| ())
    }
    .await;
    state.access_changed.notify_one();
    done(lang, &viewer, &format!("/admin/vendors/{id}"), result)
}

#[derive(Debug, Deserialize)]
pub struct UserForm {
    login: String,
    name: String,
    #[serde(default)]
    demo_days: String,
    manager: Option<String>,
}

pub async fn add_user(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<UserForm>,
) -> Response {
    let back = format!("/admin/vendors/{id}");
    let result = async {
        let vendor = vendors::vendor(&state.store, VendorId(id)).await?;
        let demo_days = match form.demo_days.trim() {
            "" => None,
            days => Some(
                days.parse::<u16>()
                    .ok()
                    .filter(|d| (1..=365).contains(d))
                    .ok_or_else(|| OpError::from(LoginRefusal::DemoDays))?,
            ),
        };
        let new = NewUser {
            login: &form.login,
            name: &form.name,
            role: Role::Vendor,
            vendor: Some(&vendor.name),
        };
        crate::login::add_user(
            &state.store,
            &state.config.login,
            &new,
            demo_days,
            form.manager.is_some(),
            &viewer.user.login,
        )
        .await
    }
    .await;
    match result {
        Ok(code) => {
            let frame = Frame {
                lang,
                title: lang.t(VendorText::AddUser),
                viewer: Some(&viewer),
                csrf: "",
                here: &back,
            };
            let body = html! {
                section.card {
                    p.notice { (lang.t(VendorText::RegistrationCodeIssued)) }
                    p { code #registration-code { (code) } }
                    p { a href=(back) { "← " (lang.t(T::Vendors)) } }
                }
            };
            page(&frame, body)
        }
        Err(err) => op_error_page(lang, &viewer, &back, err),
    }
}

/// The document form is multipart (a file); its CSRF field is checked here like
/// `CsrfForm` does for the others, before the file is looked at.
pub async fn attach_document(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Extension(token): Extension<CsrfToken>,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Response {
    let back = format!("/admin/vendors/{id}");
    let mut csrf_ok = false;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => {
                    csrf_ok = field.text().await.is_ok_and(|t| token.matches(&t));
                }
                Some("file") if csrf_ok => {
                    let name = field.file_name().unwrap_or("").to_owned();
                    match field.bytes().await {
                        Ok(bytes) => file = Some((name, bytes.to_vec())),
                        Err(_) => {
                            return op_error_page(
                                lang,
                                &viewer,
                                &back,
                                VendorRefusal::DocumentTooLarge {
                                    max_mib: vendors::MAX_DOCUMENT / (1024 * 1024),
                                }
                                .into(),
                            );
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => return error_page(lang, StatusCode::BAD_REQUEST, T::BadRequest),
        }
    }
    if !csrf_ok {
        return error_page(lang, StatusCode::FORBIDDEN, T::BadRequest);
    }
    let Some((name, bytes)) = file else {
        return op_error_page(lang, &viewer, &back, VendorRefusal::NoFile.into());
    };
    let result = vendors::add_document(
        &state.store,
        VendorId(id),
        None,
        &name,
        &bytes,
        &viewer.user.login,
    )
    .await
    .map(|_| ());
    done(lang, &viewer, &back, result)
}
