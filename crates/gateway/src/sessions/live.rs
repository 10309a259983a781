//! A live session lives as long as its handle (STYLE: "a session lives as long as its
//! handle"). [`LiveSession`] owns the session's recording; however the session ends — its task
//! returns, an administrator or the shutdown ends it, its task panics or is cancelled — the
//! handle finishes the recording up to the last complete frame, stores the end, appends
//! `session.close` with the recording's SHA-256 and the outcome, and takes the session out of
//! the registry. A session the gateway could not seal (it was killed) is sealed at the next
//! start by [`seal_orphans`].

use std::sync::atomic::Ordering;

use hoshu_domain::{AuditEvent, AuditKind};
use hoshu_guac::Status;
use hoshu_storage::Store;

use super::engine::cast::{self, CastRecorder};
use super::engine::lifetime::Ending;
use super::engine::outcome::Outcome;
use super::engine::recorder::{Recorder, file_sha256};
use crate::app::state::AppState;
use crate::ui::i18n::Lang;

/// A session's recording: the Guacamole instruction stream of a graphical session, or the
/// asciicast of a terminal session.
#[derive(Debug)]
pub enum Recording {
    Guac(Recorder),
    Cast(CastRecorder),
}

impl Recording {
    /// Writes what is buffered and the end of the file; the SHA-256 of the whole file, hex.
    fn finish(self) -> Result<String, String> {
        match self {
            Recording::Guac(r) => r.finish(),
            Recording::Cast(r) => r.finish(),
        }
    }
}

/// The handle of a live session. Dropping it without [`LiveSession::close`] still seals the
/// session, with the outcome "ended unexpectedly".
#[derive(Debug)]
pub struct LiveSession {
    state: AppState,
    id: String,
    /// `None` once sealed.
    recording: Option<Recording>,
}

impl LiveSession {
    pub(super) fn new(state: AppState, id: String, recording: Recording) -> LiveSession {
        LiveSession {
            state,
            id,
            recording: Some(recording),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The recording the session's task writes to.
    pub fn recording(&mut self) -> Option<&mut Recording> {
        self.recording.as_mut()
    }

    /// Ends the session with `ending` and seals it: returns once the end and the recording's
    /// SHA-256 are in the audit chain.
    pub async fn close(mut self, ending: Ending) {
        if let Some(recording) = self.recording.take() {
            let closing = self.state.sessions.closing();
            let id = std::mem::take(&mut self.id);
            let sha256 = match tokio::task::spawn_blocking(move || recording.finish()).await {
                Ok(finished) => finished,
                Err(e) => Err(format!("the recording's worker stopped: {e}")),
            };
            seal(&self.state, &id, &ending, sha256).await;
            drop(closing);
        }
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        let Some(recording) = self.recording.take() else {
            return;
        };
        // The session's task stopped without closing it (a panic unwinding through it, or its
        // future dropped): finish the file here, where the recorder is at hand, and record the
        // end on the runtime. Finishing writes at most one chunk and the index.
        let closing = self.state.sessions.closing();
        let sha256 = recording.finish();
        let ending = Ending::error(Status::SERVER_ERROR, Outcome::TaskEnded);
        let state = self.state.clone();
        let id = std::mem::take(&mut self.id);
        tracing::error!(session = %id, "Session's task ended without closing it; sealing it");
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    seal(&state, &id, &ending, sha256).await;
                    drop(closing);
                });
            }
            // No runtime any more (the process is ending): the file is finished; the next
            // start records the end (`seal_orphans`).
            Err(_) => tracing::error!(session = %id, "No runtime to record the session's end"),
        }
    }
}

/// Records a session's end, whoever ended it: out of the registry (its watchers told), the end
/// in the store, and `session.close` in the audit chain with the outcome and the recording's
/// SHA-256.
async fn seal(state: &AppState, id: &str, ending: &Ending, sha256: Result<String, String>) {
    let live = state.sessions.remove(id);
    if let Some(live) = &live {
        live.watchers.close(&ending.outcome);
    }
    let bytes = live
        .as_ref()
        .map_or(0, |l| l.bytes_to_browser.load(Ordering::Relaxed));
    let sha256 = sha256
        .map_err(|e| tracing::error!(session = %id, error = %e, "Recording could not be finished"))
        .ok();
    record_end(
        &state.store,
        id,
        &ending.outcome,
        bytes,
        sha256.as_deref(),
        hoshu_storage::now_ms(),
    )
    .await;
}

