//! A watcher's WebSocket (立会い): a second Guacamole client on a live session,
//! fed from the session's own stream (see `watchers`). Read-only: whatever the watcher's browser
//! sends besides keep-alives and `sync` replies is read and thrown away, so no key or mouse
//! event of a watcher ever reaches the target. Its `sync` replies pace only its own queue.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use hoshu_domain::{AuditEvent, AuditKind};
use hoshu_guac::{ClientEvent, Decoder, Limits, ServerInstruction, Status};

use super::lifetime::{Ending, close_lingering};
use super::outcome::Outcome;
use super::watchers::{NotJoined, Ticket, Watchers};
use crate::app::state::AppState;
use crate::ui::i18n::Lang;

/// Frames a watcher's browser may have unanswered before its queue stops being read (then
/// the queue fills, and the watcher is resynchronised with a fresh picture).
const MAX_UNACKED_FRAMES: usize = 3;
/// As for the session's browser (tunnel.rs): pings every 500 ms, so this long silent is gone.
const BROWSER_SILENCE: Duration = Duration::from_secs(15);
/// A watcher's browser that takes no data this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Watchers send little (pings, `sync` replies); anything larger is not a Guacamole client.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Serves one watcher of session `id` on `socket` until the session or the watcher ends;
/// audits the start and the end. Nothing is shown unless the start was audited.
pub async fn serve_watcher(
    state: AppState,
    id: String,
    user: hoshu_storage::User,
    source: Option<String>,
    lang: Lang,
    mut socket: WebSocket,
) {
    // The tunnel opens with its id (notes: WebSocketTunnel handshake), whatever follows.
    let uuid = ServerInstruction::TunnelUuid { uuid: &id }.encode();
    if send(&mut socket, uuid).await.is_err() {
        return;
    }
    let joined = match state.sessions.watchers(&id) {
        Some((watchers, target)) => watchers
            .join(&user.login, hoshu_storage::now_ms())
            .map(|ticket| (watchers, target, ticket)),
        None => Err(NotJoined::Ended),
    };
    let (watchers, target, ticket) = match joined {
        Ok(joined) => joined,
        Err(refused) => {
            let end = match refused {
                NotJoined::Ended => {
                    Ending::error(Status::RESOURCE_NOT_FOUND, Outcome::WatchNotLive)
                }
                NotJoined::Full => Ending::error(Status::CLIENT_TOO_MANY, Outcome::WatchFull),
            };
            finish(&mut socket, &end, lang).await;
            return;
        }
    };
    let event = |kind| {
        let mut event = AuditEvent::new(kind)
            .actor(user.login.clone())
            .subject(target.clone())
            .detail("session", id.as_str());
        if let Some(s) = &source {
            event = event.source(s.clone());
        }
        event
    };
    // An action that cannot be audited does not happen.
    if let Err(e) = state.audit(event(AuditKind::WatchStarted)).await {
        tracing::error!(session = %id, error = %e, "Cannot audit the start of watching");
        watchers.leave(ticket.id);
        let end = Ending::error(Status::SERVER_ERROR, Outcome::WatchNotAudited);
        finish(&mut socket, &end, lang).await;
        return;
    }
    tracing::info!(session = %id, watcher = %user.login, target = %target, "Watching started");
    let started = Instant::now();
    let watcher_id = ticket.id;
    let end = follow(&mut socket, &watchers, ticket).await;
    watchers.leave(watcher_id);
    finish(&mut socket, &end, lang).await;
    let ended = event(AuditKind::WatchEnded)
        .detail("outcome", end.outcome.message(Lang::En))
        .detail("outcome_code", end.outcome.code())
        .detail(
            "duration_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
    if let Err(e) = state.audit(ended).await {
        tracing::error!(session = %id, error = %e, "Cannot audit the end of watching");
    }
    tracing::info!(session = %id, watcher = %user.login, outcome = end.outcome.code(), "Watching ended");
}

/// Sends the watcher its queue and reads what it sends, until one side ends.
async fn follow(socket: &mut WebSocket, watchers: &Watchers, mut ticket: Ticket) -> Ending {
    let gone = |()| Ending::normal(Outcome::WatcherGone);
    let mut unacked: VecDeque<u64> = VecDeque::new();
    let mut decoder = Decoder::new(Limits::default());
    let mut last_browser = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            batch = ticket.batches.recv(), if unacked.len() < MAX_UNACKED_FRAMES => {
                let Some(batch) = batch else {
                    return removed(watchers);
                };
                let len = batch.text.len();
                let sent = send(socket, batch.text.to_string()).await;
                ticket.queued.fetch_sub(len, Ordering::Relaxed);
                if let Err(e) = sent {
                    return gone(e);
                }
                unacked.extend(batch.sync_ms);
            }
            message = socket.recv() => {
                let text = match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ending::normal(Outcome::WatcherClosed),
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                };
                last_browser = Instant::now();
                for instruction in decoder.feed(text.as_bytes()) {
                    let Ok(instruction) = instruction else {
                        return Ending::error(Status::CLIENT_BAD_REQUEST, Outcome::WatcherMalformed);
                    };
                    match ClientEvent::parse(&instruction) {
                        Ok(ClientEvent::Ping { timestamp }) => {
                            let ping = ServerInstruction::TunnelPing { timestamp: &timestamp }.encode();
                            if let Err(e) = send(socket, ping).await {
                                return gone(e);
                            }
                        }
                        Ok(ClientEvent::Sync { timestamp_ms }) => {
                            while unacked.front().is_some_and(|&t| t <= timestamp_ms) {
                                unacked.pop_front();
                            }
                        }
                        Ok(ClientEvent::Disconnect) => return Ending::normal(Outcome::WatcherClosed),
                        // Read-only: keys, mouse, clipboard and every other stream of a watcher
                        // are dropped here and never reach the session.
                        _ => {}
                    }
                }
            }
            _ = tick.tick() => {
                if last_browser.elapsed() >= BROWSER_SILENCE {
                    return Ending::normal(Outcome::WatcherSilent);
                }
                // A watcher waiting for its own `sync` replies does not read its queue, so it
                // would not see the queue close: look, once a second.
                if !watchers.is_watching(ticket.id) {
                    return removed(watchers);
                }
            }
        }
    }
}

/// Why a watcher is no longer in the session's list: the session ended, or the watcher was
/// dropped for not keeping up.
fn removed(watchers: &Watchers) -> Ending {
    match watchers.ending() {
        Some(outcome) => Ending::error(
            Status::SESSION_CLOSED,
            Outcome::WatchSessionEnded {
                outcome: Box::new(outcome),
            },
        ),
        None => Ending::error(Status::CLIENT_TIMEOUT, Outcome::WatcherBehind),
    }
}

async fn send(socket: &mut WebSocket, text: String) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Tells the watcher why (an `error` instruction, unless it left by itself) and closes, as the
/// session's tunnel does.
async fn finish(socket: &mut WebSocket, end: &Ending, lang: Lang) {
    close_lingering(
        socket,
        axum::extract::ws::Message::Text(end.last_instruction(lang).into()),
        end.status.0.to_string(),
    )
    .await;
}
