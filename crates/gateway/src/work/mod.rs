//! Per-work approval (DESIGN §5): a vendor engineer asks for targets, a time window and a
//! purpose; an approver approves or rejects with a comment; an approval can be revoked, which
//! ends the sessions it allowed at once.

pub mod api;
pub mod pages;
pub mod texts;

use hoshu_domain::{AuditEvent, AuditKind, Role};
use hoshu_storage::{User, WorkRequest, WorkRequestState};
use serde::Deserialize;

use crate::app::error::{Missing, OpError, OpResult};
use crate::app::fields::{Field, note_text, short_text};
use crate::app::state::{AppState, unix_now};
use crate::sessions::policy;
use texts::WorkRefusal;

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
        return Err(WorkRefusal::NotAVendor.into());
    }
    let purpose = short_text(
        Field::Purpose,
        &new.purpose.replace(['\r', '\n'], " "),
        1000,
    )?;
    let now = unix_now();
    if new.ends_at <= new.starts_at {
        return Err(WorkRefusal::WindowOrder.into());
    }
    if new.ends_at <= now {
        return Err(WorkRefusal::WindowOver.into());
    }
    if new.ends_at - new.starts_at > MAX_WINDOW_SECS {
        return Err(WorkRefusal::WindowTooLong {
            max_days: MAX_WINDOW_SECS / 86_400,
        }
        .into());
    }
    if new.targets.is_empty() || new.targets.len() > MAX_TARGETS {
        return Err(WorkRefusal::TargetCount { max: MAX_TARGETS }.into());
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
                return Err(WorkRefusal::UnknownTarget { name: name.clone() }.into());
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
            _ => Err(WorkRefusal::UnknownDecision.into()),
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
    let comment = note_text(Field::Comment, comment, 1000)?;
    let Some(request) = state.store.work_request(id).await? else {
        return Err(Missing::WorkRequest(id).into());
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
            return Err(WorkRefusal::NotYourRequest.into());
        }
        Decision::Withdraw
            if !matches!(
                request.state,
                WorkRequestState::Pending | WorkRequestState::Approved
            ) =>
        {
            return Err(WorkRefusal::NotWithdrawable {
                state: request.state,
            }
            .into());
        }
        Decision::Withdraw => {}
        _ if !approver => {
            return Err(WorkRefusal::NotADecider.into());
        }
        // Four eyes: nobody approves their own work.
        _ if request.user_id == actor.id => {
            return Err(WorkRefusal::OwnRequest.into());
        }
        Decision::Reject | Decision::Revoke if comment.is_empty() => {
            return Err(WorkRefusal::ReasonRequired.into());
        }
        _ => {}
    }
    if request.state != from {
        return Err(WorkRefusal::WrongState {
            state: request.state,
            expected: from,
        }
        .into());
    }
    if !state
        .store
        .decide_work_request(id, from, to, &actor.login, &comment, unix_now())
        .await?
    {
        return Err(WorkRefusal::DecidedMeanwhile.into());
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
        .ok_or_else(|| Missing::WorkRequest(id).into())
}

/// The requests `user` may see: their own (vendors), all (approvers, admins, auditors).
pub async fn visible(state: &AppState, user: &User) -> OpResult<Vec<WorkRequest>> {
    let only = (user.role == Role::Vendor).then_some(user.id);
    Ok(state.store.work_requests(only).await?)
}
