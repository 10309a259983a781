//! Repeated challenges from one source, audited together. Anyone may ask for a matrix without
//! logging in, so one audit event per challenge would let an outsider grow the log without
//! bound (4,000 requests added 3.9 MB). Each source's first challenge in a window is audited in
//! full as before; the later ones are counted, by login ID, and written as one summary event
//! when the window ends, so the log still says who asked, from where, how often and for which
//! IDs — and the chain still holds every fact, only not one event per request.
//!
//! Failed answers, lockouts and successes are not aggregated: each is audited on its own.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use hoshu_domain::{AuditEvent, AuditKind};
use serde_json::{Map, Value};

use crate::app::services::Shutdown;
use crate::app::state::{AppState, unix_now};

/// How long a source's window lasts, from its first challenge.
pub const WINDOW_SECS: i64 = 60;
/// How often ended windows are written out.
const FLUSH_EVERY: Duration = Duration::from_secs(10);
/// Sources followed at once; one more writes every open window out first, so memory stays
/// bounded and nothing is lost.
const MAX_SOURCES: usize = 4096;
/// Login IDs named in one summary; the rest are counted together.
const MAX_LOGINS: usize = 64;

/// The sources' open windows.
#[derive(Debug, Default)]
pub struct ChallengeRepeats {
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Debug)]
struct Window {
    opened_at: i64,
    last_at: i64,
    /// Challenges after the first, by login ID (at most [`MAX_LOGINS`] IDs).
    logins: BTreeMap<String, u64>,
    /// Challenges for IDs past [`MAX_LOGINS`].
    other_logins: u64,
}

impl Window {
    fn count(&self) -> u64 {
        self.logins.values().sum::<u64>() + self.other_logins
    }
}

/// What a challenge from a source means for the audit log.
#[derive(Debug, PartialEq, Eq)]
pub enum Noted {
    /// The first in its source's window: audit it in full.
    First,
    /// Counted in its source's window; the summary will say so.
    Counted,
}

/// Later challenges from one source in one window, as one audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The address, or empty when the request had none.
    pub source: String,
    pub from: i64,
    pub until: i64,
    pub logins: BTreeMap<String, u64>,
    pub other_logins: u64,
}

impl Summary {
    pub fn count(&self) -> u64 {
        self.logins.values().sum::<u64>() + self.other_logins
    }

    pub fn event(&self) -> AuditEvent {
        let logins: Map<String, Value> = self
            .logins
            .iter()
            .map(|(login, n)| (login.clone(), Value::from(*n)))
            .collect();
        let event = AuditEvent::new(AuditKind::LoginChallengesRepeated)
            .detail("count", self.count())
            .detail("from", self.from)
            .detail("until", self.until)
            .detail("logins", Value::Object(logins))
            .detail("other_logins", self.other_logins);
        if self.source.is_empty() {
            event
        } else {
            event.source(self.source.clone())
        }
    }
}

impl ChallengeRepeats {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Window>> {
        // The map is left consistent at every step; a panic elsewhere does not spoil it.
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A challenge for `login` from `source` at `now`. When the map is full, the windows that
    /// counted anything come back as summaries to write first.
    pub fn note(&self, source: &str, login: &str, now: i64) -> (Noted, Vec<Summary>) {
        let mut windows = self.lock();
        if let Some(window) = windows
            .get_mut(source)
            .filter(|w| now - w.opened_at < WINDOW_SECS)
        {
            window.last_at = now;
            if let Some(n) = window.logins.get_mut(login) {
                *n += 1;
            } else if window.logins.len() < MAX_LOGINS {
                window.logins.insert(login.to_owned(), 1);
            } else {
                window.other_logins += 1;
            }
            return (Noted::Counted, Vec::new());
        }
        let mut written = Vec::new();
        // A window that ended is replaced by a new one: what it counted is written now.
        if let Some(ended) = windows.remove(source) {
            written.extend(summary(source.to_owned(), ended));
        }
        if windows.len() >= MAX_SOURCES {
            written.extend(windows.drain().filter_map(|(s, w)| summary(s, w)));
        }
        windows.insert(
            source.to_owned(),
            Window {
                opened_at: now,
                last_at: now,
                logins: BTreeMap::new(),
                other_logins: 0,
            },
        );
        (Noted::First, written)
    }

