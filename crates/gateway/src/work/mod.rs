//! Per-work approval (DESIGN §5): a vendor engineer asks for targets, a time window and a
//! purpose; an approver approves or rejects with a comment; an approval can be revoked, which
//! ends the sessions it allowed at once.

pub mod api;
pub mod pages;

use hoshu_domain::{AuditEvent, AuditKind, Role};
use hoshu_storage::{User, WorkRequest, WorkRequestState};
use serde::Deserialize;

use crate::app::error::{OpError, OpResult};
use crate::app::fields::{note_text, short_text};
use crate::app::state::{AppState, unix_now};
use crate::sessions::policy;

/// The longest window one request may ask for.
const MAX_WINDOW_SECS: i64 = 31 * 24 * 3600;
/// Most targets in one request.
const MAX_TARGETS: usize = 50;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub targets: Vec<String>,
    pub purpose: String,
    /// Unix seconds.
    pub starts_at: i64,
    pub ends_at: i64,
}

pub async fn request(state: &AppState, user: &User, new: NewRequest) -> OpResult<i64> {
    if user.role != Role::Vendor {
        return Err(OpError::Forbidden(
            "work requests are made by vendor engineers".to_owned(),
        ));
    }
    let purpose = short_text("the purpose", &new.purpose.replace(['\r', '\n'], " "), 1000)?;
    let now = unix_now();
    if new.ends_at <= new.starts_at {
        return Err(OpError::Invalid(
            "the work window must end after it starts".to_owned(),
        ));
    }
    if new.ends_at <= now {
        return Err(OpError::Invalid(
            "the work window is already over; choose a time in the future".to_owned(),
        ));
    }
    if new.ends_at - new.starts_at > MAX_WINDOW_SECS {
        return Err(OpError::Invalid(
            "one request may cover at most 31 days; split longer work".to_owned(),
        ));
    }
    if new.targets.is_empty() || new.targets.len() > MAX_TARGETS {
        return Err(OpError::Invalid(format!("name 1 to {MAX_TARGETS} targets")));
    }
    let mut ids = Vec::new();
    for name in &new.targets {
        let target = state.store.target_by_name(name).await?;
        // A target the user may not see is reported exactly like one that does not exist.
        let visible = match &target {
            Some(t) => match policy::facts(state, user.id, t.id).await {
                Ok(facts) => policy::listed(&facts),
                Err(_) => false,
            },
            None => false,
        };
        match target {
            Some(t) if visible => ids.push(t.id),
            _ => {
                return Err(OpError::NotFound(format!(
                    "no target named {name:?} is available to you"
                )));
            }
        }
    }
    let id = state
        .store
        .create_work_request(user.id, &ids, &purpose, new.starts_at, new.ends_at, now)
        .await?;
    for approver in state.store.users().await? {
        if matches!(approver.role, Role::Approver | Role::Admin) {
            state
                .store
                .notify(approver.id, "work-request-new", Some(id), now)
                .await?;
        }
    }
    let event = AuditEvent::new(AuditKind::WorkRequested)
        .actor(user.login.as_str())
        .detail("request", id)
        .detail("targets", new.targets.clone())
        .detail("purpose", purpose.as_str())
        .detail("starts_at", new.starts_at)
        .detail("ends_at", new.ends_at);
    state.audit(event).await?;
    Ok(id)
}

/// What an approver (or the requester, for `Withdraw`) does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approve,
    Reject,
    /// Take back an approval: sessions under it end.
    Revoke,
    /// The requester takes the request back.
    Withdraw,
}

impl std::str::FromStr for Decision {
    type Err = OpError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "approve" => Ok(Decision::Approve),
            "reject" => Ok(Decision::Reject),
            "revoke" => Ok(Decision::Revoke),
            "withdraw" => Ok(Decision::Withdraw),
            _ => Err(OpError::Invalid(
                "decision must be approve, reject, revoke or withdraw".to_owned(),
            )),
        }
    }
}

pub async fn decide(
    state: &AppState,
    actor: &User,
    id: i64,
    decision: Decision,
    comment: &str,
) -> OpResult<WorkRequest> {
    let comment = note_text("the comment", comment, 1000)?;
    let Some(request) = state.store.work_request(id).await? else {
        return Err(OpError::NotFound(format!("no work request has id {id}")));
    };
    let approver = matches!(actor.role, Role::Approver | Role::Admin);
    let (from, to) = match decision {
        Decision::Approve => (WorkRequestState::Pending, WorkRequestState::Approved),
        Decision::Reject => (WorkRequestState::Pending, WorkRequestState::Rejected),
        Decision::Revoke => (WorkRequestState::Approved, WorkRequestState::Revoked),
        Decision::Withdraw => (request.state, WorkRequestState::Withdrawn),
    };
    match decision {
        Decision::Withdraw if request.user_id != actor.id => {
            return Err(OpError::Forbidden(
                "only the engineer who made a request may withdraw it".to_owned(),
            ));
        }
        Decision::Withdraw
            if !matches!(
                request.state,
                WorkRequestState::Pending | WorkRequestState::Approved
            ) =>
        {
            return Err(OpError::Conflict(format!(
                "the request is {}; only pending or approved requests can be withdrawn",
                request.state.as_str()
            )));
        }
        Decision::Withdraw => {}
        _ if !approver => {
            return Err(OpError::Forbidden(
                "only approvers and administrators decide work requests".to_owned(),
            ));
        }
        // Four eyes: nobody approves their own work.
        _ if request.user_id == actor.id => {
            return Err(OpError::Forbidden(
                "you cannot decide your own work request".to_owned(),
            ));
        }
        Decision::Reject | Decision::Revoke if comment.is_empty() => {
            return Err(OpError::Invalid(
                "say why in the comment, so the engineer knows what to change".to_owned(),
            ));
        }
        _ => {}
    }
    if request.state != from {
        return Err(OpError::Conflict(format!(
            "the request is {}, not {}; reload to see its current state",
            request.state.as_str(),
            from.as_str()
        )));
    }
    if !state
        .store
        .decide_work_request(id, from, to, &actor.login, &comment, unix_now())
        .await?
    {
        return Err(OpError::Conflict(
            "the request was decided by someone else meanwhile; reload".to_owned(),
        ));
    }
    let event = AuditEvent::new(AuditKind::WorkDecided)
        .actor(actor.login.as_str())
        .subject(request.user_login.as_str())
        .detail("request", id)
        .detail("from", from.as_str())
        .detail("to", to.as_str())
        .detail("comment", comment.as_str());
    state.audit(event).await?;
    state.access_changed.notify_one();
    state
        .store
        .work_request(id)
        .await?
        .ok_or_else(|| OpError::NotFound(format!("no work request has id {id}")))
}

/// The requests `user` may see: their own (vendors), all (approvers, admins, auditors).
pub async fn visible(state: &AppState, user: &User) -> OpResult<Vec<WorkRequest>> {
    let only = (user.role == Role::Vendor).then_some(user.id);
    Ok(state.store.work_requests(only).await?)
}
