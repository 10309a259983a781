//! Remote sessions (DESIGN §8 session API): opening one on a target, the tunnel WebSocket,
//! the live registry, ending, listing and recordings.

pub mod api;
pub mod engine;
pub mod pages;
pub mod playback;
pub mod policy;
pub mod review;
pub mod visible;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hoshu_domain::{AuditEvent, AuditKind, Protocol, UserId};
use hoshu_storage::{RemoteSession, Target};
use rand::RngCore;
use tokio::sync::watch;

use axum::extract::ws::WebSocket;
pub use engine::cast::CastRecorder;
pub use engine::lifetime::Ending;
pub use engine::recorder::Recorder;
pub use engine::terminal::TerminalContext;
pub use engine::tunnel::SessionContext;
pub use engine::watchers::{WatcherInfo, Watchers};
pub use engine::watching::{MAX_MESSAGE as WATCH_MAX_MESSAGE, serve_watcher};
use engine::{cast, terminal, tunnel};

use crate::sessions::engine::ssh::Credential;

use crate::app::guard::Source;
use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::app::web::ApiError;
use axum::http::StatusCode;

/// A browser that opened a session must attach its tunnel within this time.
const ATTACH_WITHIN: Duration = Duration::from_secs(60);

/// A live session as the registry holds it.
#[derive(Debug)]
struct Live {
    user: UserId,
    target: Target,
    /// The asset tag of the user's device whose certificate the browser presented at open; the
    /// re-check holds the session to that device.
    presented: Option<String>,
    kill: watch::Sender<Option<String>>,
    bytes_to_browser: Arc<AtomicU64>,
    /// Until the tunnel attaches: the recorder it will write to.
    recorder: Option<Recording>,
    /// Who watches it live (issue 5 item 6; graphical sessions).
    watchers: Arc<Watchers>,
}

/// A session's recording: the Guacamole instruction stream of a graphical session, or the
/// asciicast of a terminal session.
#[derive(Debug)]
pub enum Recording {
    Guac(Recorder),
    Cast(CastRecorder),
}

impl Recording {
    fn finish(self) -> Result<String, String> {
        match self {
            Recording::Guac(r) => r.finish(),
            Recording::Cast(r) => r.finish(),
        }
    }
}

/// What the tunnel runs, by the target's protocol.
#[derive(Debug)]
pub enum Attached {
    Graphical(SessionContext),
    Terminal(TerminalContext),
}

/// Sessions that have not ended, by id.
#[derive(Debug, Default)]
pub struct Registry {
    live: Mutex<HashMap<String, Live>>,
}

/// Why a session could not be opened: `code` a stable word (the access decision's
/// `Denial::code`, or `gone`, `recording`, `internal`), `reason` the sentence for the user.
#[derive(Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub reason: String,
    /// The access decision's denial, for a page to say it in the reader's language.
    pub denial: Option<hoshu_domain::Denial>,
}

