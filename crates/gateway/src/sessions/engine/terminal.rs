//! The task of an SSH session: one WebSocket to the browser's terminal (xterm.js), one SSH
//! connection to the target, the asciicast recorder and the command log between them.
//!
//! Framing (DESIGN §8): binary frames carry terminal bytes both ways; text frames carry JSON
//! control messages. From the browser: `{"type":"resize","cols":C,"rows":R}` (the first one
//! also sets the size the shell starts with) and `{"type":"credentials","username":U,
//! "password":P}` when asked. To the browser: `{"type":"credentials","username":bool}` (asks for
//! a password, and a user name when the target has none), `{"type":"connected"}`,
//! `{"type":"notice","message":M}` and, last, `{"type":"end","reason":M,"status":N}`.
//!
//! Output pacing: output is read from the SSH channel only when the previous piece has gone to
//! the browser. russh's per-channel queue is small (ssh.rs), so when the browser lags russh
//! stops reading the connection and the target's writes block: memory stays bounded under a
//! flood (`yes`), whatever the target sends.
//!
//! Escape sequences: the target's output passes [`EscapeFilter`] before anything else sees it,
//! so the browser, the recording and the command log all get the same filtered bytes: the
//! recording shows what the user was shown (a clipboard write the policy dropped is not in it
//! either), and the player never replays a sequence the live terminal did not get.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket};
use hoshu_guac::Status;
use hoshu_storage::{Store, Target};
use russh::ChannelMsg;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::cast::CastRecorder;
use super::lifetime::{
    Ending, FLUSH_EVERY, KillSwitch, TimeLimits, close_lingering, killed, send_bounded, unix_ms,
};
use super::outcome::Outcome;
use crate::sessions::engine::ssh::{self, Credential, SshError};
use crate::ui::i18n::Lang;
use hoshu_display::Utf8Stream;
use hoshu_display::{Command, CommandLog, EscapeFilter};

/// How long the browser has to report its terminal size before the shell starts at 80×24.
const FIRST_SIZE_WITHIN: Duration = Duration::from_secs(5);
/// How long a user has to type the target's password when the gateway asks for it.
const CREDENTIALS_WITHIN: Duration = Duration::from_secs(120);
/// The gateway pings the browser this often; a browser silent for `BROWSER_SILENCE` is gone.
const PING_EVERY: Duration = Duration::from_secs(10);
const BROWSER_SILENCE: Duration = Duration::from_secs(35);
/// A binary frame larger than this is a paste (a person's keys and IME commits are short).
const PASTE_THRESHOLD: usize = 64;
/// Largest input frame accepted at all.
const MAX_INPUT: usize = 64 * 1024;
/// Keys waiting for the SSH connection; the browser's frames are not read while it is full.
const INPUT_QUEUE: usize = 64;
/// How long a target may go on after reporting the shell's exit status before the session ends
/// anyway. RFC 4254 §6.10: exit-status comes before the channel's close; a real server closes
/// right after it, a hostile one may keep the session open by sending on.
const AFTER_EXIT_STATUS: Duration = Duration::from_secs(5);

/// Everything the terminal task needs besides its recorder (which the session's handle owns);
/// built when the session's tunnel attaches.
pub struct TerminalContext {
    pub id: String,
    pub target: Target,
    pub credential: Option<Credential>,
    pub kill: KillSwitch,
    pub bytes_to_browser: Arc<AtomicU64>,
    pub store: Store,
    /// The user's language, for what the gateway itself tells the browser.
    pub lang: Lang,
}

