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
use crate::emergency::{self, Scope};
use crate::ui::access_texts::A;
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
        title: lang.a(A::EmergencyStop),
        viewer: Some(&viewer),
        csrf: &csrf.0,
        here: "/admin/emergency",
    };
    let scope_label = |scope: &LockScope| {
        lang.a(match scope {
            LockScope::All => A::ScopeAll,
            LockScope::Vendor(_) => A::ScopeVendor,
            LockScope::Target(_) => A::ScopeTarget,
            LockScope::User(_) => A::ScopeUser,
        })
    };
    let body = html! {
        section.card.wide {
            p { a href="/" { "← " (lang.t(T::BackToPortal)) } }
            h1 { (lang.a(A::EmergencyStop)) }
            p.lead { (lang.a(A::EmergencyHelp)) }
            @if admin {
                form.stack #stop-all method="post" action="/admin/emergency/stop" {
                    input type="hidden" name="csrf" value=(csrf.0);
                    input type="hidden" name="scope" value="all";
                    label { (lang.a(A::Reason)) input type="text" name="reason" required maxlength="500"; }
                    button.danger type="submit" { (lang.a(A::StopNow)) " — " (lang.a(A::ScopeAll)) }
                }
                form.stack #stop-one method="post" action="/admin/emergency/stop" {
                    input type="hidden" name="csrf" value=(csrf.0);
                    label { (lang.a(A::Scope))
                        select name="scope" {
                            option value="vendor" { (lang.a(A::ScopeVendor)) }
                            option value="target" { (lang.a(A::ScopeTarget)) }
                            option value="user" { (lang.a(A::ScopeUser)) }
                        }
                    }
                    label { (lang.a(A::NameOfScope)) input type="text" name="name" required maxlength="100"; }
                    label { (lang.a(A::Reason)) input type="text" name="reason" required maxlength="500"; }
                    button.danger type="submit" { (lang.a(A::StopNow)) }
                }
            }
            h2 { (lang.a(A::LocksInForce)) }
            @if locks.is_empty() {
                p #no-locks { (lang.a(A::NoLocks)) }
            } @else {
                table.list #locks {
                    thead { tr { th { (lang.a(A::Scope)) } th { (lang.a(A::NameOfScope)) } th { (lang.a(A::Reason)) } th { (lang.a(A::Actor)) } th { (lang.t(T::When)) } th {} } }
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
                                            button.lift type="submit" { (lang.a(A::Lift)) }
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
