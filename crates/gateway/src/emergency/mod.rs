//! Emergency stop (seed §5 緊急停止): a lock on everything, a vendor, a target or a user. Every
//! matching live session is cut and new ones are refused until an administrator lifts it. The
//! gateway notices a stop from the command line through the schema's change counter (polled
//! every 250 ms) and one from its own pages at once.

pub mod api;
pub mod cli;
pub mod pages;
pub mod texts;

use hoshu_domain::{AuditEvent, AuditKind, LockScope};
use hoshu_storage::Store;

use crate::app::error::{Missing, OpResult};
use crate::app::fields::{Field, short_text};
use crate::app::state::unix_now;
use crate::ui::i18n::Lang;
use texts::StopRefusal;

/// A stop's scope as people name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Vendor(String),
    Target(String),
    User(String),
}

impl Scope {
    /// From the form's or API's `scope` and `name`.
    pub fn parse(scope: &str, name: &str) -> OpResult<Scope> {
        let name = name.trim().to_owned();
        let named = |scope: &'static str, make: fn(String) -> Scope| {
            if name.is_empty() {
                Err(StopRefusal::NameMissing { scope }.into())
            } else {
                Ok(make(name.clone()))
            }
        };
        match scope {
            "all" => Ok(Scope::All),
            "vendor" => named("vendor", Scope::Vendor),
            "target" => named("target", Scope::Target),
            "user" => named("user", Scope::User),
            _ => Err(StopRefusal::UnknownScope.into()),
        }
    }

    /// The lock scope by id, and the name kept for display.
    async fn resolve(&self, store: &Store) -> OpResult<(LockScope, Option<String>)> {
        Ok(match self {
            Scope::All => (LockScope::All, None),
            Scope::Vendor(name) => {
                let vendor = store.existing_vendor(name).await?;
                (LockScope::Vendor(vendor.id), Some(vendor.name))
            }
            Scope::Target(name) => {
                let target = store
                    .target_by_name(name)
                    .await?
                    .ok_or_else(|| Missing::Target(name.clone()))?;
                (LockScope::Target(target.id), Some(target.name))
            }
            Scope::User(login) => {
                let user = store.existing_user(login).await?;
                (LockScope::User(user.id), Some(user.login))
            }
        })
    }

    /// The scope in the audit log.
    fn describe(&self) -> String {
        self.describe_in(Lang::En)
    }
}

/// Puts a stop in force; its id.
pub async fn stop(store: &Store, scope: &Scope, reason: &str, actor: &str) -> OpResult<i64> {
    let reason = short_text(Field::Reason, reason, 500)?;
    let (lock, name) = scope.resolve(store).await?;
    let id = store
        .add_lock(&lock, name.as_deref(), &reason, actor, unix_now())
        .await?;
    let event = AuditEvent::new(AuditKind::EmergencyStop)
        .actor(actor)
        .subject(scope.describe())
        .detail("lock", id)
        .detail("reason", reason.as_str());
    store.append_audit(&event).await?;
    Ok(id)
}

/// Lifts every stop in force with this scope; how many. None in force is an error, so a typo
/// in the name does not look like success.
pub async fn lift(store: &Store, scope: &Scope, actor: &str) -> OpResult<u64> {
    let (lock, _) = scope.resolve(store).await?;
    let lifted = store.lift_locks(&lock, actor, unix_now()).await?;
    if lifted == 0 {
        return Err(StopRefusal::NoneInForce {
            scope: scope.clone(),
        }
        .into());
    }
    let event = AuditEvent::new(AuditKind::EmergencyStopLifted)
        .actor(actor)
        .subject(scope.describe())
        .detail("lifted", lifted);
    store.append_audit(&event).await?;
    Ok(lifted)
}