impl std::fmt::Debug for TerminalContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the credential.
        f.debug_struct("TerminalContext")
            .field("id", &self.id)
            .field("target", &self.target.name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Control {
    Resize {
        cols: u16,
        rows: u16,
    },
    Credentials {
        username: Option<String>,
        password: String,
    },
}

/// What goes to the target, in order.
enum Input {
    Keys(Bytes),
    Resize(u16, u16),
}

/// A terminal size the gateway accepts.
fn valid_size(cols: u16, rows: u16) -> bool {
    (2..=1000).contains(&cols) && (1..=1000).contains(&rows)
}

/// Whether a frame of input is a paste rather than typing: xterm.js wraps pastes in bracketed
/// paste marks when the shell asked for them (bash and zsh do); without them, a frame longer than
/// a person types at once, or several lines in one frame, is a paste.
pub fn is_paste(keys: &[u8]) -> bool {
    if keys.windows(6).any(|w| w == b"\x1b[200~") || keys.len() > PASTE_THRESHOLD {
        return true;
    }
    let trimmed = keys
        .strip_suffix(b"\r")
        .or_else(|| keys.strip_suffix(b"\n"))
        .unwrap_or(keys);
    trimmed.len() > 1 && trimmed.iter().any(|&b| b == b'\r' || b == b'\n')
}

fn control(value: serde_json::Value) -> Message {
    Message::Text(value.to_string().into())
}

/// Sends to the browser through the shared bounded send, counting bytes.
struct Browser<'a> {
    socket: &'a mut WebSocket,
    kill: &'a mut KillSwitch,
    bytes: &'a AtomicU64,
    last_heard: Instant,
}

impl Browser<'_> {
    async fn send(&mut self, message: Message) -> Result<(), Ending> {
        let len = match &message {
            Message::Binary(b) => b.len(),
            Message::Text(t) => t.len(),
            _ => 0,
        };
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
        send_bounded(self.socket, message, self.kill).await
    }

    /// The next control message, within `within`; binary frames before it are dropped (the
    /// shell is not there yet).
    async fn next_control(&mut self, within: Duration) -> Result<Option<Control>, Ending> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let message = tokio::select! {
                m = tokio::time::timeout_at(deadline, self.socket.recv()) => match m {
                    Ok(m) => m,
                    Err(_) => return Ok(None),
                },
                changed = self.kill.changed() => return Err(killed(self.kill, changed)),
            };
            self.last_heard = Instant::now();
            match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => {
                    return Err(Ending::normal(Outcome::BrowserClosed));
                }
                Some(Ok(Message::Text(text))) => {
                    if let Ok(control) = serde_json::from_str::<Control>(&text) {
                        return Ok(Some(control));
                    }
                }
                Some(Ok(_)) => {}
            }
        }
    }
}

/// Runs the session to its end, recording into `recorder`, and returns how it ended; the
/// session's handle seals the recording.
pub async fn run(
    mut socket: WebSocket,
    ctx: TerminalContext,
    recorder: &mut CastRecorder,
) -> Ending {
    let TerminalContext {
        id,
        target,
        credential,
        mut kill,
        bytes_to_browser,
        store,
        lang,
    } = ctx;
    let ending = {
        let mut browser = Browser {
            socket: &mut socket,
            kill: &mut kill,
            bytes: &bytes_to_browser,
            last_heard: Instant::now(),
        };
        drive(
            &mut browser,
            &id,
            &target,
            credential,
            recorder,
            &store,
            lang,
        )
        .await
    };
    if recorder.is_started() {
        let _ = recorder.marker(
            unix_ms(),
            &format!("ended: {}", ending.outcome.message(lang)),
        );
    }
    let last = control(serde_json::json!({
        "type": "end", "reason": ending.outcome.message(lang), "code": ending.outcome.code(),
        "status": ending.status.0,
    }));
    close_lingering(&mut socket, last, ending.status.0.to_string()).await;
    ending
}

