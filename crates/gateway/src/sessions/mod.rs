//! Remote sessions (DESIGN §8 session API): opening one on a target, the tunnel WebSocket,
//! the live registry, ending, listing and recordings.

pub mod api;
pub mod engine;
pub mod live;
pub mod pages;
pub mod playback;
pub mod policy;
pub mod registry;
pub mod review;
pub mod texts;
pub mod visible;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use axum::extract::ws::WebSocket;
use hoshu_domain::{AuditEvent, AuditKind, Protocol, UserId};
use hoshu_storage::{RemoteSession, Target};
use rand::RngCore;
use tokio::sync::watch;

pub use engine::cast::CastRecorder;
pub use engine::lifetime::Ending;
pub use engine::outcome::Outcome;
pub use engine::recorder::Recorder;
pub use engine::terminal::TerminalContext;
pub use engine::tunnel::SessionContext;
pub use engine::watchers::{WatcherInfo, Watchers};
pub use engine::watching::{MAX_MESSAGE as WATCH_MAX_MESSAGE, serve_watcher};
pub use live::{LiveSession, Recording};
pub use registry::Registry;
pub use texts::Refusal;

use crate::app::error::{Missing, OpError, OpResult, Problem};
use crate::app::guard::{Source, Viewer};
use crate::app::services::Shutdown;
use crate::app::state::AppState;
use crate::ui::i18n::Lang;
use engine::ssh::Credential;
use engine::{cast, terminal, tunnel};
use registry::Live;

/// A browser that opened a session must attach its tunnel within this time.
pub const ATTACH_WITHIN: Duration = Duration::from_secs(60);

/// What the tunnel runs, by the target's protocol.
#[derive(Debug)]
pub enum Attached {
    Graphical(SessionContext),
    Terminal(TerminalContext),
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
        .map_err(|verdict| match verdict {
            policy::Verdict::Denied(denial) => Refusal::Denied(denial),
            policy::Verdict::Gone => Refusal::Gone,
            policy::Verdict::Failed => Refusal::Internal,
        })
}

/// Opens a session: decides, creates the recording (no recording, no session), records the
/// session and the decision, and keeps its handle until the browser's tunnel attaches.
pub async fn open(
    state: &AppState,
    user: &hoshu_storage::User,
    target: Target,
    source: Option<String>,
    presented: Option<String>,
    login: Option<[u8; 32]>,
) -> Result<String, Refusal> {
    let audit_refusal = |refusal: &Refusal| {
        let mut event = AuditEvent::new(AuditKind::SessionRefused)
            .actor(user.login.clone())
            .subject(target.name.clone())
            .detail("code", refusal.code())
            .detail("reason", refusal.reason(Lang::En));
        if let Some(s) = &source {
            event = event.source(s.clone());
        }
        event
    };
    if let Err(refusal) = decide(state, user.id, &target, presented.as_deref()).await {
        let _ = state.audit(audit_refusal(&refusal)).await;
        return Err(refusal);
    }
    // Held until the session is in the registry (or this open fails).
    let limit = state.config.session.live_per_user;
    let Some(_place) = state
        .sessions
        .claim_place(user.id, usize::try_from(limit).unwrap_or(usize::MAX))
    else {
        let refusal = Refusal::TooManySessions { limit };
        let _ = state.audit(audit_refusal(&refusal)).await;
        return Err(refusal);
    };
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
            let refusal = Refusal::Recording;
            let _ = state.audit(audit_refusal(&refusal)).await;
            return Err(refusal);
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
        return Err(Refusal::RecordingInDatabase);
    }
    let (kill, _) = watch::channel(None);
    let session = LiveSession::new(state.clone(), id.clone(), recorder);
    state.sessions.insert(
        id.clone(),
        Live {
            user: user.id,
            target,
            presented,
            login,
            kill,
            bytes_to_browser: Arc::new(AtomicU64::new(0)),
            waiting: Some(session),
            opened: Instant::now(),
            watchers: Arc::default(),
        },
    );
    tracing::info!(session = %id, user = %user.login, "Session opened");
    Ok(id)
}

