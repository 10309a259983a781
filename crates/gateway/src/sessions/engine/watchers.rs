//! Who watches a live session, and the bounded queues that feed them (立会い).
//!
//! The session's task owns the display; it hands every batch of its stream to
//! [`Watchers::broadcast`] without ever waiting: a watcher whose queue is full (or holds too
//! many bytes) stops getting batches and is marked behind. Once its queue has drained, the
//! session's task sends it a fresh full picture ([`Watchers::send_picture`]) and it follows the
//! stream again; one that stays stuck is dropped. So a watcher can never slow the session, and
//! what waits for it is bounded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::outcome::Outcome;

use hoshu_guac::{ServerInstruction, StreamIndex, write_stream_data};
use serde::Serialize;
use tokio::sync::{Notify, mpsc};

/// Batches waiting for one watcher, at most.
const QUEUE_BATCHES: usize = 64;
/// Bytes waiting for one watcher, at most (a full picture may come on top, into an empty queue).
const QUEUE_BYTES: usize = 8 << 20;
/// Watchers of one session at most: each may hold a queue's worth of memory.
const MAX_WATCHERS: usize = 16;
/// A watcher whose queue has not drained this long after it fell behind is dropped.
const CATCH_UP_WITHIN: Duration = Duration::from_secs(20);
/// The named pipe (`Guacamole.Client.onpipe`) that tells the session's browsers who watches.
pub const WATCHERS_PIPE: &str = "hoshu-watchers";
/// Its stream index: above the display's image streams and the clipboard's.
const WATCHERS_STREAM: StreamIndex = StreamIndex(3000);

/// A batch of the session's stream for a watcher, with the `sync` timestamp that ends it (if
/// it ends a frame), for the watcher's own flow control.
#[derive(Debug, Clone)]
pub struct Batch {
    pub text: Arc<str>,
    pub sync_ms: Option<u64>,
}

/// One watcher, as the session's user and the API see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatcherInfo {
    pub login: String,
    pub since_ms: i64,
}

#[derive(Debug, Clone, Copy)]
enum Feed {
    /// Gets every batch.
    Following,
    /// Gets nothing until a full picture; behind since then (`None`: just joined).
    WantsPicture(Option<Instant>),
}

#[derive(Debug)]
struct Watcher {
    id: u64,
    info: WatcherInfo,
    tx: mpsc::Sender<Batch>,
    /// Bytes in the queue; the watcher's task subtracts what it has sent.
    queued: Arc<AtomicUsize>,
    feed: Feed,
}