/// The session's end in the store and in the audit chain.
async fn record_end(
    store: &Store,
    id: &str,
    outcome: &Outcome,
    bytes: u64,
    sha256: Option<&str>,
    ended_ms: i64,
) {
    let text = outcome.message(Lang::En);
    let bytes_i64 = i64::try_from(bytes).unwrap_or(i64::MAX);
    if let Err(e) = store
        .end_remote_session(id, ended_ms, &text, bytes_i64, sha256)
        .await
    {
        tracing::error!(session = %id, error = %e, "Cannot store the session's end");
    }
    let stored = store.remote_session(id).await.ok().flatten();
    let mut event = AuditEvent::new(AuditKind::SessionClosed)
        .detail("session", id)
        .detail("outcome", text.as_str())
        .detail("outcome_code", outcome.code())
        .detail("bytes_to_browser", bytes)
        .detail(
            "recording_sha256",
            sha256.map_or(serde_json::Value::Null, Into::into),
        );
    if let Some(s) = &stored {
        event = event
            .actor(s.user_login.clone())
            .subject(s.target.clone())
            .detail("started_at_ms", s.started_at_ms)
            .detail("ended_at_ms", ended_ms);
    }
    if let Err(e) = store.append_audit(&event).await {
        tracing::error!(session = %id, error = %e, "Cannot audit the session's end");
    }
    tracing::info!(session = %id, outcome = outcome.code(), bytes, "Session closed");
}

/// Seals the sessions a previous run left open (it was killed, or the machine stopped): each
/// recording is cut at its last complete frame and finished, and its end is recorded with the
/// outcome "the gateway stopped unexpectedly" at the time of its last frame. Returns how many.
pub async fn seal_orphans(store: &Store, recordings: &std::path::Path) -> usize {
    let orphans = match store.unfinished_remote_sessions().await {
        Ok(orphans) => orphans,
        Err(e) => {
            tracing::error!(error = %e, "Cannot list the sessions left open by a previous run");
            return 0;
        }
    };
    let count = orphans.len();
    for session in orphans {
        let path: Option<std::path::PathBuf> =
            session.recording.as_ref().map(|file| recordings.join(file));
        let started = session.started_at_ms;
        let (sha256, last_ms) = match path {
            Some(path) => match tokio::task::spawn_blocking(move || finish_file(&path)).await {
                Ok(Ok((sha, last))) => (Some(sha), last),
                Ok(Err(e)) => {
                    tracing::error!(session = %session.id, error = %e, "Orphaned recording cannot be finished");
                    (None, None)
                }
                Err(_) => (None, None),
            },
            None => (None, None),
        };
        let ended_ms = last_ms
            .and_then(|ms| i64::try_from(ms).ok())
            .unwrap_or(started)
            .max(started);
        // The line a user was typing when the gateway stopped is part of the log now.
        if let Err(e) = store.settle_logs_in_progress(&session.id).await {
            tracing::error!(session = %session.id, error = %e, "Cannot settle the keystroke log");
        }
        let bytes = u64::try_from(session.bytes_to_browser).unwrap_or(0);
        record_end(
            store,
            &session.id,
            &Outcome::GatewayStoppedUnexpectedly,
            bytes,
            sha256.as_deref(),
            ended_ms,
        )
        .await;
    }
    count
}