/// The user name and credential to log in with: the target's, or asked from the user.
async fn credentials(
    browser: &mut Browser<'_>,
    target: &Target,
    stored: Option<Credential>,
) -> Result<(String, Credential), Ending> {
    if let (Some(user), Some(credential)) = (&target.username, stored) {
        return Ok((user.clone(), credential));
    }
    let ask_user = target.username.is_none();
    browser
        .send(control(
            serde_json::json!({ "type": "credentials", "username": ask_user }),
        ))
        .await?;
    loop {
        match browser.next_control(CREDENTIALS_WITHIN).await? {
            None => {
                return Err(Ending::error(
                    Status::CLIENT_TIMEOUT,
                    Outcome::CredentialsTimeout {
                        secs: CREDENTIALS_WITHIN.as_secs(),
                    },
                ));
            }
            Some(Control::Credentials { username, password }) => {
                let user = match (&target.username, username) {
                    (Some(user), _) => user.clone(),
                    (None, Some(user)) if !user.trim().is_empty() && user.len() <= 256 => {
                        user.trim().to_owned()
                    }
                    (None, _) => {
                        return Err(Ending::error(
                            Status::CLIENT_BAD_REQUEST,
                            Outcome::UsernameNeeded,
                        ));
                    }
                };
                return Ok((user, Credential::Password(password)));
            }
            Some(Control::Resize { .. }) => {}
        }
    }
}

/// The recorder failed: the session ends (no recording, no session); the detail goes to the log.
fn recording_failed(detail: String) -> Ending {
    tracing::error!(error = %detail, "Recording failed; the session ends");
    Ending::error(Status::SERVER_ERROR, Outcome::RecordingFailed)
}

fn ssh_ending(e: SshError) -> Ending {
    let status = match &e {
        SshError::Unreachable { .. } => Status::UPSTREAM_NOT_FOUND,
        SshError::Timeout { .. } => Status::UPSTREAM_TIMEOUT,
        SshError::LoginRefused { .. } => Status::CLIENT_UNAUTHORIZED,
        _ => Status::UPSTREAM_ERROR,
    };
    Ending::error(status, Outcome::Ssh((&e).into()))
}

