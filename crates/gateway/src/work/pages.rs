//! The work-request page (DESIGN §5 per-work approval): vendor engineers request work on their
//! targets for a window and withdraw it; approvers and administrators approve, reject or
//! revoke with a comment; auditors read.

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use hoshu_domain::Role;
use hoshu_storage::WorkRequestState;
use maud::html;
use serde::Deserialize;

use crate::app::fields::{Field, local_time};
use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::app::web::ApiError;
use crate::sessions::visible::visible_targets;
use crate::ui::done;
use crate::ui::i18n::{Lang, T};
use crate::ui::{CsrfForm, Frame, PageCsrf, format_at};
use crate::work::texts::WorkText;
use crate::work::{self, Decision, NewRequest};

pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Extension(csrf): PageCsrf,
) -> Result<Response, ApiError> {
    let requests = work::visible(&state, &viewer.user).await?;
    let vendor = viewer.user.role == Role::Vendor;
    let decider = matches!(viewer.user.role, Role::Approver | Role::Admin);
    let targets = if vendor {
        visible_targets(&state, &viewer).await?
    } else {
        Vec::new()
    };
    let offset = state.config.access.utc_offset_hours;
    let frame = Frame {
        lang,
        title: lang.t(T::WorkRequests),
        viewer: Some(&viewer),
        csrf: &csrf.0,
        here: "/work",
    };
    let body = html! {
        section.card.wide {
            p { a href="/" { "← " (lang.t(T::BackToPortal)) } }
            h1 { (lang.t(T::WorkRequests)) }
            @if vendor {
                h2 { (lang.t(WorkText::NewWorkRequest)) }
                @if targets.is_empty() {
                    p { (lang.t(T::NoTargets)) }
                } @else {
                    form.stack #new-work-request method="post" action="/work" {
                        input type="hidden" name="csrf" value=(csrf.0);
                        fieldset {
                            legend { (lang.t(T::Targets)) }
                            @for (i, t) in targets.iter().enumerate() {
                                label.check { input type="checkbox" name={ "target." (i) } value=(t.name); (t.name) }
                            }
                        }
                        label { (lang.t(WorkText::Starts)) input type="datetime-local" name="starts" required; }
                        label { (lang.t(WorkText::Ends)) input type="datetime-local" name="ends" required; }
                        p.hint { (lang.t(WorkText::WindowHelp)) }
                        label { (lang.t(WorkText::Purpose)) textarea name="purpose" rows="2" required maxlength="1000" {} }
                        button type="submit" { (lang.t(WorkText::Request)) }
                    }
                }
            }
            @if requests.is_empty() {
                p { (lang.t(WorkText::NoWorkRequests)) }
            } @else {
                table.list #work-requests {
                    thead { tr {
                        th { (lang.t(T::Id)) } th { (lang.t(T::User)) } th { (lang.t(T::Targets)) }
                        th { (lang.t(WorkText::Starts)) } th { (lang.t(WorkText::Ends)) } th { (lang.t(WorkText::Purpose)) }
                        th { (lang.t(T::State)) } th { (lang.t(WorkText::Comment)) } th {}
                    } }
                    tbody {
                        @for w in &requests {
                            tr data-request=(w.id) data-state=(w.state.as_str()) {
                                td { (w.id) }
                                td { (w.user_login) @if let Some(v) = &w.vendor { br; small { (v) } } }
                                td { (w.targets.join(", ")) }
                                td { (format_at(w.starts_at, offset)) }
                                td { (format_at(w.ends_at, offset)) }
                                td { (w.purpose) }
                                td.state { (lang.work_state(w.state)) }
                                td { @if let Some(c) = &w.comment { (c) } @if let Some(by) = &w.decided_by { br; small { (by) } } }
                                td {
                                    @let mine = w.user_id == viewer.user.id;
                                    @let actions: Vec<(Decision, WorkText)> = match w.state {
                                        WorkRequestState::Pending if decider && !mine => vec![(Decision::Approve, WorkText::Approve), (Decision::Reject, WorkText::Reject)],
                                        WorkRequestState::Approved if decider && !mine => vec![(Decision::Revoke, WorkText::Revoke)],
                                        WorkRequestState::Pending | WorkRequestState::Approved if mine => vec![(Decision::Withdraw, WorkText::Withdraw)],
                                        _ => vec![],
                                    };
                                    @if !actions.is_empty() {
                                        form.inline.decision method="post" action={ "/work/" (w.id) "/decision" } {
                                            input type="hidden" name="csrf" value=(csrf.0);
                                            input type="text" name="comment" placeholder=(lang.t(WorkText::Comment)) maxlength="1000";
                                            @for (decision, label) in actions {
                                                button type="submit" name="decision" value=(decision_word(decision)) { (lang.t(label)) }
                                            }
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

fn decision_word(decision: Decision) -> &'static str {
    match decision {
        Decision::Approve => "approve",
        Decision::Reject => "reject",
        Decision::Revoke => "revoke",
        Decision::Withdraw => "withdraw",
    }
}

/// A `datetime-local` value in the organisation's time zone, as Unix seconds.
/// The request form: one checkbox per target (`target.N` = name), so it is read as a map.
pub async fn request(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(fields): CsrfForm<std::collections::HashMap<String, String>>,
) -> Response {
    let field = |name: &str| fields.get(name).map_or("", String::as_str);
    let offset = state.config.access.utc_offset_hours;
    let result = async {
        let new = NewRequest {
            targets: fields
                .iter()
                .filter(|(k, _)| k.starts_with("target."))
                .map(|(_, v)| v.clone())
                .collect(),
            purpose: field("purpose").to_owned(),
            starts_at: local_time(Field::WorkStart, field("starts"), offset)?,
            ends_at: local_time(Field::WorkEnd, field("ends"), offset)?,
        };
        work::request(&state, &viewer.user, new).await
    }
    .await;
    done(lang, &viewer, "/work", result.map(|_| ()))
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    comment: String,
}

pub async fn decide(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Response {
    let result = match form.decision.parse::<Decision>() {
        Ok(decision) => work::decide(&state, &viewer.user, id, decision, &form.comment)
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    done(lang, &viewer, "/work", result)
}
