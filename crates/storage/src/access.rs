//! What the open-session decision reads (DESIGN §5): work requests, emergency stops, and the
//! facts gathered for `hoshu_domain::decide`; plus portal notifications.

use hoshu_domain::{
    AccessFacts, ActiveLock, ApprovalWindow, ContractFacts, LockScope, TargetFacts, TargetId,
    UserFacts, UserId, VendorId,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::Date;

use crate::{Result, StorageError, Store};

/// Where a work request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkRequestState {
    Pending,
    Approved,
    Rejected,
    /// Approved, then withdrawn by an approver: live sessions under it end.
    Revoked,
    /// Taken back by the requester.
    Withdrawn,
}

impl WorkRequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkRequestState::Pending => "pending",
            WorkRequestState::Approved => "approved",
            WorkRequestState::Rejected => "rejected",
            WorkRequestState::Revoked => "revoked",
            WorkRequestState::Withdrawn => "withdrawn",
        }
    }

    fn parse(s: &str) -> Result<WorkRequestState> {
        [
            WorkRequestState::Pending,
            WorkRequestState::Approved,
            WorkRequestState::Rejected,
            WorkRequestState::Revoked,
            WorkRequestState::Withdrawn,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
        .ok_or_else(|| StorageError::Corrupt(format!("work request state {s:?}")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkRequest {
    pub id: i64,
    pub user_id: UserId,
    pub user_login: String,
    pub vendor: Option<String>,
    pub purpose: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub state: WorkRequestState,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub comment: Option<String>,
    pub targets: Vec<String>,
    pub created_at: i64,
}

/// An emergency stop as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub id: i64,
    pub scope: LockScope,
    /// The vendor's, target's or user's name; `None` for a stop of everything.
    pub subject_name: Option<String>,
    pub reason: String,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub subject_id: Option<i64>,
    pub note: String,
    pub created_at: i64,
    pub read: bool,
}

const REQUEST_COLUMNS: &str = "w.id, w.user_id, u.login, v.name AS vendor, w.purpose, w.starts_at, \
     w.ends_at, w.state, w.decided_by, w.decided_at, w.comment, w.created_at, \
     (SELECT group_concat(name, char(31)) FROM (SELECT t.name FROM work_request_targets x \
       JOIN targets t ON t.id = x.target_id WHERE x.request_id = w.id ORDER BY t.name)) AS targets \
     FROM work_requests w JOIN users u ON u.id = w.user_id LEFT JOIN vendors v ON v.id = u.vendor_id";

fn request_from_row(row: &SqliteRow) -> Result<WorkRequest> {
    let state: String = row.try_get("state")?;
    let targets: Option<String> = row.try_get("targets")?;
    Ok(WorkRequest {
        id: row.try_get("id")?,
        user_id: UserId(row.try_get("user_id")?),
        user_login: row.try_get("login")?,
        vendor: row.try_get("vendor")?,
        purpose: row.try_get("purpose")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        state: WorkRequestState::parse(&state)?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
        comment: row.try_get("comment")?,
        targets: targets
            .map(|s| s.split('\u{1f}').map(str::to_owned).collect())
            .unwrap_or_default(),
        created_at: row.try_get("created_at")?,
    })
}

fn lock_from_row(row: &SqliteRow) -> Result<Lock> {
    let scope: String = row.try_get("scope")?;
    let subject: Option<i64> = row.try_get("subject_id")?;
    let scope = match (scope.as_str(), subject) {
        ("all", None) => LockScope::All,
        ("vendor", Some(id)) => LockScope::Vendor(VendorId(id)),
        ("target", Some(id)) => LockScope::Target(TargetId(id)),
        ("user", Some(id)) => LockScope::User(UserId(id)),
        _ => return Err(StorageError::Corrupt(format!("lock scope {scope:?}"))),
    };
    Ok(Lock {
        id: row.try_get("id")?,
        scope,
        subject_name: row.try_get("subject_name")?,
        reason: row.try_get("reason")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

fn scope_parts(scope: &LockScope) -> (&'static str, Option<i64>) {
    match scope {
        LockScope::All => ("all", None),
        LockScope::Vendor(id) => ("vendor", Some(id.0)),
        LockScope::Target(id) => ("target", Some(id.0)),
        LockScope::User(id) => ("user", Some(id.0)),
    }
}

impl Store {
    /// A vendor user's request to work on `targets` in `[starts_at, ends_at)`.
    pub async fn create_work_request(
        &self,
        user: UserId,
        targets: &[TargetId],
        purpose: &str,
        starts_at: i64,
        ends_at: i64,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO work_requests (user_id, purpose, starts_at, ends_at, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(user.0)
        .bind(purpose)
        .bind(starts_at)
        .bind(ends_at)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for target in targets {
            sqlx::query(
                "INSERT OR IGNORE INTO work_request_targets (request_id, target_id) VALUES (?, ?)",
            )
            .bind(id)
            .bind(target.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Work requests, newest first: of one user, or all.
    pub async fn work_requests(&self, user: Option<UserId>) -> Result<Vec<WorkRequest>> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} WHERE (? IS NULL OR w.user_id = ?) ORDER BY w.id DESC LIMIT 500"
        ))
        .bind(user.map(|u| u.0))
        .bind(user.map(|u| u.0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_from_row).collect()
    }

    pub async fn work_request(&self, id: i64) -> Result<Option<WorkRequest>> {
        let row = sqlx::query(&format!("SELECT {REQUEST_COLUMNS} WHERE w.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// Moves a request from `from` to `to` with the decider's comment and notifies the
    /// requester. False when the request was not in `from` (decided meanwhile).
    pub async fn decide_work_request(
        &self,
        id: i64,
        from: WorkRequestState,
        to: WorkRequestState,
        decided_by: &str,
        comment: &str,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let user: Option<i64> = sqlx::query_scalar(
            "UPDATE work_requests SET state = ?, decided_by = ?, decided_at = ?, comment = ? \
             WHERE id = ? AND state = ? RETURNING user_id",
        )
        .bind(to.as_str())
        .bind(decided_by)
        .bind(now)
        .bind(comment)
        .bind(id)
        .bind(from.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user) = user else {
            return Ok(false);
        };
        sqlx::query(
            "INSERT INTO notifications (user_id, kind, subject_id, note, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(user)
        .bind(format!("work-request-{}", to.as_str()))
        .bind(id)
        .bind(comment)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Puts an emergency stop in force.
    pub async fn add_lock(
        &self,
        scope: &LockScope,
        subject_name: Option<&str>,
        reason: &str,
        created_by: &str,
        now: i64,
    ) -> Result<i64> {
        let (scope, subject) = scope_parts(scope);
        Ok(sqlx::query_scalar(
            "INSERT INTO locks (scope, subject_id, subject_name, reason, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(scope)
        .bind(subject)
        .bind(subject_name)
        .bind(reason)
        .bind(created_by)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Lifts every stop in force with exactly this scope; how many were lifted.
    pub async fn lift_locks(&self, scope: &LockScope, lifted_by: &str, now: i64) -> Result<u64> {
        let (scope, subject) = scope_parts(scope);
        let done = sqlx::query(
            "UPDATE locks SET lifted_by = ?, lifted_at = ? \
             WHERE lifted_at IS NULL AND scope = ? AND subject_id IS ?",
        )
        .bind(lifted_by)
        .bind(now)
        .bind(scope)
        .bind(subject)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Stops in force, newest first.
    pub async fn active_locks(&self) -> Result<Vec<Lock>> {
        let rows = sqlx::query(
            "SELECT id, scope, subject_id, subject_name, reason, created_by, created_at \
             FROM locks WHERE lifted_at IS NULL ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(lock_from_row).collect()
    }

    /// Moves whenever anything a decision depends on changed (triggers in the schema).
    pub async fn access_generation(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM access_generation WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Everything `hoshu_domain::decide` needs for `user` on `target`; `None` when either is
    /// gone.
    pub async fn access_facts(
        &self,
        user: UserId,
        target: TargetId,
        now: i64,
        today: Date,
    ) -> Result<Option<AccessFacts>> {
        let Some(row) = sqlx::query(
            "SELECT u.role, u.admin_locked, u.demo_until, u.vendor_id, \
             v.application_state FROM users u LEFT JOIN vendors v ON v.id = u.vendor_id \
             WHERE u.id = ?",
        )
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let role: String = row.try_get("role")?;
        let admin_locked: bool = row.try_get("admin_locked")?;
        let vendor_id: Option<i64> = row.try_get("vendor_id")?;
        let state: Option<String> = row.try_get("application_state")?;
        let vendor = match (vendor_id, state) {
            (Some(id), Some(state)) => Some((
                VendorId(id),
                state
                    .parse()
                    .map_err(|e| StorageError::Corrupt(format!("{e}")))?,
            )),
            _ => None,
        };
        let user_facts = UserFacts {
            id: user,
            role: role
                .parse()
                .map_err(|e| StorageError::Corrupt(format!("{e}")))?,
            // A lock-out after failed answers refuses logins, not the work of a user already
            // logged in: otherwise anyone who knows a login ID could end that user's sessions.
            active: !admin_locked,
            demo_until: row.try_get("demo_until")?,
            vendor,
        };
        let Some(row) =
            sqlx::query("SELECT system, demo, standing_access FROM targets WHERE id = ?")
                .bind(target.0)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let target_facts = TargetFacts {
            id: target,
            system: row.try_get("system")?,
            demo: row.try_get("demo")?,
            standing_access: row.try_get("standing_access")?,
        };
        let contracts = match vendor {
            Some((vendor, _)) => self
                .contracts(Some(vendor))
                .await?
                .into_iter()
                .map(|c| ContractFacts {
                    systems: c.systems,
                    valid_from: c.valid_from,
                    valid_until: c.valid_until,
                })
                .collect(),
            None => Vec::new(),
        };
        let approvals = sqlx::query(
            "SELECT w.starts_at, w.ends_at FROM work_requests w \
             JOIN work_request_targets x ON x.request_id = w.id \
             WHERE w.user_id = ? AND x.target_id = ? AND w.state = 'approved' AND w.ends_at > ?",
        )
        .bind(user.0)
        .bind(target.0)
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(ApprovalWindow {
                start: row.try_get("starts_at")?,
                end: row.try_get("ends_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let locks = self
            .active_locks()
            .await?
            .into_iter()
            .map(|lock| ActiveLock {
                scope: lock.scope,
                reason: lock.reason,
            })
            .collect();
        Ok(Some(AccessFacts {
            now,
            today,
            user: user_facts,
            target: target_facts,
            contracts,
            approvals,
            locks,
            // The gateway fills the device rule's facts in: it holds the posture policy.
            device: hoshu_domain::DeviceFacts::default(),
        }))
    }

    /// Makes the user a demo user until `until` (seed §6), or an ordinary one with `None`.
    pub async fn set_demo_until(&self, user: UserId, until: Option<i64>) -> Result<()> {
        sqlx::query("UPDATE users SET demo_until = ? WHERE id = ?")
            .bind(until)
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Unread first, then the latest read ones.
    pub async fn notifications(&self, user: UserId) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, kind, subject_id, note, created_at, read_at IS NOT NULL AS read \
             FROM notifications WHERE user_id = ? ORDER BY read, id DESC LIMIT 50",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Notification {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    subject_id: row.try_get("subject_id")?,
                    note: row.try_get("note")?,
                    created_at: row.try_get("created_at")?,
                    read: row.try_get("read")?,
                })
            })
            .collect()
    }

    pub async fn notify(
        &self,
        user: UserId,
        kind: &str,
        subject: Option<i64>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO notifications (user_id, kind, subject_id, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(user.0)
        .bind(kind)
        .bind(subject)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn mark_notifications_read(&self, user: UserId, now: i64) -> Result<()> {
        sqlx::query("UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL")
            .bind(now)
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
