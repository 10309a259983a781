//! The session's task: one WebSocket to the browser (subprotocol `guacamole`), one TCP
//! connection to the target, the display and the recorder between them. Everything the
//! browser is sent is recorded; a recording failure ends the session.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use hoshu_domain::Protocol;
use hoshu_guac::{
    ClientEvent, Decoder, Limits, ServerInstruction, Status, StreamIndex, write_stream_data,
};
use hoshu_storage::Target;

use super::budget::{FramebufferBudget, Reservation};
use super::cpu;
use super::desktop::{Desktop, Follow};
use super::keylog::KeyLogger;
use super::lifetime::{
    Ending, FLUSH_EVERY, KillSwitch, TimeLimits, close_lingering, killed, send_bounded, unix_ms,
};
use super::outcome::Outcome;
use super::rdp;
use super::recorder::Recorder;
use super::vnc::VncDesktop;
use super::watchers::{Watchers, write_list_pipe};
use crate::ui::i18n::Lang;
use hoshu_display::KeyframeSchedule;
use hoshu_display::{Display, Screen};

/// The browser pings every 500 ms (notes); this long without any message means it is gone.
const BROWSER_SILENCE: Duration = Duration::from_secs(15);
/// A target that accepts the connection but does not finish the RFB handshake in this time is
/// given up on (a silent or stuck server must not hold the session open until its idle timeout).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// Between frames, watchers are shown where the user points at most this often.
const POINTER_EVERY: Duration = Duration::from_millis(100);
/// Largest clipboard text accepted from the browser (paste-in).
const MAX_PASTE: usize = 64 * 1024;
/// Largest clipboard text passed to the browser (copy-out).
const MAX_COPY_OUT: usize = 256 * 1024;

/// Everything the session task needs besides its recorder (which the session's handle owns);
/// built when the tunnel attaches.
pub struct SessionContext {
    pub id: String,
    pub target: Target,
    pub password: Option<String>,
    pub kill: KillSwitch,
    pub bytes_to_browser: Arc<AtomicU64>,
    pub watchers: Arc<Watchers>,
    /// Where the keystroke log goes.
    pub store: hoshu_storage::Store,
    /// The user's language, for what the gateway itself tells the browser.
    pub lang: Lang,
    /// The memory the desktop's framebuffer is reserved from.
    pub framebuffers: FramebufferBudget,
}

impl std::fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the password.
        f.debug_struct("SessionContext")
            .field("id", &self.id)
            .field("target", &self.target.name)
            .finish_non_exhaustive()
    }
}

/// The recorder failed: the session ends (no recording, no session); the detail goes to the log.
fn recording_failed(detail: String) -> Ending {
    tracing::error!(error = %detail, "Recording failed; the session ends");
    Ending::error(Status::SERVER_ERROR, Outcome::RecordingFailed)
}

/// Pictures of the screen at the recording's keyframes, for the player's time line; encoded
/// here (small), stored beside the session's task.
struct Thumbnails {
    store: hoshu_storage::Store,
    session: String,
    any: bool,
}

impl Thumbnails {
    /// Width of a thumbnail at most, in pixels.
    const WIDTH: u32 = 192;

    /// Takes a thumbnail of `screen` at `at_ms`. Returns true: a thumbnail that cannot be
    /// made is only logged, it ends nothing.
    fn take(&mut self, screen: &dyn Screen, at_ms: u64) -> bool {
        self.any = true;
        let encoded = match hoshu_display::image::thumbnail(screen, Self::WIDTH) {
            Ok(encoded) => encoded,
            Err(e) => {
                tracing::warn!(session = %self.session, error = %e, "No thumbnail");
                return true;
            }
        };
        let store = self.store.clone();
        let session = self.session.clone();
        let at_ms = i64::try_from(at_ms).unwrap_or(i64::MAX);
        tokio::spawn(async move {
            if let Err(e) = store
                .add_thumbnail(&session, at_ms, encoded.mimetype, &encoded.bytes)
                .await
            {
                tracing::error!(session = %session, error = %e, "Cannot store a thumbnail");
            }
        });
        true
    }
}

/// Sends instructions to the browser and (unless tunnel-internal) records them and passes
/// them to the watchers.
pub(super) struct Outbox<'a> {
    pub(super) socket: &'a mut WebSocket,
    recorder: &'a mut Recorder,
    bytes: &'a AtomicU64,
    pub(super) kill: &'a mut KillSwitch,
    watchers: &'a Watchers,
}

