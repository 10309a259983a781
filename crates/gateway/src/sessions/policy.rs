//! The access decision (DESIGN §5, `hoshu_domain::decide`) wired to the store and the clock,
//! and the task that re-checks live sessions: every `recheck_secs`, and within a quarter of a
//! second of any change the decision depends on — also when the change came from the admin
//! command line (the schema's triggers move `access_generation`; this task polls it).

use std::sync::atomic::Ordering;
use std::time::Duration;

use hoshu_domain::{
    AccessFacts, AuditEvent, AuditKind, Denial, DeviceFacts, DeviceStanding, TargetId, UserId,
};
use time::Date;

use crate::app::services::Shutdown;
use crate::app::state::{AppState, unix_now};
use crate::sessions::Outcome;
use crate::ui::i18n::Lang;

/// How often the change counter is read: the bound on how late an emergency stop from the
/// command line cuts sessions (DESIGN §8: within 1 s).
const POLL: Duration = Duration::from_millis(250);

/// The calendar day now in the organisation's time zone.
pub fn today(state: &AppState) -> Date {
    state.config.access.today()
}

/// Why the decision went against the user or could not be made.
#[derive(Debug)]
pub enum Verdict {
    Denied(Denial),
    /// The user or the target was removed.
    Gone,
    /// The database failed; logged where it happened.
    Failed,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Denied(denial) => denial.fmt(f),
            Verdict::Gone => f.write_str("the user or the target no longer exists"),
            Verdict::Failed => f.write_str(
                "the access decision could not be made (database error); tell the administrator",
            ),
        }
    }
}

/// The facts for `user` on `target` now.
pub async fn facts(
    state: &AppState,
    user: UserId,
    target: TargetId,
) -> Result<AccessFacts, Verdict> {
    facts_presenting(state, user, target, None).await
}

/// The facts, for a request (or a session opened by one) that presented the certificate of the
/// user's device `presented`.
pub async fn facts_presenting(
    state: &AppState,
    user: UserId,
    target: TargetId,
    presented: Option<&str>,
) -> Result<AccessFacts, Verdict> {
    let now = unix_now();
    let facts = state
        .store
        .access_facts(user, target, now, today(state))
        .await;
    let mut facts = match facts {
        Ok(Some(facts)) => facts,
        Ok(None) => return Err(Verdict::Gone),
        Err(e) => {
            tracing::error!(error = %e, "Cannot read the access facts");
            return Err(Verdict::Failed);
        }
    };
    facts.device = device_facts(state, user, now).await.map_err(|e| {
        tracing::error!(error = %e, "Cannot read the user's devices");
        Verdict::Failed
    })?;
    facts.device.presented = presented.map(str::to_owned);
    Ok(facts)
}

/// The device rule's facts (DESIGN §6): the user's enrolled, unrevoked devices within their
/// lending period, each with its last report evaluated against its policy now — so a
/// device that stopped reporting turns stale by itself, without a new report.
async fn device_facts(
    state: &AppState,
    user: UserId,
    now: i64,
) -> Result<DeviceFacts, hoshu_storage::StorageError> {
    let settings = &state.config.posture;
    if !settings.required {
        return Ok(DeviceFacts::default());
    }
    let devices = state
        .store
        .devices_of_user(user)
        .await?
        .into_iter()
        .filter(|d| crate::devices::device_counts(d, now))
        .map(|d| DeviceStanding {
            posture: crate::devices::posture_now(&settings.policy, &d, now),
            asset_tag: d.asset_tag,
        })
        .collect();
    Ok(DeviceFacts {
        required: true,
        devices,
        presented_only: settings.browser_certificate,
        presented: None,
    })
}

/// Whether `user` may have a session on `target` now; when allowed, the re-checker is told
/// when the clock alone ends the allowance (`allowed_until`).
pub async fn check(
    state: &AppState,
    user: UserId,
    target: TargetId,
    presented: Option<&str>,
) -> Result<(), Verdict> {
    let facts = facts_presenting(state, user, target, presented).await?;
    hoshu_domain::decide(&facts).map_err(Verdict::Denied)?;
    if let Some(until) = hoshu_domain::allowed_until(&facts) {
        state.access_deadline.fetch_min(until, Ordering::Relaxed);
    }
    Ok(())
}

