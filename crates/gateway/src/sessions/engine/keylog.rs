//! The keystroke log of a graphical session (DESIGN §7): lines go to the store as they finish,
//! and the line being typed is stored as it grows — at most every [`FLUSH_EVERY`] — so a gateway
//! that is killed loses at most that much of it. One writer task per session keeps the writes in
//! order (a finished line must not be overtaken by an older line-in-progress) and keeps a slow
//! disk from holding up typing.

use hoshu_guac::{KeyLine, KeystrokeLog};
use hoshu_storage::Store;
use tokio::sync::mpsc;

use super::lifetime::unix_ms;

/// Writes waiting for the store, at most; beyond, a line in progress is not stored this time and
/// a finished line is dropped with an error in the log (the store is failing).
const QUEUE: usize = 256;

enum Write {
    Lines(Vec<(i64, String)>),
    InProgress(Option<(i64, String)>),
}

pub struct KeyLogger {
    log: KeystrokeLog,
    session: String,
    writes: mpsc::Sender<Write>,
    /// What the store holds as the line in progress.
    stored_in_progress: Option<(u64, String)>,
}

impl std::fmt::Debug for KeyLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not what was typed.
        f.debug_struct("KeyLogger")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

fn ms(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}

impl KeyLogger {
    pub fn new(store: Store, session: String) -> KeyLogger {
        let (writes, mut queue) = mpsc::channel::<Write>(QUEUE);
        let writer_session = session.clone();
        tokio::spawn(async move {
            while let Some(write) = queue.recv().await {
                let written = match &write {
                    Write::Lines(rows) => store.add_keystrokes(&writer_session, rows).await,
                    Write::InProgress(line) => {
                        let line = line.as_ref().map(|(at, text)| (*at, text.as_str()));
                        store
                            .set_keystrokes_in_progress(&writer_session, line)
                            .await
                    }
                };
                if let Err(e) = written {
                    tracing::error!(session = %writer_session, error = %e, "Cannot store keystrokes");
                }
            }
        });
        KeyLogger {
            log: KeystrokeLog::new(),
            session,
            writes,
            stored_in_progress: None,
        }
    }

    pub fn key(&mut self, keysym: u32, pressed: bool) {
        let lines = self.log.key(unix_ms(), keysym, pressed);
        self.save(lines);
    }

    fn save(&mut self, lines: Vec<KeyLine>) {
        if lines.is_empty() {
            return;
        }
        // The store drops its line in progress with these.
        self.stored_in_progress = None;
        let rows = lines.into_iter().map(|l| (ms(l.at_ms), l.text)).collect();
        if self.writes.try_send(Write::Lines(rows)).is_err() {
            tracing::error!(session = %self.session, "Keystroke writes are stuck; lines lost");
        }
    }

    /// Stores the line being typed if it changed since last time (called every
    /// [`super::lifetime::FLUSH_EVERY`]).
    pub fn flush(&mut self) {
        let now = self.log.in_progress().map(|l| (l.at_ms, l.text));
        if now == self.stored_in_progress {
            return;
        }
        let write = Write::InProgress(now.as_ref().map(|(at, text)| (ms(*at), text.clone())));
        if self.writes.try_send(write).is_ok() {
            self.stored_in_progress = now;
        }
    }

    /// The session ended: its unfinished line is a line of the log.
    pub fn finish(mut self) {
        let last: Vec<KeyLine> = self.log.finish().into_iter().collect();
        self.save(last);
    }
}