/// Random UUID (version 4) text.
fn new_session_id() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub fn valid_session_id(id: &str) -> bool {
    id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// The stored session with this id; `None` for an id that cannot be one.
pub async fn stored(
    state: &AppState,
    id: &str,
) -> Result<Option<RemoteSession>, hoshu_storage::StorageError> {
    if !valid_session_id(id) {
        return Ok(None);
    }
    state.store.remote_session(id).await
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        // A poisoned lock means a panic elsewhere mid-update; the map itself is still consistent.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Live bytes sent so far, for the session list.
    pub fn bytes_to_browser(&self, id: &str) -> Option<u64> {
        self.lock()
            .get(id)
            .map(|l| l.bytes_to_browser.load(Ordering::Relaxed))
    }

    /// Every live session: id, user, target and presented device, for re-checking the access
    /// decision.
    pub fn live_pairs(&self) -> Vec<(String, UserId, hoshu_domain::TargetId, Option<String>)> {
        self.lock()
            .iter()
            .map(|(id, live)| {
                (
                    id.clone(),
                    live.user,
                    live.target.id,
                    live.presented.clone(),
                )
            })
            .collect()
    }

    /// Ends a live session with `reason` shown to its user. False when it is not live.
    pub fn end(&self, id: &str, reason: &str) -> bool {
        match self.lock().get(id) {
            Some(live) => {
                live.kill.send_replace(Some(reason.to_owned()));
                true
            }
            None => false,
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

/// Who may open which target: the access decision of DESIGN §5 (the gateway speaks every
/// protocol a target can have).
async fn decide(
    state: &AppState,
    user: UserId,
    target: &Target,
    presented: Option<&str>,
) -> Result<(), Refusal> {
    policy::check(state, user, target.id, presented)
        .await
        .map_err(|verdict| Refusal {
            code: match &verdict {
                policy::Verdict::Denied(denial) => denial.code(),
                policy::Verdict::Gone => "gone",
                policy::Verdict::Failed => "internal",
            },
            reason: verdict.to_string(),
            denial: match verdict {
                policy::Verdict::Denied(denial) => Some(denial),
                _ => None,
            },
        })
}

/// Opens a session: decides, creates the recording (no recording, no session), records the
/// session and the decision, and waits for the browser's tunnel.
pub async fn open(
    state: &AppState,
    user: &hoshu_storage::User,
    target: Target,
    source: Option<String>,
    presented: Option<String>,
) -> Result<String, Refusal> {
    let audit_refusal = |code: &str, reason: &str| {
        let mut event = AuditEvent::new(AuditKind::SessionRefused)
            .actor(user.login.clone())
            .subject(target.name.clone())
            .detail("code", code)
            .detail("reason", reason);
        if let Some(s) = &source {
            event = event.source(s.clone());
        }
        event
    };
    if let Err(refusal) = decide(state, user.id, &target, presented.as_deref()).await {
        let _ = state
            .audit(audit_refusal(refusal.code, &refusal.reason))
            .await;
        return Err(refusal);
    }
    let id = new_session_id();
    let (file, recorder) = if target.protocol == Protocol::Ssh {
        let file = format!("{id}.cast.zst");
        let path = state.config.data_dir.join("recordings").join(&file);
        (file, CastRecorder::create(&path).map(Recording::Cast))
    } else {
        let file = format!("{id}.guac.zst");
        let path = state.config.data_dir.join("recordings").join(&file);
        (file, Recorder::create(&path).map(Recording::Guac))
    };
    let recorder = match recorder {
        Ok(recorder) => recorder,
        Err(e) => {
            tracing::error!(error = %e, "Recorder cannot write");
            let reason =
                "the session cannot be recorded, so it cannot be opened; tell the administrator";
            let _ = state.audit(audit_refusal("recording", reason)).await;
            return Err(Refusal {
                denial: None,
                code: "recording",
                reason: reason.to_owned(),
            });
        }
    };
    let started_ms = hoshu_storage::now_ms();
    let stored = state
        .store
        .start_remote_session(&id, user.id, &target, started_ms, &file)
        .await;
    let mut event = AuditEvent::new(AuditKind::SessionOpened)
        .actor(user.login.clone())
        .subject(target.name.clone())
        .detail("session", id.as_str())
        .detail("protocol", target.protocol.as_str());
    if let Some(s) = &source {
        event = event.source(s.clone());
    }
    if let Err(e) = stored.and(state.store.append_audit(&event).await.map(|_| ())) {
        tracing::error!(error = %e, "Cannot record the session");
        return Err(Refusal {
            denial: None,
            code: "recording",
            reason: "the session cannot be recorded in the database; tell the administrator"
                .to_owned(),
        });
    }
    let (kill, _) = watch::channel(None);
    state.sessions.lock().insert(
        id.clone(),
        Live {
            user: user.id,
            target,
            presented,
            kill,
            bytes_to_browser: Arc::new(AtomicU64::new(0)),
            recorder: Some(recorder),
            watchers: Arc::default(),
        },
    );
    tracing::info!(session = %id, user = %user.login, "Session opened");
    // A session whose browser never attaches ends on its own.
    let reaper_state = state.clone();
    let reaper_id = id.clone();
    tokio::spawn(async move {
        tokio::time::sleep(ATTACH_WITHIN).await;
        let unattached = reaper_state
            .sessions
            .lock()
            .get_mut(&reaper_id)
            .and_then(|live| live.recorder.take());
        if let Some(recorder) = unattached {
            let ending = Ending {
                outcome: "the browser never connected".to_owned(),
                status: hoshu_guac::Status::CLIENT_TIMEOUT,
            };
            close(&reaper_state, &reaper_id, ending, recorder).await;
        }
    });
    Ok(id)
}

/// Whether `user` may attach the tunnel of session `id` now (live, theirs, not yet attached).
pub fn can_attach(state: &AppState, id: &str, user: UserId) -> bool {
    state
        .sessions
        .lock()
        .get(id)
        .is_some_and(|l| l.user == user && l.recorder.is_some())
}

/// Hands the tunnel what it needs, once: the session must be live, unattached, and the caller's.
pub async fn attach(state: &AppState, id: &str, user: UserId) -> Option<Attached> {
    let (target, recorder, kill, bytes, watchers) = {
        let mut live = state.sessions.lock();
        let session = live.get_mut(id).filter(|l| l.user == user)?;
        let recorder = session.recorder.take()?;
        (
            session.target.clone(),
            recorder,
            session.kill.subscribe(),
            session.bytes_to_browser.clone(),
            session.watchers.clone(),
        )
    };
    let password = match state.store.target_password(target.id).await {
        Ok(password) => password,
        Err(e) => {
            tracing::error!(error = %e, "Cannot read the target's password");
            None
        }
    };
    Some(match recorder {
        Recording::Guac(recorder) => Attached::Graphical(SessionContext {
            id: id.to_owned(),
            target,
            password,
            recorder,
            kill,
            bytes_to_browser: bytes,
            watchers,
            store: state.store.clone(),
        }),
        Recording::Cast(recorder) => {
            // A stored key wins over a stored password; with neither, the user is asked.
            let key = match state.store.target_private_key(target.id).await {
                Ok(key) => key,
                Err(e) => {
                    tracing::error!(error = %e, "Cannot read the target's private key");
                    None
                }
            };
            let credential = key
                .map(Credential::PrivateKey)
                .or(password.map(Credential::Password));
            Attached::Terminal(TerminalContext {
                id: id.to_owned(),
                target,
                credential,
                recorder,
                kill,
                bytes_to_browser: bytes,
                store: state.store.clone(),
            })
        }
    })
}

/// Runs an upgraded tunnel to the session's end: attaches, runs the protocol's task, seals.
pub async fn serve_tunnel(state: &AppState, id: &str, user: UserId, socket: WebSocket) {
    let Some(attached) = attach(state, id, user).await else {
        return;
    };
    let (ending, recording) = match attached {
        Attached::Graphical(context) => {
            let (ending, recorder) = tunnel::run(socket, context).await;
            (ending, Recording::Guac(recorder))
        }
        Attached::Terminal(context) => {
            let (ending, recorder) = terminal::run(socket, context).await;
            (ending, Recording::Cast(recorder))
        }
    };
    close(state, id, ending, recording).await;
}

/// Seals a session: finishes the recording, stores the end, audits it with the recording's
/// SHA-256, and forgets the live entry.
pub async fn close(state: &AppState, id: &str, ending: Ending, recorder: Recording) {
    let live = state.sessions.lock().remove(id);
    if let Some(live) = &live {
        live.watchers.close(&ending.outcome);
    }
    let bytes = live
        .as_ref()
        .map_or(0, |l| l.bytes_to_browser.load(Ordering::Relaxed));
    let sha256 = match tokio::task::spawn_blocking(move || recorder.finish()).await {
        Ok(Ok(sha)) => Some(sha),
        Ok(Err(e)) => {
            tracing::error!(session = %id, error = %e, "Recording could not be finished");
            None
        }
        Err(_) => None,
    };
    let ended_ms = hoshu_storage::now_ms();
    let bytes_i64 = i64::try_from(bytes).unwrap_or(i64::MAX);
    if let Err(e) = state
        .store
        .end_remote_session(id, ended_ms, &ending.outcome, bytes_i64, sha256.as_deref())
        .await
    {
        tracing::error!(session = %id, error = %e, "Cannot store the session's end");
    }
    let stored = state.store.remote_session(id).await.ok().flatten();
    let mut event = AuditEvent::new(AuditKind::SessionClosed)
        .detail("session", id)
        .detail("outcome", ending.outcome.as_str())
        .detail("bytes_to_browser", bytes)
        .detail(
            "recording_sha256",
            sha256.clone().map_or(serde_json::Value::Null, Into::into),
        );
    if let Some(s) = &stored {
        event = event
            .actor(s.user_login.clone())
            .subject(s.target.clone())
            .detail("started_at_ms", s.started_at_ms)
            .detail("ended_at_ms", ended_ms);
    }
    if let Err(e) = state.store.append_audit(&event).await {
        tracing::error!(session = %id, error = %e, "Cannot audit the session's end");
    }
    tracing::info!(session = %id, outcome = %ending.outcome, bytes, "Session closed");
}

/// Whether `user` may see `session` (list, recording, logs): `hoshu_domain::may_read_session`.
pub fn may_see(user: &hoshu_storage::User, session: &RemoteSession) -> bool {
    hoshu_domain::may_read_session(&reader(user), session.user_id, session.vendor.as_deref())
}

pub fn reader(user: &hoshu_storage::User) -> hoshu_domain::Reader<'_> {
    hoshu_domain::Reader {
        id: user.id,
        role: user.role,
        vendor: user.vendor.as_deref(),
        manager: user.vendor_manager,
    }
}

/// The decompressed recording (finished or still being written): the Guacamole instruction
/// stream, or the asciicast of a terminal session.
pub fn read_recording(path: std::path::PathBuf) -> Result<Vec<u8>, String> {
    if path.to_string_lossy().ends_with(".cast.zst") {
        return cast::read_cast(&path);
    }
    let reader = playback::open(&path)?;
    let mut out = Vec::new();
    std::io::Read::read_to_end(
        &mut reader
            .stream()
            .map_err(|e| format!("recording is unreadable: {e}"))?,
        &mut out,
    )
    .map_err(|e| format!("recording is unreadable: {e}"))?;
    Ok(out)
}

/// Opens a session on a target (its id and the target's protocol), or says why not; shared with
/// the portal's form.
pub async fn open_session(
    state: &AppState,
    viewer: &Viewer,
    target: &str,
    source: Source,
    certificate: &crate::app::tls::ClientCertificate,
) -> Result<(String, hoshu_domain::Protocol), (StatusCode, serde_json::Value)> {
    // The user's own lent device, when the browser presented its certificate.
    let presented = match crate::devices::device_of_certificate(state, certificate).await {
        Ok(device) => device
            .filter(|d| d.user == viewer.user.id)
            .map(|d| d.asset_tag),
        Err(e) => {
            return Err((
                e.status,
                serde_json::json!({ "error": e.message, "reason": "internal error" }),
            ));
        }
    };
    let target = match state.store.target_by_name(target).await {
        Ok(Some(target)) => target,
        Ok(None) => {
            return Err((
                StatusCode::NOT_FOUND,
                serde_json::json!({ "error": format!("no target named {target:?}"), "reason": "unknown target" }),
            ));
        }
        Err(e) => {
            let e = ApiError::internal(e);
            return Err((
                e.status,
                serde_json::json!({ "error": e.message, "reason": "internal error" }),
            ));
        }
    };
    let protocol = target.protocol;
    open(state, &viewer.user, target, source.ip_string(), presented)
        .await
        .map(|id| (id, protocol))
        .map_err(|refusal| {
            (
                StatusCode::FORBIDDEN,
                serde_json::json!({
                    "error": "the session cannot be opened",
                    "reason": refusal.reason,
                    "code": refusal.code,
                    "reason_ja": refusal.denial.as_ref().map(|d| crate::ui::i18n::Lang::Ja.denial(d)),
                }),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_uuids() {
        let id = new_session_id();
        assert!(valid_session_id(&id), "{id}");
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, new_session_id());
        assert!(!valid_session_id("../../etc/passwd"));
    }
}