/// Whether `user` may attach the tunnel of session `id` now (live, theirs, not yet attached).
pub fn can_attach(state: &AppState, id: &str, user: UserId) -> bool {
    state
        .sessions
        .with(id, |l| l.user == user && l.waiting.is_some())
        .unwrap_or(false)
}

/// Hands the tunnel what it needs, once: the session must be live, unattached, and the
/// caller's. The handle goes with it.
pub async fn attach(
    state: &AppState,
    id: &str,
    user: UserId,
    lang: Lang,
) -> Option<(LiveSession, Attached)> {
    let (session, target, kill, bytes, watchers) = state
        .sessions
        .with(id, |live| {
            if live.user != user {
                return None;
            }
            let session = live.waiting.take()?;
            Some((
                session,
                live.target.clone(),
                live.kill.subscribe(),
                live.bytes_to_browser.clone(),
                live.watchers.clone(),
            ))
        })
        .flatten()?;
    let password = match state.store.target_password(target.id).await {
        Ok(password) => password,
        Err(e) => {
            tracing::error!(error = %e, "Cannot read the target's password");
            None
        }
    };
    let attached = if target.protocol == Protocol::Ssh {
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
            kill,
            bytes_to_browser: bytes,
            store: state.store.clone(),
            lang,
        })
    } else {
        Attached::Graphical(SessionContext {
            id: id.to_owned(),
            target,
            password,
            kill,
            bytes_to_browser: bytes,
            watchers,
            store: state.store.clone(),
            lang,
            framebuffers: state.sessions.framebuffers().clone(),
        })
    };
    Some((session, attached))
}

/// Runs an upgraded tunnel to the session's end: attaches, runs the protocol's task, seals.
/// Whatever way the task ends, the session's handle seals it.
pub async fn serve_tunnel(state: &AppState, id: &str, user: UserId, lang: Lang, socket: WebSocket) {
    let Some((mut session, attached)) = attach(state, id, user, lang).await else {
        return;
    };
    let ending = match (attached, session.recording()) {
        (Attached::Graphical(context), Some(Recording::Guac(recorder))) => {
            tunnel::run(socket, context, recorder).await
        }
        (Attached::Terminal(context), Some(Recording::Cast(recorder))) => {
            terminal::run(socket, context, recorder).await
        }
        // INVARIANT: `open` and `attach` both choose by `target.protocol == Ssh`.
        _ => Ending::error(hoshu_guac::Status::SERVER_ERROR, Outcome::TaskEnded),
    };
    session.close(ending).await;
}

/// The reaper service: a session whose browser does not attach its tunnel within
/// [`ATTACH_WITHIN`] of the open ends (and is sealed) on its own.
pub async fn reap_unattached(state: AppState, mut shutdown: Shutdown) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => state.sessions.reap_unattached(ATTACH_WITHIN),
            () = shutdown.requested() => return,
        }
    }
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

/// Opens a session on a target by name (its id and the target's protocol), or says why not;
/// shared by the API and the portal's form.
pub async fn open_session(
    state: &AppState,
    viewer: &Viewer,
    target: &str,
    source: Source,
    certificate: &crate::app::tls::ClientCertificate,
) -> OpResult<(String, Protocol)> {
    // The user's own lent device, when the browser presented its certificate.
    let presented = certificate
        .device(&state.store)
        .await?
        .filter(|d| d.user == viewer.user.id)
        .map(|d| d.asset_tag);
    let target = state
        .store
        .target_by_name(target)
        .await?
        .ok_or_else(|| OpError::from(Missing::Target(target.to_owned())))?;
    let protocol = target.protocol;
    let id = open(
        state,
        &viewer.user,
        target,
        source.ip_string(),
        presented,
        Some(viewer.token_hash),
    )
    .await?;
    Ok((id, protocol))
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
