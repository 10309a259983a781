//! The portal home: who you are, your targets, your lent devices with their posture, and your
//! recent logins.

use axum::Extension;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::app::guard::{SESSION_COOKIE, Source, Viewer};
use crate::app::state::AppState;
use crate::app::web::{ApiError, set_cookie};
use crate::login::end_session;
use crate::portal::texts::PortalText;
use crate::ui::i18n::{Lang, T};
use crate::ui::{CsrfForm, Frame, PageCsrf, page};
use hoshu_domain::Role;

/// Login times are shown in UTC with the zone named; the browser's zone is not known here.
fn format_ms(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "?".to_owned())
}

pub async fn portal(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Extension(csrf): PageCsrf,
) -> Result<Response, ApiError> {
    let user = &viewer.user;
    let logins = state.store.recent_logins(&user.login, 10).await?;
    let notifications = state.store.notifications(user.id).await?;
    let unread: Vec<_> = notifications.iter().filter(|n| !n.read).collect();
    let devices = state.store.devices_of_user(user.id).await?;
    let mut targets = crate::sessions::visible::visible_targets(&state, &viewer).await?;
    // Grouped by business system, as contracts are.
    targets.sort_by(|a, b| (&a.system, &a.name).cmp(&(&b.system, &b.name)));
    let frame = Frame {
        lang,
        title: lang.t(PortalText::PortalTitle),
        viewer: Some(&viewer),
        csrf: &csrf.0,
        here: "/",
    };
    let body = html! {
        section.card.wide {
            h1 #welcome { (lang.t(PortalText::Welcome)) ", " span #user-name { (user.name) } }
            dl.facts {
                dt { (lang.t(T::LoginId)) } dd #user-login { (user.login) }
                dt { (lang.t(PortalText::Role)) } dd #user-role data-role=(user.role.as_str()) { (lang.role(user.role)) }
                @if let Some(vendor) = &user.vendor {
                    dt { (lang.t(T::Vendor)) } dd #user-vendor { (vendor) }
                }
            }
            nav.sub #portal-links {
                a #work-link href="/work" { (lang.t(T::WorkRequests)) }
                a #search-link href="/search" { (lang.t(T::SearchLogs)) }
                @if matches!(user.role, Role::Admin | Role::Auditor) {
                    a #vendors-link href="/admin/vendors" { (lang.t(T::Vendors)) }
                    a #emergency-link href="/admin/emergency" { (lang.t(T::EmergencyStop)) }
                    a #audit-link href="/audit" { (lang.t(T::AuditLog)) }
                }
            }
            @if !unread.is_empty() {
                h2 { (lang.t(PortalText::Notifications)) }
                ul #notifications {
                    @for n in &unread {
                        li data-kind=(n.kind) {
                            a href="/work" { (lang.notification(&n.kind, n.subject_id)) }
                            @if !n.note.is_empty() { " — " (n.note) }
                        }
                    }
                }
            }
            h2 { (lang.t(T::Targets)) }
            @if targets.is_empty() {
                p { (lang.t(T::NoTargets)) }
            } @else {
                table #targets {
                    thead { tr { th { (lang.t(T::Target)) } th { (lang.t(T::Protocol)) } th { (lang.t(T::System)) } th {} } }
                    tbody {
                        @for target in &targets {
                            tr data-target=(target.name) {
                                td { (target.name) }
                                td { (target.protocol.as_str()) }
                                td { (target.system.as_deref().unwrap_or("—")) }
                                td {
                                    form.inline method="post" action="/targets/open" {
                                        input type="hidden" name="csrf" value=(csrf.0);
                                        input type="hidden" name="target" value=(target.name);
                                        button.open type="submit" { (lang.t(T::Open)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if user.role == Role::Vendor || !devices.is_empty() {
                section #your-devices {
                    h2 { (lang.t(PortalText::YourDevices)) }
                    @if devices.is_empty() {
                        p { (lang.t(PortalText::NoDevices)) }
                    } @else {
                        (crate::devices::views::device_table(lang, &state, &devices, None))
                    }
                }
            }
            p { a #sessions-link href="/sessions" { (lang.t(T::Sessions)) } }
            h2 { (lang.t(PortalText::RecentLogins)) }
            @if logins.is_empty() {
                p { (lang.t(PortalText::NoLogins)) }
            } @else {
                table #recent-logins {
                    thead { tr { th { (lang.t(T::When)) } th { (lang.t(T::From)) } th { (lang.t(PortalText::Result)) } } }
                    tbody {
                        @for record in &logins {
                            tr class=(if record.success { "ok" } else { "failed" }) {
                                td { (format_ms(record.at_ms)) }
                                td.source { (record.source.as_deref().unwrap_or("—")) }
                                td { (lang.t(if record.success { PortalText::Success } else { PortalText::Failure })) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&frame, body))
}

#[derive(Debug, Deserialize)]
pub struct NoFields {}

pub async fn logout(
    State(state): State<AppState>,
    source: Source,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, ApiError> {
    end_session(&state, &viewer, source).await?;
    let mut response = Redirect::to("/login?notice=logged_out").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    Ok(response)
}