impl Watcher {
    /// Queues `batch` if it fits; false when it does not (the watcher is behind).
    fn offer(&self, batch: &Batch) -> bool {
        let len = batch.text.len();
        if self.queued.load(Ordering::Relaxed) + len > QUEUE_BYTES {
            return false;
        }
        match self.tx.try_send(batch.clone()) {
            Ok(()) => {
                self.queued.fetch_add(len, Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    watchers: Vec<Watcher>,
    next_id: u64,
    /// The list changed since the session's browser was last told.
    list_changed: bool,
    /// Set when the session has ended: why. Nobody joins after that.
    ended: Option<Outcome>,
}

/// The watchers of one live session.
#[derive(Debug, Default)]
pub struct Watchers {
    inner: Mutex<Inner>,
    /// Wakes the session's task when someone joins or leaves.
    changed: Notify,
}

/// Why [`Watchers::join`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotJoined {
    #[error("the session has ended")]
    Ended,
    #[error("this session already has {MAX_WATCHERS} watchers; try again later")]
    Full,
}

/// A watcher's end of its queue, from [`Watchers::join`].
#[derive(Debug)]
pub struct Ticket {
    pub id: u64,
    pub batches: mpsc::Receiver<Batch>,
    pub queued: Arc<AtomicUsize>,
}

impl Watchers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock means a panic elsewhere mid-update; the list itself is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a watcher; it gets a full picture first.
    pub fn join(&self, login: &str, now_ms: i64) -> Result<Ticket, NotJoined> {
        let mut inner = self.lock();
        if inner.ended.is_some() {
            return Err(NotJoined::Ended);
        }
        if inner.watchers.len() >= MAX_WATCHERS {
            return Err(NotJoined::Full);
        }
        inner.next_id += 1;
        let id = inner.next_id;
        let (tx, batches) = mpsc::channel(QUEUE_BATCHES);
        let queued = Arc::new(AtomicUsize::new(0));
        inner.watchers.push(Watcher {
            id,
            info: WatcherInfo {
                login: login.to_owned(),
                since_ms: now_ms,
            },
            tx,
            queued: queued.clone(),
            feed: Feed::WantsPicture(None),
        });
        inner.list_changed = true;
        drop(inner);
        self.changed.notify_one();
        Ok(Ticket {
            id,
            batches,
            queued,
        })
    }

    pub fn leave(&self, id: u64) {
        let mut inner = self.lock();
        let before = inner.watchers.len();
        inner.watchers.retain(|w| w.id != id);
        if inner.watchers.len() != before {
            inner.list_changed = true;
            drop(inner);
            self.changed.notify_one();
        }
    }

    /// Whether watcher `id` is still in the list (not dropped, the session not ended).
    pub fn is_watching(&self, id: u64) -> bool {
        self.lock().watchers.iter().any(|w| w.id == id)
    }

    /// Who watches now, earliest first.
    pub fn list(&self) -> Vec<WatcherInfo> {
        self.lock()
            .watchers
            .iter()
            .map(|w| w.info.clone())
            .collect()
    }

    /// Completes when someone joined or left since the last call.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Passes a batch of the session's stream to every watcher that follows it, never waiting.
    pub fn broadcast(&self, text: &str, sync_ms: Option<u64>) {
        let mut inner = self.lock();
        if inner.watchers.is_empty() || text.is_empty() {
            return;
        }
        let batch = Batch {
            text: text.into(),
            sync_ms,
        };
        let now = Instant::now();
        for watcher in &mut inner.watchers {
            if matches!(watcher.feed, Feed::Following) && !watcher.offer(&batch) {
                tracing::debug!(watcher = %watcher.info.login, "Watcher fell behind");
                watcher.feed = Feed::WantsPicture(Some(now));
            }
        }
    }

    /// Whether a watcher waits for a full picture and can take one now (its queue is empty).
    /// Drops watchers that fell behind and have not caught up in time.
    pub fn wants_picture(&self) -> bool {
        let mut inner = self.lock();
        let before = inner.watchers.len();
        inner.watchers.retain(|w| {
            let stuck = matches!(w.feed, Feed::WantsPicture(Some(since)) if since.elapsed() >= CATCH_UP_WITHIN)
                && w.queued.load(Ordering::Relaxed) > 0;
            if stuck {
                tracing::info!(watcher = %w.info.login, "Watcher dropped: it did not catch up");
            }
            !stuck
        });
        if inner.watchers.len() != before {
            inner.list_changed = true;
        }
        inner.watchers.iter().any(|w| {
            matches!(w.feed, Feed::WantsPicture(_)) && w.queued.load(Ordering::Relaxed) == 0
        })
    }

    /// Gives `picture` (a full picture ending with `sync` `sync_ms`) to every watcher that
    /// waits for one and can take it; from then on they follow the stream.
    pub fn send_picture(&self, picture: String, sync_ms: u64) {
        let batch = Batch {
            text: picture.into(),
            sync_ms: Some(sync_ms),
        };
        let mut inner = self.lock();
        for watcher in &mut inner.watchers {
            let empty = watcher.queued.load(Ordering::Relaxed) == 0;
            if matches!(watcher.feed, Feed::WantsPicture(_))
                && empty
                && watcher.tx.try_send(batch.clone()).is_ok()
            {
                watcher
                    .queued
                    .fetch_add(batch.text.len(), Ordering::Relaxed);
                watcher.feed = Feed::Following;
            }
        }
    }

    /// The list of watchers, when it changed since the last call (for the session's browser).
    pub fn take_list_change(&self) -> Option<Vec<WatcherInfo>> {
        let mut inner = self.lock();
        if !std::mem::take(&mut inner.list_changed) {
            return None;
        }
        Some(inner.watchers.iter().map(|w| w.info.clone()).collect())
    }

    /// The session ended (`outcome`): every watcher's queue closes after what is in it.
    pub fn close(&self, outcome: &Outcome) {
        let mut inner = self.lock();
        inner.ended = Some(outcome.clone());
        inner.watchers.clear();
    }

    /// Why the session ended, once it has.
    pub fn ending(&self) -> Option<Outcome> {
        self.lock().ended.clone()
    }
}

/// Appends the `hoshu-watchers` pipe carrying `list` as JSON (`[{"login","since_ms"}]`): how the
/// session's browser learns that it is being watched, in band, as soon as it changes.
pub fn write_list_pipe(list: &[WatcherInfo], out: &mut String) {
    let json = serde_json::to_vec(list).unwrap_or_else(|_| b"[]".to_vec());
    ServerInstruction::Pipe {
        stream: WATCHERS_STREAM,
        mimetype: "application/json",
        name: WATCHERS_PIPE,
    }
    .encode_into(out);
    write_stream_data(out, WATCHERS_STREAM, &json);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(ticket: &mut Ticket) -> Vec<Batch> {
        let mut got = Vec::new();
        while let Ok(batch) = ticket.batches.try_recv() {
            ticket.queued.fetch_sub(batch.text.len(), Ordering::Relaxed);
            got.push(batch);
        }
        got
    }

    #[test]
    fn a_watcher_starts_with_a_picture_then_follows_the_stream() {
        let watchers = Watchers::default();
        let mut ticket = watchers.join("admin", 5).expect("the session is live");
        assert_eq!(
            watchers.take_list_change(),
            Some(vec![WatcherInfo {
                login: "admin".into(),
                since_ms: 5
            }])
        );
        assert_eq!(watchers.take_list_change(), None);
        watchers.broadcast("before;", None);
        assert!(drain(&mut ticket).is_empty(), "nothing before the picture");
        assert!(watchers.wants_picture());
        watchers.send_picture("picture;".into(), 7);
        assert!(!watchers.wants_picture());
        watchers.broadcast("after;", Some(8));
        let got: Vec<_> = drain(&mut ticket)
            .into_iter()
            .map(|b| (b.text.to_string(), b.sync_ms))
            .collect();
        assert_eq!(
            got,
            [
                ("picture;".to_owned(), Some(7)),
                ("after;".to_owned(), Some(8))
            ]
        );
    }

    #[test]
    fn a_watcher_that_falls_behind_is_resynchronised_never_waited_for() {
        let watchers = Watchers::default();
        let mut ticket = watchers.join("auditor", 1).expect("the session is live");
        watchers.send_picture("p;".into(), 1);
        // The watcher reads nothing: the queue fills and broadcasting goes on regardless.
        for _ in 0..QUEUE_BATCHES * 2 {
            watchers.broadcast("frame;", None);
        }
        assert!(
            !watchers.wants_picture(),
            "behind, but its queue still holds old batches"
        );
        assert_eq!(drain(&mut ticket).len(), QUEUE_BATCHES);
        watchers.broadcast("skipped;", None);
        assert!(
            drain(&mut ticket).is_empty(),
            "a watcher behind gets no partial stream"
        );
        assert!(
            watchers.wants_picture(),
            "caught up: a fresh picture is due"
        );
        watchers.send_picture("fresh;".into(), 2);
        assert_eq!(&*drain(&mut ticket)[0].text, "fresh;");
        // Bytes count too: one huge batch does not fit behind another.
        let big = "x".repeat(QUEUE_BYTES / 2 + 1);
        watchers.broadcast(&big, None);
        watchers.broadcast(&big, None);
        assert_eq!(drain(&mut ticket).len(), 1);
    }

    #[test]
    fn closing_ends_every_queue_and_refuses_new_watchers() {
        let watchers = Watchers::default();
        let mut ticket = watchers.join("admin", 1).expect("the session is live");
        let ended = Outcome::EndedByAdministrator {
            login: "admin".into(),
        };
        watchers.close(&ended);
        assert!(matches!(
            ticket.batches.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        assert_eq!(watchers.join("other", 2).err(), Some(NotJoined::Ended));
        assert_eq!(watchers.ending(), Some(ended));
        assert!(watchers.list().is_empty());
    }

    #[test]
    fn watchers_are_bounded() {
        let watchers = Watchers::default();
        let tickets: Vec<_> = (0..MAX_WATCHERS)
            .map(|i| watchers.join(&format!("w{i}"), 1).expect("room left"))
            .collect();
        assert_eq!(watchers.join("one more", 1).err(), Some(NotJoined::Full));
        watchers.leave(tickets[0].id);
        assert!(watchers.join("one more", 1).is_ok());
    }

    #[test]
    fn the_list_pipe_carries_json() {
        let mut out = String::new();
        write_list_pipe(
            &[WatcherInfo {
                login: "a".into(),
                since_ms: 1,
            }],
            &mut out,
        );
        assert!(
            out.starts_with("4.pipe,4.3000,16.application/json,14.hoshu-watchers;4.blob,4.3000,")
        );
        assert!(out.ends_with("3.end,4.3000;"));
    }
}
