//! The sans-IO client: bytes in, events and bytes out.

use std::collections::VecDeque;

use zeroize::Zeroize;

use crate::config::ClientConfig;
use crate::error::RfbError;
use crate::framebuffer::{Framebuffer, Rect};
use crate::handshake::{Handshake, Progress};
use crate::messages;
use crate::reader::Stop;
use crate::session::{Session, Stats};

/// What happened on the server's side, in the order the server said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Handshake done (after ServerInit). The framebuffer exists from now on.
    Connected {
        width: u16,
        height: u16,
        name: String,
    },
    /// These pixels changed (already applied to the framebuffer), in the
    /// order the server sent them.
    Damage(Rect),
    /// CopyRect: the region at (`src_x`, `src_y`) of size
    /// `dst.width`×`dst.height` was copied to `dst` (already applied).
    Copy {
        src_x: u16,
        src_y: u16,
        dst: Rect,
    },
    /// The end of one FramebufferUpdate message.
    UpdateEnd,
    /// DesktopSize / ExtendedDesktopSize pseudo-encoding: the framebuffer
    /// was resized (contents cleared to black).
    Resized {
        width: u16,
        height: u16,
    },
    /// Cursor pseudo-encoding (RichCursor): RGBA with the mask applied as
    /// alpha. A 0×0 cursor means "hide the cursor".
    Cursor {
        hotspot_x: u16,
        hotspot_y: u16,
        width: u16,
        height: u16,
        rgba: Vec<u8>,
    },
    Bell,
    /// ServerCutText (Latin-1 decoded).
    CutText(String),
}

enum Phase {
    Handshake(Handshake),
    Session(Box<Session>),
    Failed,
}

/// An RFB client with no I/O of its own: feed it what the server sent
/// ([`Client::receive`]), write what [`Client::take_output`] returns to the
/// server, and handle [`Client::next_event`] until it returns `None`.
///
/// The client asks for one full update after the handshake; after that the
/// caller decides when to ask for more ([`Client::request_update`]), which
/// is how the gateway paces a slow browser.
pub struct Client {
    config: ClientConfig,
    phase: Phase,
    /// Received bytes not yet used: at most one protocol unit's worth (all
    /// bounded by the limits) plus the last chunk given to `receive`.
    pending: Vec<u8>,
    output: Vec<u8>,
    events: VecDeque<Event>,
    stats: Stats,
    /// `receive` stopped after a resize with input left: the caller hands the new framebuffer
    /// to its display (and checks its limits) before the next one is made.
    yielded: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let phase = match self.phase {
            Phase::Handshake(_) => "handshake",
            Phase::Session(_) => "connected",
            Phase::Failed => "failed",
        };
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("phase", &phase)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Some(password) = self.config.password.as_mut() {
            password.zeroize();
        }
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Client {
        Client {
            config,
            phase: Phase::Handshake(Handshake::new()),
            pending: Vec::new(),
            output: Vec::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            yielded: false,
        }
    }

    /// Feeds bytes read from the server, in any chunking. An `Err` means
    /// the session must end (the error says why in words a user
    /// understands); after an `Err` every later call returns
    /// [`RfbError::Closed`].
    pub fn receive(&mut self, data: &[u8]) -> Result<(), RfbError> {
        self.feed(data, false)?;
        while self.yielded {
            self.feed(&[], false)?;
        }
        Ok(())
    }

    /// [`Client::receive`], but stopping after each resize when more input follows
    /// ([`Client::has_input_left`]): a new framebuffer is an allocation of up to
    /// [`crate::Limits::max_pixels`] × 4 bytes, and a server that resizes again and again in
    /// one read must not make one call do all of them. Call `receive_some(&[])` to go on.
    pub fn receive_some(&mut self, data: &[u8]) -> Result<(), RfbError> {
        self.feed(data, true)
    }