impl Outbox<'_> {
    /// A batch of the session's stream (`sync_ms`: the `sync` that ends it, if any): recorded,
    /// handed to the watchers (never waiting for them) with `for_watchers` after it, then sent
    /// to the browser.
    async fn send_stream(
        &mut self,
        instructions: String,
        sync_ms: Option<u64>,
        for_watchers: &str,
    ) -> Result<(), Ending> {
        if instructions.is_empty() {
            self.watchers.broadcast(for_watchers, None);
            return Ok(());
        }
        self.recorder
            .write(unix_ms(), &instructions)
            .map_err(recording_failed)?;
        if for_watchers.is_empty() {
            self.watchers.broadcast(&instructions, sync_ms);
        } else {
            self.watchers
                .broadcast(&format!("{instructions}{for_watchers}"), sync_ms);
        }
        self.send(instructions).await
    }

    /// Sends to the browser only: tunnel-internal instructions, or a batch already recorded.
    pub(super) async fn send(&mut self, instructions: String) -> Result<(), Ending> {
        if instructions.is_empty() {
            return Ok(());
        }
        self.bytes
            .fetch_add(instructions.len() as u64, Ordering::Relaxed);
        send_bounded(self.socket, Message::Text(instructions.into()), self.kill).await
    }
}

/// Runs the session to its end, recording into `recorder`, and returns how it ended; the
/// session's handle seals the recording.
pub async fn run(mut socket: WebSocket, ctx: SessionContext, recorder: &mut Recorder) -> Ending {
    let SessionContext {
        id,
        target,
        password,
        mut kill,
        bytes_to_browser,
        watchers,
        store,
        lang,
        framebuffers,
    } = ctx;
    let mut keys = KeyLogger::new(store.clone(), id.clone());
    let ending = {
        let mut outbox = Outbox {
            socket: &mut socket,
            recorder,
            bytes: &bytes_to_browser,
            kill: &mut kill,
            watchers: &watchers,
        };
        let framebuffers = framebuffers.reservation();
        drive(
            &mut outbox,
            &id,
            &target,
            password,
            framebuffers,
            &mut keys,
            &store,
        )
        .await
    };
    keys.finish();
    // Watchers learn the end now, not after the browser's close below.
    watchers.close(&ending.outcome);
    // Tell the browser why (the recording too, when it is an error), then close with the
    // status as the reason (notes: the client reads the close reason as the status code).
    let last = ending.last_instruction(lang);
    if ending.status.is_error() {
        let _ = recorder.write(unix_ms(), &last);
    }
    close_lingering(
        &mut socket,
        Message::Text(last.into()),
        ending.status.0.to_string(),
    )
    .await;
    ending
}

/// Opens the target's desktop (the browser meanwhile holds the tunnel's id) and runs it.
async fn drive(
    out: &mut Outbox<'_>,
    id: &str,
    target: &Target,
    password: Option<String>,
    framebuffers: Reservation,
    keys: &mut KeyLogger,
    store: &hoshu_storage::Store,
) -> Ending {
    // The tunnel opens with its id (an internal instruction, never recorded).
    let uuid = ServerInstruction::TunnelUuid { uuid: id }.encode();
    if let Err(ending) = out.send(uuid).await {
        return ending;
    }
    match target.protocol {
        // The RDP log-on honours the kill switch itself (it may wait for the user's
        // credentials).
        Protocol::Rdp => {
            match rdp::RdpDesktop::connect(target, password, framebuffers, out).await {
                Ok(desktop) => run_desktop(out, id, target, desktop, keys, store).await,
                Err(ending) => ending,
            }
        }
        _ => match VncDesktop::connect(target, password, framebuffers).await {
            Ok(desktop) => run_desktop(out, id, target, desktop, keys, store).await,
            Err(ending) => ending,
        },
    }
}

/// The session's loop, whatever the protocol: the target's changes to the browser (recorded,
/// shown to watchers), the browser's input to the target, the limits and the kill switch.
async fn run_desktop<D: Desktop>(
    out: &mut Outbox<'_>,
    id: &str,
    target: &Target,
    mut desktop: D,
    keys: &mut KeyLogger,
    store: &hoshu_storage::Store,
) -> Ending {
    let ending = desktop_loop(out, id, target, &mut desktop, keys, store).await;
    desktop.shutdown().await;
    ending
}

