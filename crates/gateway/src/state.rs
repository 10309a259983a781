//! What every request handler shares.

use std::sync::Arc;

use hoshu_domain::AuditEvent;
use hoshu_storage::Store;

use crate::config::Config;
use crate::throttle::Throttle;

#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub config: Config,
    pub throttle: Throttle,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        let throttle = Throttle::new(config.throttle);
        AppState(Arc::new(Shared {
            store,
            config,
            throttle,
        }))
    }

    /// Appends to the audit chain. An event that cannot be written is an error for the caller:
    /// an action that cannot be audited does not happen.
    pub async fn audit(&self, event: AuditEvent) -> Result<(), hoshu_storage::StorageError> {
        self.store.append_audit(&event).await.map(|_| ())
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