/// Whether the target appears in the user's list: what they may open now, or could once a
/// work request is approved or an emergency stop lifted. Approvers and auditors see every
/// target (to read requests and recordings) though they open none.
pub fn listed(facts: &AccessFacts) -> bool {
    let without_locks = AccessFacts {
        locks: Vec::new(),
        ..facts.clone()
    };
    matches!(
        hoshu_domain::decide(&without_locks),
        Ok(())
            | Err(Denial::NoApproval
                    | Denial::RoleMayNotOpen(_)
                    // Listed: the target opens once the device is fixed.
                    | Denial::NoDevice
                    | Denial::DeviceNotPresented
                    | Denial::DeviceNotReporting { .. }
                    | Denial::DeviceNotCompliant { .. })
    )
}

/// Re-checks every live session once; ends those no longer allowed, with the reason. Lowers
/// `access_deadline` to the earliest time at which a session still allowed stops being allowed
/// by the clock alone (an approval window's end), so the next check can be then.
pub async fn recheck_live(state: &AppState) {
    let now = unix_now();
    for live in state.sessions.live_sessions() {
        let id = live.id;
        // The login that opened the session must still be there (not logged out, expired,
        // reset or locked); while a remote session runs its login counts as in use.
        if let Some(login) = &live.login {
            match login_in_force(state, login, now).await {
                Ok(true) => {}
                Ok(false) => {
                    if state.sessions.end(&id, Outcome::LoggedOut) {
                        tracing::info!(session = %id, "Session's login ended; session ended");
                    }
                    continue;
                }
                // A database hiccup must not cut every session; the next round decides again.
                Err(_) => continue,
            }
        }
        let (user, target, presented) = (live.user, live.target, live.presented);
        let verdict = match facts_presenting(state, user, target, presented.as_deref()).await {
            Ok(facts) => match hoshu_domain::decide(&facts) {
                Ok(()) => {
                    if let Some(until) = hoshu_domain::allowed_until(&facts) {
                        state.access_deadline.fetch_min(until, Ordering::Relaxed);
                    }
                    Ok(())
                }
                Err(denial) => Err(Verdict::Denied(denial)),
            },
            Err(verdict) => Err(verdict),
        };
        let outcome = match verdict {
            Ok(()) => continue,
            // A database hiccup must not cut every session; the next round decides again.
            Err(Verdict::Failed) => continue,
            // The user is told in their own language by the session's tunnel.
            Err(Verdict::Denied(denial)) => Outcome::Denied(denial),
            Err(Verdict::Gone) => Outcome::UserOrTargetGone,
        };
        let reason = outcome.message(Lang::En);
        if state.sessions.end(&id, outcome.clone()) {
            tracing::info!(session = %id, reason = outcome.code(), "Session no longer allowed; ended");
            let event = AuditEvent::new(AuditKind::SessionRevoked)
                .detail("session", id.as_str())
                .detail("reason", reason.as_str())
                .detail("code", outcome.code());
            if let Err(e) = state.audit(event).await {
                tracing::error!(error = %e, "Cannot audit a revoked session");
            }
        }
    }
}

/// Whether the login `token_hash` is still in force (present, not past its absolute expiry);
/// a live login's last use is moved on, so idle expiry does not cut a user who is working in a
/// remote session.
async fn login_in_force(
    state: &AppState,
    token_hash: &[u8; 32],
    now: i64,
) -> Result<bool, hoshu_storage::StorageError> {
    let Some(login) = state.store.session(token_hash).await? else {
        return Ok(false);
    };
    if now >= login.expires_at {
        return Ok(false);
    }
    if now - login.last_seen >= 60 {
        state.store.touch_session(token_hash, now).await?;
    }
    Ok(true)
}

/// The re-checking service; runs until shutdown. A session opened between two checks lowers
/// `access_deadline` itself (in `check`).
pub async fn recheck(state: AppState, mut shutdown: Shutdown) {
    let every = Duration::from_secs(state.config.access.recheck_secs);
    let mut last_generation = state.store.access_generation().await.ok();
    let mut last_full = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = state.access_changed.notified() => {}
            () = shutdown.requested() => return,
        }
        let generation = state.store.access_generation().await.ok();
        let changed = generation.is_some() && generation != last_generation;
        // An approval window ending is checked at that second, not up to `every` later.
        let due = unix_now() >= state.access_deadline.load(Ordering::Relaxed);
        if changed || due || last_full.elapsed() >= every {
            last_generation = generation;
            last_full = tokio::time::Instant::now();
            // Reset first: this round and any session opened meanwhile lower it again.
            state.access_deadline.store(i64::MAX, Ordering::Relaxed);
            recheck_live(&state).await;
        }
    }
}
