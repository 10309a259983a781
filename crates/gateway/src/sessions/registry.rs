//! The live sessions of this gateway, by id: who, on which target, the kill switch, the byte
//! counter, the watchers, and — until the browser's tunnel attaches — the session's handle.
//!
//! INVARIANT: no [`LiveSession`] is dropped while the map's lock is held (its drop seals the
//! session, which takes the lock): handles are taken out of the map first, and used or dropped
//! after.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hoshu_domain::{Protocol, UserId};
use hoshu_storage::Target;
use tokio::sync::{Notify, watch};

use hoshu_guac::Status;

use super::engine::budget::FramebufferBudget;
use super::engine::lifetime::Ending;
use super::engine::outcome::Outcome;
use super::engine::watchers::{WatcherInfo, Watchers};
use super::live::LiveSession;

/// A live session as the registry holds it.
#[derive(Debug)]
pub(super) struct Live {
    pub user: UserId,
    pub target: Target,
    /// The asset tag of the user's device whose certificate the browser presented at open; the
    /// re-check holds the session to that device.
    pub presented: Option<String>,
    /// The login (browser session, by its token's SHA-256) that opened it: the session ends
    /// with that login (logout, expiry, reset, lock).
    pub login: Option<[u8; 32]>,
    pub kill: watch::Sender<Option<Outcome>>,
    pub bytes_to_browser: Arc<AtomicU64>,
    /// Until the tunnel attaches: the session's handle.
    pub waiting: Option<LiveSession>,
    pub opened: Instant,
    /// Who watches it live (graphical sessions).
    pub watchers: Arc<Watchers>,
}

/// What the re-checker needs of a live session.
#[derive(Debug, Clone)]
pub struct LiveFacts {
    pub id: String,
    pub user: UserId,
    pub target: hoshu_domain::TargetId,
    /// The asset tag of the device the browser presented at open.
    pub presented: Option<String>,
    pub login: Option<[u8; 32]>,
}

/// Sessions that have not ended, by id, and the seals under way.
#[derive(Debug)]
pub struct Registry {
    live: Mutex<HashMap<String, Live>>,
    /// The memory every session's framebuffer is reserved from.
    framebuffers: FramebufferBudget,
    /// Opens under way, by user: counted with the live sessions against the per-user limit, so
    /// two opens at once cannot both take the last place. Locked after `live`, never before.
    opening: Mutex<HashMap<UserId, usize>>,
    seals: Arc<Seals>,
}

/// A place among a user's live sessions, held by an open under way until dropped (by then the
/// session is in the registry, or was not opened).
#[derive(Debug)]
pub(super) struct Place<'a> {
    registry: &'a Registry,
    user: UserId,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let mut opening = self.registry.opening_lock();
        if let Some(n) = opening.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                opening.remove(&self.user);
            }
        }
    }
}

/// Seals under way: sessions out of the map (or about to be) whose end is not recorded yet.
#[derive(Debug, Default)]
struct Seals {
    count: AtomicUsize,
    /// Woken whenever a seal finishes.
    done: Notify,
}

/// Counts one session as being sealed until dropped.
#[derive(Debug)]
pub(super) struct Closing(Arc<Seals>);