    /// The windows ended by `now` (all of them with `everything`), as summaries of what they
    /// counted; windows that counted nothing just close.
    pub fn take_ended(&self, now: i64, everything: bool) -> Vec<Summary> {
        let mut windows = self.lock();
        let ended: Vec<String> = windows
            .iter()
            .filter(|(_, w)| everything || now - w.opened_at >= WINDOW_SECS)
            .map(|(s, _)| s.clone())
            .collect();
        ended
            .into_iter()
            .filter_map(|s| windows.remove(&s).and_then(|w| summary(s, w)))
            .collect()
    }
}

fn summary(source: String, window: Window) -> Option<Summary> {
    (window.count() > 0).then_some(Summary {
        source,
        from: window.opened_at,
        until: window.last_at,
        logins: window.logins,
        other_logins: window.other_logins,
    })
}

/// Writes the summaries; one that cannot be written is logged with its figures, never lost
/// silently.
pub async fn write(state: &AppState, summaries: Vec<Summary>) {
    for summary in summaries {
        if let Err(e) = state.audit(summary.event()).await {
            tracing::error!(
                error = %e,
                source = %summary.source,
                count = summary.count(),
                "Cannot audit repeated login challenges"
            );
        }
    }
}

/// The service that writes ended windows out, and every open one at shutdown.
pub async fn run(state: AppState, mut shutdown: Shutdown) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let ended = state.challenge_repeats.take_ended(unix_now(), false);
                write(&state, ended).await;
            }
            () = shutdown.requested() => break,
        }
    }
    let open = state.challenge_repeats.take_ended(unix_now(), true);
    write(&state, open).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_challenge_of_a_window_is_audited_and_the_rest_counted_by_login() {
        let repeats = ChallengeRepeats::default();
        assert_eq!(repeats.note("10.0.0.1", "alice", 100).0, Noted::First);
        assert_eq!(repeats.note("10.0.0.1", "alice", 101).0, Noted::Counted);
        assert_eq!(repeats.note("10.0.0.1", "bob", 102).0, Noted::Counted);
        assert_eq!(repeats.note("10.0.0.2", "alice", 102).0, Noted::First);
        assert!(repeats.take_ended(150, false).is_empty());
        let ended = repeats.take_ended(160, false);
        assert_eq!(ended.len(), 1, "{ended:?}");
        let s = &ended[0];
        assert_eq!((s.source.as_str(), s.from, s.until), ("10.0.0.1", 100, 102));
        assert_eq!(
            s.logins,
            BTreeMap::from([("alice".into(), 1), ("bob".into(), 1)])
        );
        assert_eq!(s.count(), 2);
        // The other source counted nothing after its first: it closes without a summary.
        assert!(repeats.take_ended(200, false).is_empty());
        assert_eq!(repeats.note("10.0.0.2", "alice", 201).0, Noted::First);
    }

    #[test]
    fn a_challenge_after_the_window_opens_a_new_one_and_writes_the_old() {
        let repeats = ChallengeRepeats::default();
        repeats.note("a", "x", 0);
        repeats.note("a", "x", 1);
        let (noted, written) = repeats.note("a", "y", WINDOW_SECS);
        assert_eq!(noted, Noted::First);
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].count(), 1);
    }

    #[test]
    fn memory_stays_bounded_and_nothing_is_lost() {
        let repeats = ChallengeRepeats::default();
        for i in 0..=MAX_LOGINS + 10 {
            repeats.note("a", &format!("login-{i}"), 0);
        }
        let mut written = Vec::new();
        for i in 0..MAX_SOURCES {
            written.extend(repeats.note(&format!("s{i}"), "x", 1).1);
        }
        assert_eq!(written.len(), 1, "the full map writes its windows out");
        let a = &written[0];
        // The first challenge was audited in full; the other MAX_LOGINS + 10 are counted.
        assert_eq!(a.count(), MAX_LOGINS as u64 + 10);
        assert_eq!(a.logins.len(), MAX_LOGINS);
        assert_eq!(a.other_logins, 10);
        assert!(repeats.lock().len() <= MAX_SOURCES);
        let event = a.event();
        assert_eq!(event.kind, AuditKind::LoginChallengesRepeated);
    }
}
