//! The emergency-stop page (seed §5 緊急停止): the stops in force with a lift button each, a
//! form for a stop of a vendor, target or user, and one button that stops everything.

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use hoshu_domain::{LockScope, Role};
use maud::html;
use serde::Deserialize;

use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::app::web::ApiError;
use crate::emergency::texts::EmergencyText;
use crate::emergency::{self, Scope};
use crate::ui::done;
use crate::ui::i18n::{Lang, T};
use crate::ui::{CsrfForm, Frame, PageCsrf, format_at};

fn scope_word(scope: &LockScope) -> &'static str {
    match scope {
        LockScope::All => "all",
        LockScope::Vendor(_) => "vendor",
        LockScope::Target(_) => "target",
        LockScope::User(_) => "user",
    }
}

pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Extension(csrf): PageCsrf,
) -> Result<Response, ApiError> {
    let locks = state.store.active_locks().await?;
    let admin = viewer.user.role == Role::Admin;
    let offset = state.config.access.utc_offset_hours;
    let frame = Frame {
        lang,
        title: lang.t(T::EmergencyStop),
        viewer: Some(&viewer),
        csrf: &csrf.0,
        here: "/admin/emergency",
    };
    let scope_label = |scope: &LockScope| {
        lang.t(match scope {
            LockScope::All => EmergencyText::ScopeAll,
            LockScope::Vendor(_) => EmergencyText::ScopeVendor,
            LockScope::Target(_) => EmergencyText::ScopeTarget,
            LockScope::User(_) => EmergencyText::ScopeUser,
        })
    };
    let body = html! {
        section.card.wide {
            p { a href="/" { "← " (lang.t(T::BackToPortal)) } }
            h1 { (lang.t(T::EmergencyStop)) }
            p.lead { (lang.t(EmergencyText::EmergencyHelp)) }
            @if admin {
                form.stack #stop-all method="post" action="/admin/emergency/stop" {
                    input type="hidden" name="csrf" value=(csrf.0);
                    input type="hidden" name="scope" value="all";
                    label { (lang.t(EmergencyText::Reason)) input type="text" name="reason" required maxlength="500"; }
                    button.danger type="submit" { (lang.t(EmergencyText::StopNow)) " — " (lang.t(EmergencyText::ScopeAll)) }
                }
                form.stack #stop-one method="post" action="/admin/emergency/stop" {
                    input type="hidden" name="csrf" value=(csrf.0);
                    label { (lang.t(EmergencyText::Scope))
                        select name="scope" {
                            option value="vendor" { (lang.t(EmergencyText::ScopeVendor)) }
                            option value="target" { (lang.t(EmergencyText::ScopeTarget)) }
                            option value="user" { (lang.t(EmergencyText::ScopeUser)) }
                        }
                    }
                    label { (lang.t(EmergencyText::NameOfScope)) input type="text" name="name" required maxlength="100"; }
                    label { (lang.t(EmergencyText::Reason)) input type="text" name="reason" required maxlength="500"; }
                    button.danger type="submit" { (lang.t(EmergencyText::StopNow)) }
                }
            }
            h2 { (lang.t(EmergencyText::LocksInForce)) }
            @if locks.is_empty() {
                p #no-locks { (lang.t(EmergencyText::NoLocks)) }
            } @else {
                table.list #locks {
                    thead { tr { th { (lang.t(EmergencyText::Scope)) } th { (lang.t(EmergencyText::NameOfScope)) } th { (lang.t(EmergencyText::Reason)) } th { (lang.t(T::Actor)) } th { (lang.t(T::When)) } th {} } }
                    tbody {
                        @for lock in &locks {
                            tr data-scope=(scope_word(&lock.scope)) {
                                td { (scope_label(&lock.scope)) }
                                td { (lock.subject_name.as_deref().unwrap_or("—")) }
                                td { (lock.reason) }
                                td { (lock.created_by) }
                                td { (format_at(lock.created_at, offset)) }
                                td {
                                    @if admin {
                                        form.inline method="post" action="/admin/emergency/lift" {
                                            input type="hidden" name="csrf" value=(csrf.0);
                                            input type="hidden" name="scope" value=(scope_word(&lock.scope));
                                            input type="hidden" name="name" value=(lock.subject_name.as_deref().unwrap_or(""));
                                            button.lift type="submit" { (lang.t(EmergencyText::Lift)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(crate::ui::page(&frame, body))
}

#[derive(Debug, Deserialize)]
pub struct StopForm {
    scope: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    reason: String,
}

pub async fn stop(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<StopForm>,
) -> Response {
    let result = match Scope::parse(&form.scope, &form.name) {
        Ok(scope) => emergency::stop(&state.store, &scope, &form.reason, &viewer.user.login)
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    // Cut at once rather than at the next poll.
    state.access_changed.notify_one();
    done(lang, &viewer, "/admin/emergency", result)
}

pub async fn lift(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<StopForm>,
) -> Response {
    let result = match Scope::parse(&form.scope, &form.name) {
        Ok(scope) => emergency::lift(&state.store, &scope, &viewer.user.login)
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    done(lang, &viewer, "/admin/emergency", result)
}
