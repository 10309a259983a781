//! What every request handler shares.

use std::collections::HashMap;
use std::sync::Arc;

use hoshu_domain::AuditEvent;
use hoshu_storage::Store;

use crate::app::config::Config;
use crate::app::throttle::Throttle;

#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub config: Config,
    pub throttle: Throttle,
    /// Live remote sessions.
    pub sessions: crate::sessions::Registry,
    /// Unauthenticated challenges counted per source, audited together.
    pub challenge_repeats: crate::login::repeats::ChallengeRepeats,
    /// Woken by this process's own changes to what access decisions depend on, so live
    /// sessions are re-checked without waiting for the next poll.
    pub access_changed: tokio::sync::Notify,
    /// The earliest Unix time at which a live session's allowance ends by the clock alone (an
    /// approval window); `i64::MAX` for none. Lowered by each open, reset by each re-check.
    pub access_deadline: std::sync::atomic::AtomicI64,
    /// Strength figures by pattern length: they depend only on the length and the policy, and
    /// take up to a tenth of a second each for long patterns, so each is computed once.
    strength: tokio::sync::Mutex<HashMap<usize, serde_json::Value>>,
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
        let framebuffers = crate::sessions::engine::budget::FramebufferBudget::new(
            config
                .session
                .framebuffer_budget_mib
                .saturating_mul(1 << 20),
        );
        AppState(Arc::new(Shared {
            store,
            config,
            throttle,
            sessions: crate::sessions::Registry::new(framebuffers),
            challenge_repeats: crate::login::repeats::ChallengeRepeats::default(),
            access_changed: tokio::sync::Notify::new(),
            access_deadline: std::sync::atomic::AtomicI64::new(i64::MAX),
            strength: tokio::sync::Mutex::new(HashMap::new()),
        }))
    }

    /// The strength figures shown for a pattern of `cells` cells, as JSON for the page.
    pub async fn strength_figures(&self, cells: usize) -> serde_json::Value {
        let mut cache = self.strength.lock().await;
        if let Some(figures) = cache.get(&cells) {
            return figures.clone();
        }
        let repeats = self.config.otp.allow_repeats;
        let figures = tokio::task::spawn_blocking(move || {
            crate::ui::strength_json(&hoshu_otp::strength(cells, repeats))
        })
        .await
        .unwrap_or(serde_json::Value::Null);
        cache.insert(cells, figures.clone());
        figures
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