async fn drive(
    browser: &mut Browser<'_>,
    id: &str,
    target: &Target,
    stored: Option<Credential>,
    recorder: &mut CastRecorder,
    store: &Store,
    lang: Lang,
) -> Ending {
    // The page reports its size as soon as the tunnel opens; the shell starts with it.
    let (mut cols, mut rows) = (80, 24);
    match browser.next_control(FIRST_SIZE_WITHIN).await {
        Ok(Some(Control::Resize { cols: c, rows: r })) if valid_size(c, r) => (cols, rows) = (c, r),
        Ok(_) => {}
        Err(ending) => return ending,
    }
    let (user, credential) = match credentials(browser, target, stored).await {
        Ok(c) => c,
        Err(ending) => return ending,
    };
    let connect = ssh::connect(
        &target.name,
        &target.host,
        target.port,
        target.host_key.as_deref(),
        &user,
        credential,
    );
    let connection = tokio::select! {
        c = connect => match c {
            Ok(c) => c,
            Err(e) => {
                tracing::info!(session = %id, target = %target.name, error = %e, "SSH connection refused");
                return ssh_ending(e);
            }
        },
        changed = browser.kill.changed() => return killed(browser.kill, changed),
    };
    let opened = async {
        let channel = connection.channel_open_session().await?;
        channel
            .request_pty(false, "xterm-256color", cols.into(), rows.into(), 0, 0, &[])
            .await?;
        channel.request_shell(false).await?;
        Ok::<_, russh::Error>(channel)
    };
    let channel = match opened.await {
        Ok(channel) => channel,
        Err(e) => {
            return Ending::error(
                Status::UPSTREAM_ERROR,
                Outcome::ShellNotOpened {
                    target: target.name.clone(),
                    detail: e.to_string(),
                },
            );
        }
    };
    if let Err(e) = recorder.start(cols, rows, unix_ms(), &target.name) {
        return recording_failed(e);
    }
    if let Err(ending) = browser
        .send(control(serde_json::json!({ "type": "connected" })))
        .await
    {
        return ending;
    }
    tracing::info!(session = %id, target = %target.name, cols, rows, "Shell opened");

    let (mut from_target, to_target) = channel.split();
    // Keys go to the target from their own task, so a target that stops reading never stops
    // this loop from taking its output (and the kill switch); the queue between is bounded.
    let (input_tx, mut input_rx) = mpsc::channel::<Input>(INPUT_QUEUE);
    let mut writer = tokio::spawn(async move {
        while let Some(input) = input_rx.recv().await {
            match input {
                Input::Keys(keys) => to_target.data_bytes(keys).await?,
                Input::Resize(c, r) => to_target.window_change(c.into(), r.into(), 0, 0).await?,
            }
        }
        Ok::<(), russh::Error>(())
    });

    let mut limits = TimeLimits::of(target);
    let mut commands = CommandLog::new(cols);
    let mut output_text = Utf8Stream::default();
    let mut input_text = Utf8Stream::default();
    let mut pending: Option<Input> = None;
    let mut exit_status: Option<(u32, Instant)> = None;
    // Only the target's policy lets OSC 52 (the clipboard) through, as it does a copy.
    let mut escapes = EscapeFilter::new(target.clipboard.allows_copy_out());
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    // What the store holds as the command being typed.
    let mut stored_in_progress: Option<Command> = None;
    let mut last_ping = Instant::now();
    let ending = loop {
        tokio::select! {
            message = from_target.wait() => {
                let data = match message {
                    Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => data,
                    Some(ChannelMsg::ExitStatus { exit_status: s }) => {
                        exit_status.get_or_insert((s, Instant::now()));
                        continue;
                    }
                    Some(ChannelMsg::Close) | None => break match exit_status {
                        Some((status, _)) => Ending::normal(Outcome::ShellEnded { target: target.name.clone(), status }),
                        None => Ending::normal(Outcome::TargetEndedSession { target: target.name.clone() }),
                    },
                    Some(_) => continue,
                };
                let shown = escapes.filter(&data);
                if shown.is_empty() {
                    continue;
                }
                let now = unix_ms();
                let text = output_text.decode(&shown);
                // INVARIANT: recorded before it is sent (no recording, no session).
                if let Err(e) = recorder.output(now, &text) {
                    break recording_failed(e);
                }
                for command in commands.output(&text) {
                    // The store drops its line in progress with it.
                    stored_in_progress = None;
                    if let Err(e) = store.add_session_command(id, command.at_ms, &command.text).await {
                        tracing::error!(session = %id, error = %e, "Cannot store a command");
                    }
                }
                if let Err(ending) = browser.send(Message::Binary(Bytes::from(shown))).await {
                    break ending;
                }
            }
            message = browser.socket.recv(), if pending.is_none() => {
                browser.last_heard = Instant::now();
                match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break Ending::normal(Outcome::BrowserClosed),
                    Some(Ok(Message::Binary(keys))) => {
                        if keys.len() > MAX_INPUT || (is_paste(&keys) && !target.clipboard.allows_paste_in()) {
                            tracing::debug!(session = %id, bytes = keys.len(), "Paste refused by policy");
                            let notice = control(serde_json::json!({
                                "type": "notice", "message": crate::sessions::texts::paste_refused(lang),
                            }));
                            if let Err(ending) = browser.send(notice).await {
                                break ending;
                            }
                            continue;
                        }
                        limits.input();
                        commands.input(&input_text.decode(&keys), hoshu_storage::now_ms());
                        pending = Some(Input::Keys(keys));
                    }
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<Control>(&text) {
                        Ok(Control::Resize { cols: c, rows: r }) if valid_size(c, r) && (c, r) != (cols, rows) => {
                            (cols, rows) = (c, r);
                            if let Err(e) = recorder.resize(unix_ms(), c, r) {
                                break recording_failed(e);
                            }
                            commands.resize(c);
                            pending = Some(Input::Resize(c, r));
                        }
                        Ok(_) => {}
                        // Text that is not JSON is a broken client; a message of a type this
                        // gateway does not know (a newer page) is ignored.
                        Err(e) if e.is_syntax() || e.is_eof() => break Ending::error(Status::CLIENT_BAD_REQUEST, Outcome::BrowserMalformed { detail: e.to_string() }),
                        Err(e) => tracing::debug!(session = %id, error = %e, "Control message ignored"),
                    },
                    Some(Ok(_)) => {}
                }
            }
            permit = input_tx.reserve(), if pending.is_some() => match (permit, pending.take()) {
                (Ok(permit), Some(input)) => permit.send(input),
                _ => break Ending::error(Status::UPSTREAM_ERROR, Outcome::ConnectionFailed { target: target.name.clone(), detail: String::new() }),
            },
            result = &mut writer => {
                let detail = match result {
                    Ok(Err(e)) => e.to_string(),
                    _ => String::new(),
                };
                break Ending::error(Status::UPSTREAM_ERROR, Outcome::ConnectionFailed { target: target.name.clone(), detail });
            }
            changed = browser.kill.changed() => break killed(browser.kill, changed),
            _ = tick.tick() => {
                if let Some(ending) = limits.reached() {
                    break ending;
                }
                if let Some((status, at)) = exit_status
                    && at.elapsed() >= AFTER_EXIT_STATUS
                {
                    tracing::debug!(session = %id, target = %target.name, "Output after the exit status; the session ends");
                    break Ending::normal(Outcome::ShellEnded { target: target.name.clone(), status });
                }
                if browser.last_heard.elapsed() >= BROWSER_SILENCE {
                    break Ending::normal(Outcome::BrowserSilent);
                }
                if let Err(e) = recorder.flush() {
                    break recording_failed(e);
                }
                store_in_progress(store, id, commands.in_progress(), &mut stored_in_progress).await;
                if last_ping.elapsed() >= PING_EVERY {
                    last_ping = Instant::now();
                    if let Err(ending) = browser.send(Message::Ping(Bytes::new())).await {
                        break ending;
                    }
                }
            }
        }
    };
    writer.abort();
    // A line never entered is no command: only a gateway that stopped keeps it (the orphan
    // sweep settles it), as nobody knows whether it would have been.
    store_in_progress(store, id, None, &mut stored_in_progress).await;
    // Dropping the output side first frees russh's loop if it waits to hand us output; the
    // goodbye is bounded, as the target may be gone.
    drop(from_target);
    let goodbye = connection.disconnect(russh::Disconnect::ByApplication, "session ended", "en");
    let _ = tokio::time::timeout(Duration::from_secs(2), goodbye).await;
    ending
}

/// Stores the command line being typed if it changed since `stored` (every
/// [`FLUSH_EVERY`]: a gateway that is killed loses at most that much of it).
async fn store_in_progress(
    store: &Store,
    id: &str,
    now: Option<Command>,
    stored: &mut Option<Command>,
) {
    if now == *stored {
        return;
    }
    let line = now.as_ref().map(|c| (c.at_ms, c.text.as_str()));
    match store.set_command_in_progress(id, line).await {
        Ok(()) => *stored = now,
        Err(e) => {
            tracing::error!(session = %id, error = %e, "Cannot store the command being typed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pastes_are_told_from_typing() {
        assert!(!is_paste(b"a"));
        assert!(!is_paste(b"echo hoshu-12345\r"));
        assert!(!is_paste("日本語".as_bytes()));
        assert!(!is_paste(b"\x1b[A"));
        assert!(!is_paste(b"\r"));
        assert!(is_paste(b"\x1b[200~ls\x1b[201~"));
        assert!(is_paste(b"ls\rpwd\r"));
        assert!(is_paste(&[b'x'; 65]));
    }
}