/// Finishes an orphaned recording file: the SHA-256 of the result and the time of its last
/// frame (Unix ms), if it says.
fn finish_file(path: &std::path::Path) -> Result<(String, Option<u64>), String> {
    let name = path.to_string_lossy();
    let last_ms = if name.ends_with(".cast.zst") {
        cast::finish_unfinished(path)?
    } else {
        let mut file = std::fs::File::options()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        hoshu_guac::finish_unfinished(&mut file)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .last_timestamp_ms
    };
    let sha256 = file_sha256(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok((sha256, last_ms))
}

#[cfg(test)]
mod tests {
    use hoshu_domain::{ClipboardPolicy, Protocol, Role};
    use hoshu_storage::{NewTarget, NewUser, User};

    use super::*;
    use crate::app::config::Config;
    use crate::app::state::unix_now;

    /// A gateway's state on a new data directory, with an operator (who may open any target)
    /// and a VNC target.
    async fn gateway() -> (tempfile::TempDir, AppState, User, hoshu_storage::Target) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open(dir.path()).await.expect("store opens");
        let admin = NewUser {
            login: "op",
            name: "Operator",
            role: Role::Admin,
            vendor: None,
        };
        store.create_user(&admin, unix_now()).await.expect("user");
        let target = NewTarget {
            name: "box",
            protocol: Protocol::Vnc,
            host: "127.0.0.1",
            port: 5999,
            username: None,
            password: None,
            private_key: None,
            host_key: None,
            system: None,
            clipboard: ClipboardPolicy::Off,
            standing_access: false,
            demo: false,
            idle_timeout_secs: 900,
            max_duration_secs: 3600,
            keyboard: "us",
            rdp_security: "any",
        };
        store.add_target(&target, unix_now()).await.expect("target");
        let user = store.existing_user("op").await.expect("user exists");
        let target = store
            .target_by_name("box")
            .await
            .expect("lookup")
            .expect("target exists");
        let config = Config::embedded(dir.path().to_owned(), "127.0.0.1:0".parse().expect("addr"));
        (dir, AppState::new(store, config), user, target)
    }

    /// A frame flushed at `t`, and one a second later still in the recorder's buffer; `t`.
    fn write_frames(session: &mut LiveSession) -> u64 {
        let Some(Recording::Guac(recorder)) = session.recording() else {
            panic!("a VNC session records the Guacamole stream");
        };
        let t = u64::try_from(hoshu_storage::now_ms()).expect("after 1970");
        recorder.keyframe(t).expect("keyframe");
        recorder
            .write(t, &format!("4.size,1.0,2.64,2.48;4.sync,13.{t};"))
            .expect("write");
        recorder.flush().expect("flush");
        recorder
            .write(t + 1000, &format!("4.sync,13.{};", t + 1000))
            .expect("write");
        t
    }

    #[tokio::test]
    async fn a_handle_dropped_without_close_seals_its_session() {
        let (dir, state, user, target) = gateway().await;
        let id = crate::sessions::open(&state, &user, target, None, None, None)
            .await
            .expect("an operator may open the target");
        let (mut session, _) = crate::sessions::attach(&state, &id, user.id, Lang::En)
            .await
            .expect("the session waits for its tunnel");
        let t = write_frames(&mut session);
        // As when the session's task panics: the handle goes without `close`.
        drop(session);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        assert!(state.sessions.wait_sealed(deadline).await, "sealed in time");

        let stored = state
            .store
            .remote_session(&id)
            .await
            .expect("lookup")
            .expect("stored");
        assert!(stored.ended_at_ms.is_some());
        assert_eq!(
            stored.outcome.as_deref(),
            Some(Outcome::TaskEnded.message(Lang::En).as_str())
        );
        let path = dir.path().join("recordings").join(format!("{id}.guac.zst"));
        let sha256 = file_sha256(&path).expect("the recording exists");
        assert_eq!(stored.recording_sha256.as_deref(), Some(sha256.as_str()));
        assert_eq!(
            state
                .store
                .sealed_recording_sha256(&id)
                .await
                .expect("audit chain readable"),
            Some(sha256),
            "session.close carries the recording's SHA-256"
        );
        // Finished: it opens with its index and holds everything written.
        let file = std::fs::File::open(&path).expect("open");
        let reader = hoshu_guac::RecordingReader::open(file).expect("a finished recording");
        assert_eq!(reader.index().last_timestamp_ms, Some(t + 1000));
        assert!(state.sessions.is_empty());
    }

    #[tokio::test]
    async fn a_session_left_open_by_a_killed_gateway_is_sealed_at_the_next_start() {
        let (dir, state, user, target) = gateway().await;
        let id = crate::sessions::open(&state, &user, target, None, None, None)
            .await
            .expect("open");
        let (mut session, _) = crate::sessions::attach(&state, &id, user.id, Lang::En)
            .await
            .expect("attach");
        let t = write_frames(&mut session);
        // kill -9: nothing of the handle runs.
        std::mem::forget(session);

        let sealed = seal_orphans(&state.store, &dir.path().join("recordings")).await;
        assert_eq!(sealed, 1);
        let stored = state
            .store
            .remote_session(&id)
            .await
            .expect("lookup")
            .expect("stored");
        assert_eq!(
            stored.outcome.as_deref(),
            Some("the gateway stopped unexpectedly")
        );
        // The end is the time of the last complete frame (the open chunk died with the gateway).
        assert_eq!(stored.ended_at_ms, i64::try_from(t).ok());
        let path = dir.path().join("recordings").join(format!("{id}.guac.zst"));
        let sha256 = file_sha256(&path).expect("the recording exists");
        assert_eq!(
            state
                .store
                .sealed_recording_sha256(&id)
                .await
                .expect("audit"),
            Some(sha256)
        );
        assert!(
            state
                .store
                .unfinished_remote_sessions()
                .await
                .expect("list")
                .is_empty()
        );
        assert!(state.store.verify_audit().await.is_ok());
    }
}