    fn feed(&mut self, data: &[u8], yield_on_resize: bool) -> Result<(), RfbError> {
        if matches!(self.phase, Phase::Failed) {
            return Err(RfbError::Closed);
        }
        self.stats.bytes_received += data.len() as u64;
        // Parse straight from `data` when nothing is pending; keep only the
        // unused tail.
        let mut pending = std::mem::take(&mut self.pending);
        let from_pending = !pending.is_empty();
        if from_pending {
            pending.extend_from_slice(data);
        }
        let input: &[u8] = if from_pending { &pending } else { data };
        let mut used = 0;
        let mut result = Ok(());
        self.yielded = false;
        while used < input.len() {
            let resizes = self.stats.resizes;
            match self.step(&input[used..]) {
                Ok(n) => {
                    debug_assert!(n > 0, "a step that succeeds uses input");
                    used += n;
                    // One new framebuffer per call: a server that sends resize after resize
                    // (each a new allocation) gives the caller a turn between them.
                    if yield_on_resize && self.stats.resizes != resizes && used < input.len() {
                        self.yielded = true;
                        break;
                    }
                }
                Err(Stop::Incomplete) => break,
                Err(Stop::Fail(error)) => {
                    result = Err(error);
                    break;
                }
            }
        }
        if result.is_err() {
            self.fail();
            return result;
        }
        if from_pending {
            pending.drain(..used);
        } else {
            pending.extend_from_slice(&data[used..]);
        }
        self.pending = pending;
        Ok(())
    }

    fn step(&mut self, input: &[u8]) -> Result<usize, Stop> {
        match &mut self.phase {
            Phase::Handshake(handshake) => {
                match handshake.step(input, &mut self.config, &mut self.output)? {
                    Progress::Consumed(n) => Ok(n),
                    Progress::Done(n, init) => {
                        let session = Session::new(
                            init.width,
                            init.height,
                            self.config.limits,
                            &self.config.encodings,
                        );
                        self.phase = Phase::Session(Box::new(session));
                        self.events.push_back(Event::Connected {
                            width: init.width,
                            height: init.height,
                            name: init.name,
                        });
                        // §7.4–§7.5: our pixel format, our encodings, then
                        // the first full picture.
                        messages::set_pixel_format(&mut self.output);
                        messages::set_encodings(&mut self.output, &self.config.encodings);
                        self.request_update(false);
                        Ok(n)
                    }
                }
            }
            Phase::Session(session) => session.step(input, &mut self.events, &mut self.stats),
            Phase::Failed => Err(Stop::Fail(RfbError::Closed)),
        }
    }

    fn fail(&mut self) {
        self.phase = Phase::Failed;
        self.pending = Vec::new();
        if let Some(password) = self.config.password.as_mut() {
            password.zeroize();
        }
        self.config.password = None;
    }

    /// Sets the most pixels the next framebuffer may have (ServerInit, a resize), in place of
    /// [`crate::Limits::max_pixels`]: sessions that share one memory budget lower it to their
    /// share before each read, so a desktop that does not fit is refused before it is
    /// allocated ([`RfbError::DesktopTooManyPixels`] names this limit).
    pub fn set_max_pixels(&mut self, max_pixels: u32) {
        self.config.limits.max_pixels = max_pixels;
        if let Phase::Session(session) = &mut self.phase {
            session.set_max_pixels(max_pixels);
        }
    }

    /// Bytes to write to the server (everything queued since the last call).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether the last [`Client::receive_some`] stopped after a resize with input left: call
    /// `receive_some(&[])` to go on (no new bytes are needed).
    pub fn has_input_left(&self) -> bool {
        self.yielded
    }

    /// The desktop, from [`Event::Connected`] on; `None` before, and after
    /// the session failed.
    pub fn framebuffer(&self) -> Option<&Framebuffer> {
        match &self.phase {
            Phase::Session(session) => Some(session.framebuffer()),
            _ => None,
        }
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.phase, Phase::Session(_))
    }

    #[cfg(test)]
    pub(crate) fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// What the server has sent so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// KeyEvent (X keysym). Ignored unless connected.
    pub fn key_event(&mut self, keysym: u32, down: bool) {
        if self.is_connected() {
            messages::key_event(&mut self.output, keysym, down);
        }
    }

    /// PointerEvent; the position is clamped to the framebuffer. Ignored
    /// unless connected.
    pub fn pointer_event(&mut self, x: u16, y: u16, buttons: u8) {
        if let Some(fb) = self.framebuffer() {
            let x = x.min(fb.width().saturating_sub(1));
            let y = y.min(fb.height().saturating_sub(1));
            messages::pointer_event(&mut self.output, x, y, buttons);
        }
    }

    /// ClientCutText, Latin-1; characters outside it become '?'. Ignored
    /// unless connected.
    pub fn client_cut_text(&mut self, text: &str) {
        if self.is_connected() {
            messages::client_cut_text(&mut self.output, text);
        }
    }

    /// FramebufferUpdateRequest for the whole framebuffer. Ignored unless
    /// connected.
    pub fn request_update(&mut self, incremental: bool) {
        if let Some(fb) = self.framebuffer() {
            let whole = Rect::new(0, 0, fb.width(), fb.height());
            messages::framebuffer_update_request(&mut self.output, incremental, whole);
        }
    }
}