impl Drop for Closing {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::AcqRel);
        self.0.done.notify_waiters();
    }
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Live>> {
        // A poisoned lock means a panic elsewhere mid-update; the map itself is still consistent.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn opening_lock(&self) -> MutexGuard<'_, HashMap<UserId, usize>> {
        self.opening.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more session of `user`, or `None` when they already have `limit` live
    /// sessions (or opens under way). A session already told to end does not count: its user
    /// may open the next one while it is being sealed.
    pub(super) fn claim_place(&self, user: UserId, limit: usize) -> Option<Place<'_>> {
        let live = self.lock();
        let mut opening = self.opening_lock();
        let held = live
            .values()
            .filter(|l| l.user == user && l.kill.borrow().is_none())
            .count()
            + opening.get(&user).copied().unwrap_or(0);
        if held >= limit {
            return None;
        }
        *opening.entry(user).or_default() += 1;
        Some(Place {
            registry: self,
            user,
        })
    }

    pub(super) fn insert(&self, id: String, live: Live) {
        self.lock().insert(id, live);
    }

    pub(super) fn remove(&self, id: &str) -> Option<Live> {
        let mut live = self.lock().remove(id);
        // INVARIANT: a handle still in the entry is dropped here, after the lock.
        drop(live.as_mut().and_then(|l| l.waiting.take()));
        live
    }

    /// Marks a seal as under way, until the guard is dropped ([`Registry::wait_sealed`]).
    pub(super) fn closing(&self) -> Closing {
        self.seals.count.fetch_add(1, Ordering::AcqRel);
        Closing(self.seals.clone())
    }

    /// Runs `f` on live session `id`, if it is live.
    pub(super) fn with<R>(&self, id: &str, f: impl FnOnce(&mut Live) -> R) -> Option<R> {
        self.lock().get_mut(id).map(f)
    }

    /// Live bytes sent so far, for the session list.
    pub fn bytes_to_browser(&self, id: &str) -> Option<u64> {
        self.lock()
            .get(id)
            .map(|l| l.bytes_to_browser.load(Ordering::Relaxed))
    }

    /// The target protocol of live session `id`.
    pub fn protocol(&self, id: &str) -> Option<Protocol> {
        self.lock().get(id).map(|l| l.target.protocol)
    }

    /// How many sessions are live.
    /// An empty registry whose sessions share `framebuffers`.
    pub fn new(framebuffers: FramebufferBudget) -> Self {
        Registry {
            live: Mutex::default(),
            framebuffers,
            opening: Mutex::default(),
            seals: Arc::default(),
        }
    }

    /// The memory every session's framebuffer is reserved from.
    pub fn framebuffers(&self) -> &FramebufferBudget {
        &self.framebuffers
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every live session, for re-checking the access decision and the login behind it.
    pub fn live_sessions(&self) -> Vec<LiveFacts> {
        self.lock()
            .iter()
            .map(|(id, live)| LiveFacts {
                id: id.clone(),
                user: live.user,
                target: live.target.id,
                presented: live.presented.clone(),
                login: live.login,
            })
            .collect()
    }

    /// Ends every live session opened by the login `token_hash` (its user logged out).
    pub fn end_login(&self, token_hash: &[u8; 32]) {
        let ids: Vec<String> = self
            .lock()
            .iter()
            .filter(|(_, live)| live.login.as_ref() == Some(token_hash))
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.end(&id, Outcome::LoggedOut);
        }
    }

    /// Ends live session `id` with `outcome`, shown to its user: through the kill switch when
    /// its tunnel runs, at once when its browser has not attached yet. False when it is not
    /// live.
    pub fn end(&self, id: &str, outcome: Outcome) -> bool {
        let waiting = {
            let mut live = self.lock();
            let Some(session) = live.get_mut(id) else {
                return false;
            };
            session.kill.send_replace(Some(outcome.clone()));
            session.waiting.take()
        };
        if let Some(session) = waiting {
            close_waiting(session, Ending::error(Status::SESSION_CLOSED, outcome));
        }
        true
    }

    /// Ends every live session with `outcome` (the gateway is shutting down).
    pub fn end_all(&self, outcome: &Outcome) {
        let waiting: Vec<LiveSession> = {
            let mut live = self.lock();
            live.values_mut()
                .filter_map(|session| {
                    session.kill.send_replace(Some(outcome.clone()));
                    session.waiting.take()
                })
                .collect()
        };
        for session in waiting {
            close_waiting(
                session,
                Ending::error(Status::SESSION_CLOSED, outcome.clone()),
            );
        }
    }

    /// Ends the sessions whose browser has not attached within `within` of the open.
    pub fn reap_unattached(&self, within: Duration) {
        let overdue: Vec<LiveSession> = {
            let mut live = self.lock();
            live.values_mut()
                .filter(|l| l.waiting.is_some() && l.opened.elapsed() >= within)
                .filter_map(|l| l.waiting.take())
                .collect()
        };
        for session in overdue {
            let ending = Ending::error(Status::CLIENT_TIMEOUT, Outcome::BrowserNeverConnected);
            close_waiting(session, ending);
        }
    }

    /// Waits until no session is live or being sealed, or until `deadline`; whether they all
    /// were sealed.
    pub async fn wait_sealed(&self, deadline: tokio::time::Instant) -> bool {
        let all_sealed = || self.is_empty() && self.seals.count.load(Ordering::Acquire) == 0;
        loop {
            let notified = self.seals.done.notified();
            if all_sealed() {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return all_sealed();
            }
        }
    }

    /// The watchers of live session `id`, with its target's name. SSH sessions have none: their
    /// terminal stream is not shared with watchers (yet), so a watcher would see nothing.
    pub fn watchers(&self, id: &str) -> Option<(Arc<Watchers>, String)> {
        self.lock()
            .get(id)
            .filter(|l| l.target.protocol != Protocol::Ssh)
            .map(|l| (l.watchers.clone(), l.target.name.clone()))
    }

    /// Who watches live session `id`, if `user` may know: its own user, admins and auditors.
    pub fn watcher_list(&self, id: &str, user: &hoshu_storage::User) -> Option<Vec<WatcherInfo>> {
        let live = self.lock();
        let session = live.get(id)?;
        let allowed = session.user == user.id
            || matches!(
                user.role,
                hoshu_domain::Role::Admin | hoshu_domain::Role::Auditor
            );
        allowed.then(|| session.watchers.list())
    }
}

/// Closes a session whose browser never attached, on the runtime (the caller may hold no
/// runtime context of its own, or be in a hurry).
fn close_waiting(session: LiveSession, ending: Ending) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(session.close(ending));
        }
        // Dropping the handle seals it as far as it can without a runtime.
        Err(_) => drop(session),
    }
}