async fn desktop_loop<D: Desktop>(
    out: &mut Outbox<'_>,
    id: &str,
    target: &Target,
    desktop: &mut D,
    keys: &mut KeyLogger,
    store: &hoshu_storage::Store,
) -> Ending {
    let mut display = Display::new();
    let mut decoder = Decoder::new(Limits::default());
    let mut paste: Option<(StreamIndex, Vec<u8>)> = None;
    let mut next_clipboard_stream = 0u32;
    let mut keyframes = KeyframeSchedule::new(unix_ms(), 0);
    let mut thumbnails = Thumbnails {
        store: store.clone(),
        session: id.to_owned(),
        any: false,
    };
    let mut limits = TimeLimits::of(target);
    let mut last_browser = Instant::now();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    // The user's pointer, for the watchers only (the user's own page draws it locally; it is
    // not recorded): the last position, and whether the watchers have not seen it yet.
    let mut pointer: Option<(i32, i32, u8)> = None;
    let mut pointer_news = false;
    let mut pointer_shown = Instant::now();

    loop {
        let mut reply = String::new();
        tokio::select! {
            follows = desktop.receive(&mut display) => {
                let follows = match follows {
                    Ok(follows) => follows,
                    Err(ending) => return ending,
                };
                for follow in follows {
                    match follow {
                        Follow::Connected => {
                            ServerInstruction::Name { name: &target.name }.encode_into(&mut reply);
                            if let Err(e) = out.recorder.keyframe(unix_ms()) {
                                return recording_failed(e);
                            }
                        }
                        Follow::CutText(text) if target.clipboard.allows_copy_out() => {
                            next_clipboard_stream = next_clipboard_stream % 64 + 1;
                            // Clipboard streams use indices above the display's image streams.
                            let stream = StreamIndex(2048 + next_clipboard_stream);
                            let bytes = text.as_bytes();
                            let bytes = &bytes[..bytes.len().min(MAX_COPY_OUT)];
                            ServerInstruction::Clipboard { stream, mimetype: "text/plain" }.encode_into(&mut reply);
                            write_stream_data(&mut reply, stream, bytes);
                        }
                        // DESIGN §5: copying out of the target is dropped unless policy allows it.
                        Follow::CutText(_) => tracing::debug!(session = %id, "Clipboard from target dropped by policy"),
                    }
                }
            }
            message = out.socket.recv() => {
                let text = match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ending::normal(Outcome::BrowserClosed),
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                };
                last_browser = Instant::now();
                for instruction in decoder.feed(text.as_bytes()) {
                    let instruction = match instruction {
                        Ok(instruction) => instruction,
                        Err(e) => return Ending::error(Status::CLIENT_BAD_REQUEST, Outcome::BrowserMalformed { detail: e.to_string() }),
                    };
                    let Ok(event) = ClientEvent::parse(&instruction) else { continue };
                    match event {
                        ClientEvent::Ping { timestamp } => {
                            let ping = ServerInstruction::TunnelPing { timestamp: &timestamp }.encode();
                            if let Err(ending) = out.send(ping).await {
                                return ending;
                            }
                        }
                        ClientEvent::Sync { timestamp_ms } => display.acknowledge(timestamp_ms),
                        ClientEvent::Mouse { x, y, buttons } => {
                            limits.input();
                            desktop.pointer(x, y, buttons.0);
                            pointer = Some((x, y, buttons.0));
                            pointer_news = true;
                        }
                        ClientEvent::Key { keysym, pressed } => {
                            limits.input();
                            keys.key(keysym, pressed);
                            desktop.key(keysym, pressed);
                        }
                        ClientEvent::Clipboard { stream, mimetype } => {
                            if target.clipboard.allows_paste_in() && mimetype.starts_with("text/") {
                                paste = Some((stream, Vec::new()));
                            } else {
                                ServerInstruction::Ack { stream, message: "clipboard is disabled for this target", status: Status::CLIENT_FORBIDDEN }.encode_into(&mut reply);
                            }
                        }
                        ClientEvent::Blob { stream, data } => {
                            if let Some((s, text)) = paste.as_mut().filter(|(s, _)| *s == stream) {
                                if text.len() + data.len() > MAX_PASTE {
                                    ServerInstruction::Ack { stream: *s, message: "clipboard text too long", status: Status::CLIENT_OVERRUN }.encode_into(&mut reply);
                                    paste = None;
                                } else {
                                    text.extend_from_slice(&data);
                                    ServerInstruction::Ack { stream, message: "OK", status: Status::SUCCESS }.encode_into(&mut reply);
                                }
                            }
                        }
                        ClientEvent::End { stream } => {
                            if let Some((_, text)) = paste.take_if(|(s, _)| *s == stream) {
                                limits.input();
                                desktop.paste(&String::from_utf8_lossy(&text));
                            }
                        }
                        ClientEvent::Disconnect => return Ending::normal(Outcome::UserDisconnected),
                        // No file transfer, no printing (DESIGN §5): other streams are not forwarded.
                        _ => {}
                    }
                }
            }
            changed = out.kill.changed() => return killed(out.kill, changed),
            // Someone started or stopped watching: the loop's end tells the browser, and
            // gives a new watcher its first picture.
            () = out.watchers.changed() => {}
            _ = tick.tick() => {
                if !desktop.is_connected() && limits.elapsed() >= HANDSHAKE_TIMEOUT {
                    return Ending::error(Status::UPSTREAM_TIMEOUT, Outcome::HandshakeTimeout { target: target.name.clone(), protocol: target.protocol.as_str().to_uppercase(), secs: HANDSHAKE_TIMEOUT.as_secs() });
                }
                if let Some(ending) = limits.reached() {
                    return ending;
                }
                if last_browser.elapsed() >= BROWSER_SILENCE {
                    return Ending::normal(Outcome::BrowserSilent);
                }
                if let Err(e) = out.recorder.flush() {
                    return recording_failed(e);
                }
                keys.flush();
            }
        }
        if let Err(ending) = desktop.flush().await {
            return ending;
        }
        let mut sync_ms = None;
        // A target that resizes again and again in one burst is not drawn at every size.
        if !desktop.input_pending() && display.ready() && display.has_pending() {
            // The turn first: nothing the drawing borrows may be held across its await.
            let turn = cpu::turn(display.pending_area()).await;
            if let Some(screen) = desktop.screen()
                && turn.run(|| display.render(&screen, unix_ms(), &mut reply))
            {
                sync_ms = display.last_frame_sync();
            }
        }
        // The session's user sees who watches (the `hoshu-watchers` pipe; recorded too).
        if let Some(list) = out.watchers.take_list_change() {
            write_list_pipe(&list, &mut reply);
        }
        let mut for_watchers = String::new();
        if pointer_news
            && (sync_ms.is_some() || pointer_shown.elapsed() >= POINTER_EVERY)
            && let Some((x, y, buttons)) = pointer
        {
            let timestamp_ms = unix_ms();
            ServerInstruction::Mouse {
                x,
                y,
                buttons,
                timestamp_ms,
            }
            .encode_into(&mut for_watchers);
            pointer_news = false;
            pointer_shown = Instant::now();
        }
        if let Err(ending) = out.send_stream(reply, sync_ms, &for_watchers).await {
            return ending;
        }
        // Recording keyframes: a full picture written to the recording only, after
        // everything before it (display::snapshot's invariant), so a player seeks by starting
        // here instead of replaying from the beginning.
        let mut now_ms = unix_ms();
        if !desktop.input_pending()
            && desktop.screen().is_some()
            && keyframes.due(now_ms, out.recorder.stream_len())
        {
            let turn = cpu::turn(display.area()).await;
            now_ms = unix_ms();
            let mut picture = String::new();
            let taken = desktop.screen().is_some_and(|screen| {
                turn.run(|| {
                    display.snapshot(&screen, now_ms, &mut picture)
                        && thumbnails.take(&screen, now_ms)
                })
            });
            if taken {
                if let Err(e) = out
                    .recorder
                    .keyframe(now_ms)
                    .and_then(|()| out.recorder.write(now_ms, &picture))
                {
                    return recording_failed(e);
                }
                keyframes.written(now_ms, out.recorder.stream_len());
            }
        }
        // The first complete picture gets a thumbnail too (the session's first keyframe came
        // before anything was drawn).
        if !thumbnails.any && desktop.screen().is_some() {
            let turn = cpu::turn(display.area()).await;
            if let Some(screen) = desktop.screen() {
                turn.run(|| thumbnails.take(&screen, now_ms));
            }
        }
        // Watchers that joined or fell behind start over from a full picture, taken after
        // everything before it went out (display::snapshot's invariant).
        if desktop.screen().is_some() && out.watchers.wants_picture() {
            let turn = cpu::turn(display.area()).await;
            let mut picture = String::new();
            let timestamp_ms = unix_ms();
            let taken = desktop.screen().is_some_and(|screen| {
                turn.run(|| display.snapshot(&screen, timestamp_ms, &mut picture))
            });
            if taken {
                write_list_pipe(&out.watchers.list(), &mut picture);
                if let Some((x, y, buttons)) = pointer {
                    ServerInstruction::Mouse {
                        x,
                        y,
                        buttons,
                        timestamp_ms,
                    }
                    .encode_into(&mut picture);
                }
                out.watchers.send_picture(picture, timestamp_ms);
            }
        }
    }
}
