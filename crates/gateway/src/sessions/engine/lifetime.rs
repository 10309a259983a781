//! What every tunnel shares, whatever the protocol behind it (Guacamole for VNC, the terminal
//! for SSH): how a session ends, the kill switch, the idle and maximum-duration limits, sends
//! that a stalled browser cannot block, and the lingering close.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use hoshu_guac::Status;
use hoshu_storage::Target;
use tokio::sync::watch;

use super::outcome::Outcome;
use crate::ui::i18n::Lang;

/// How often a session's task writes what its recorder holds to the file (and checks its
/// limits): what a kill -9 can lose of a recording is at most this, plus the frame in flight.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// A target that does not accept the connection within this time is given up on.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A browser that takes no data for this long is gone (a stalled network): the session ends
/// rather than block its task, whose timers and kill switch must keep working.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// After the final close frame, how long to wait for the browser's: closing at once would reset
/// the connection and could destroy the error message still in flight.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// How a session ended, for the user, the session list and the audit log. The status is the
/// Guacamole status code (notes/guacamole-protocol.md); the terminal tunnel reports it too, so
/// both kinds of session classify endings alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    pub outcome: Outcome,
    pub status: Status,
}

impl Ending {
    pub fn normal(outcome: Outcome) -> Ending {
        Ending {
            outcome,
            status: Status::SUCCESS,
        }
    }

    pub fn error(status: Status, outcome: Outcome) -> Ending {
        Ending { outcome, status }
    }

    /// What a Guacamole client is told last, in its user's language: why (`error`), or just
    /// `disconnect` after a normal end.
    pub fn last_instruction(&self, lang: Lang) -> String {
        if self.status.is_error() {
            hoshu_guac::ServerInstruction::Error {
                message: &self.outcome.message(lang),
                status: self.status,
            }
            .encode()
        } else {
            hoshu_guac::ServerInstruction::Disconnect.encode()
        }
    }
}

/// The kill switch of a live session: an outcome put in it ends the session.
pub type KillSwitch = watch::Receiver<Option<Outcome>>;

pub fn unix_ms() -> u64 {
    u64::try_from(hoshu_storage::now_ms()).unwrap_or(0)
}

/// The ending an administrator (or shutdown) asked for through the kill switch.
pub fn killed(kill: &KillSwitch, changed: Result<(), watch::error::RecvError>) -> Ending {
    let outcome = match changed {
        Ok(()) => kill.borrow().clone().unwrap_or(Outcome::ShuttingDown),
        Err(_) => Outcome::ShuttingDown,
    };
    Ending::error(Status::SESSION_CLOSED, outcome)
}

/// Sends one message to the browser, bounded by [`SEND_TIMEOUT`] and raced against the kill
/// switch: a slow browser must not delay an emergency stop (DESIGN §8: within 1 s).
pub async fn send_bounded(
    socket: &mut WebSocket,
    message: Message,
    kill: &mut KillSwitch,
) -> Result<(), Ending> {
    let send = socket.send(message);
    tokio::select! {
        sent = tokio::time::timeout(SEND_TIMEOUT, send) => match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Ending::normal(Outcome::BrowserGone)),
            Err(_) => Err(Ending::error(
                Status::CLIENT_TIMEOUT,
                Outcome::BrowserStalled {
                    secs: SEND_TIMEOUT.as_secs(),
                },
            )),
        },
        changed = kill.changed() => Err(killed(kill, changed)),
    }
}

/// Sends the last message (why the session ended) and a close frame with `reason`, then reads
/// until the browser's own close so nothing in flight is reset away. Every step is bounded: the
/// browser may be gone.
pub async fn close_lingering(socket: &mut WebSocket, last: Message, reason: String) {
    let close = Message::Close(Some(CloseFrame {
        code: 1000,
        reason: reason.into(),
    }));
    let _ = tokio::time::timeout(CLOSE_LINGER, async {
        if socket.send(last).await.is_ok() && socket.send(close).await.is_ok() {
            while let Some(Ok(message)) = socket.recv().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        }
    })
    .await;
}

/// The target's session policy in time: no input for `idle` ends the session, and so does
/// reaching `max` in all (DESIGN §5).
#[derive(Debug)]
pub struct TimeLimits {
    started: Instant,
    last_input: Instant,
    idle: Duration,
    max: Duration,
}

impl TimeLimits {
    pub fn of(target: &Target) -> TimeLimits {
        let now = Instant::now();
        TimeLimits {
            started: now,
            last_input: now,
            idle: Duration::from_secs(u64::try_from(target.idle_timeout_secs).unwrap_or(900)),
            max: Duration::from_secs(u64::try_from(target.max_duration_secs).unwrap_or(28_800)),
        }
    }

    /// The user did something (a key, the mouse, a paste).
    pub fn input(&mut self) {
        self.last_input = Instant::now();
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The ending due now, if a limit was reached.
    pub fn reached(&self) -> Option<Ending> {
        if self.last_input.elapsed() >= self.idle {
            return Some(Ending::error(
                Status::SESSION_TIMEOUT,
                Outcome::IdleTimeout {
                    secs: self.idle.as_secs(),
                },
            ));
        }
        if self.started.elapsed() >= self.max {
            return Some(Ending::error(
                Status::SESSION_TIMEOUT,
                Outcome::MaxDuration {
                    secs: self.max.as_secs(),
                },
            ));
        }
        None
    }
}
