//! One RFB client connection (RFC 6143), sans-IO.

use crate::ServerError;
use crate::auth;
use crate::desktop::{Damage, Desktop};
use crate::pixel::PixelFormat;
use crate::region::{DirtyRegion, Rect};
use crate::zrle::ZrleEncoder;

/// Encoding numbers of RFC 6143 §7.7 and §7.8.
pub const ENCODING_RAW: i32 = 0;
pub const ENCODING_COPY_RECT: i32 = 1;
pub const ENCODING_ZRLE: i32 = 16;
pub const ENCODING_CURSOR: i32 = -239;
pub const ENCODING_DESKTOP_SIZE: i32 = -223;

/// Most encodings accepted in one SetEncodings; real viewers list about 20.
pub const MAX_ENCODINGS: u16 = 64;
/// Longest ClientCutText accepted, in bytes.
pub const MAX_CUT_TEXT_LEN: u32 = 64 * 1024;

const SERVER_VERSION: &[u8; 12] = b"RFB 003.008\n";
const SECURITY_NONE: u8 = 1;
const SECURITY_VNC_AUTH: u8 = 2;

/// What the server tells every client: its name and, when set, the VncAuth password.
#[derive(Clone)]
pub struct ServerConfig {
    /// The desktop name sent in ServerInit.
    pub name: String,
    /// `Some` requires VNC Authentication; only its first 8 bytes count (RFC 6143 §7.2.2).
    pub password: Option<String>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("name", &self.name)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V3_3,
    V3_7,
    V3_8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the client's 12-byte ProtocolVersion (§7.1.1).
    Version,
    /// Waiting for the client's chosen security type (3.7 and 3.8, §7.1.2).
    SecurityType,
    /// Waiting for the 16-byte VncAuth response (§7.2.2).
    VncAuthResponse,
    /// Waiting for ClientInit's shared-flag (§7.3.1).
    ClientInit,
    /// Client-to-server messages (§7.5).
    Normal,
    /// An error ended the connection; only leftover output remains.
    Failed,
}

/// What the client said it can decode (SetEncodings, §7.5.2). Raw is always allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientEncodings {
    pub copy_rect: bool,
    /// ZRLE listed before Raw: the client prefers it, so rectangles go out as ZRLE.
    pub zrle: bool,
    pub cursor: bool,
    /// Remembered only: the demo desktop never changes size.
    pub desktop_size: bool,
}

/// A pending CopyRect: pixels at `src` moved to `(dst_x, dst_y)`.
#[derive(Debug, Clone, Copy)]
struct PendingCopy {
    src: Rect,
    dst_x: u16,
    dst_y: u16,
}

/// One client connection. Feed it bytes with [`Connection::receive`] and send what
/// [`Connection::take_output`] returns.
#[derive(Debug)]
pub struct Connection {
    config: ServerConfig,
    challenge: [u8; 16],
    phase: Phase,
    version: Version,
    input: Vec<u8>,
    output: Vec<u8>,
    format: PixelFormat,
    encodings: ClientEncodings,
    zrle: Option<ZrleEncoder>,
    /// The client has a FramebufferUpdateRequest we have not answered (§7.5.3).
    update_requested: bool,
    /// INVARIANT: the client's picture equals the desktop as of `synced` (a `change_count`),
    /// except inside `dirty`, once `pending_copy` is applied first.
    synced: u64,
    dirty: DirtyRegion,
    /// Only set when no dirty rectangle touched its source, so it applies to the client's picture.
    pending_copy: Option<PendingCopy>,
    cursor_due: bool,
    /// The pointer as last reported: position and button mask.
    pointer: (u16, u16, u8),
}

impl Connection {
    /// A new connection; `challenge` must be fresh random bytes (used for VncAuth).
    pub fn new(config: ServerConfig, challenge: [u8; 16]) -> Self {
        Self {
            config,
            challenge,
            phase: Phase::Version,
            version: Version::V3_8,
            input: Vec::new(),
            // RFC 6143 §7.1.1: the server speaks first.
            output: SERVER_VERSION.to_vec(),
            format: PixelFormat::SERVER,
            encodings: ClientEncodings::default(),
            zrle: None,
            update_requested: false,
            synced: 0,
            dirty: DirtyRegion::default(),
            pending_copy: None,
            cursor_due: false,
            pointer: (0, 0, 0),
        }
    }

    /// Whether the handshake is done and normal messages flow.
    pub fn is_established(&self) -> bool {
        self.phase == Phase::Normal
    }

    /// The encodings the client announced in its last SetEncodings.
    pub fn client_encodings(&self) -> ClientEncodings {
        self.encodings
    }

    /// Handles bytes received from the client, applying its input to `desktop`. After an error
    /// the connection is over: send what [`Connection::take_output`] still returns, then close.
    pub fn receive(&mut self, data: &[u8], desktop: &mut Desktop) -> Result<(), ServerError> {
        if self.phase == Phase::Failed {
            return Err(ServerError::Closed);
        }
        // Taken out while parsing so `step` can borrow it next to `&mut self`. It only ever holds
        // the tail of one message, so it stays below the largest message (ClientCutText).
        let mut input = std::mem::take(&mut self.input);
        input.extend_from_slice(data);
        let mut consumed = 0;
        let result = loop {
            match self.step(&input[consumed..], desktop) {
                Ok(Some(used)) => consumed += used,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if result.is_err() {
            self.phase = Phase::Failed;
            return result;
        }
        input.drain(..consumed);
        self.input = input;
        result
    }

    /// Handles one complete message at the start of `buf`, returning its length, or `None` when
    /// `buf` does not yet hold a whole message.
    fn step(&mut self, buf: &[u8], desktop: &mut Desktop) -> Result<Option<usize>, ServerError> {
        match self.phase {
            Phase::Version => {
                let Some(reply) = buf.get(..12) else {
                    return Ok(None);
                };
                self.version = parse_version(reply)?;
                let offered = self.offered_security();
                if self.version == Version::V3_3 {
                    // RFC 6143 §7.1.2: with 3.3 the server decides, as a u32.
                    self.output
                        .extend_from_slice(&u32::from(offered).to_be_bytes());
                    self.after_security_choice();
                } else {
                    self.output.extend_from_slice(&[1, offered]);
                    self.phase = Phase::SecurityType;
                }
                Ok(Some(12))
            }
            Phase::SecurityType => {
                let Some(&chosen) = buf.first() else {
                    return Ok(None);
                };
                let offered = self.offered_security();
                if chosen != offered {
                    self.security_failure("security type not offered");
                    return Err(ServerError::SecurityTypeNotOffered { chosen, offered });
                }
                self.after_security_choice();
                Ok(Some(1))
            }
            Phase::VncAuthResponse => {
                let Some(response) = buf.get(..16) else {
                    return Ok(None);
                };
                let password = self.config.password.as_deref().unwrap_or_default();
                let expected = auth::expected_response(password, &self.challenge);
                if !auth::responses_match(&expected, response) {
                    self.security_failure("authentication failed");
                    return Err(ServerError::AuthenticationFailed);
                }
                // SecurityResult OK (§7.1.3).
                self.output.extend_from_slice(&0u32.to_be_bytes());
                self.phase = Phase::ClientInit;
                Ok(Some(16))
            }
            Phase::ClientInit => {
                // The shared-flag is ignored: the demo desktop is always shared.
                if buf.is_empty() {
                    return Ok(None);
                }
                self.send_server_init(desktop);
                Ok(Some(1))
            }
            Phase::Normal => self.client_message(buf, desktop),
            Phase::Failed => Err(ServerError::Closed),
        }
    }

    fn offered_security(&self) -> u8 {
        if self.config.password.is_some() {
            SECURITY_VNC_AUTH
        } else {
            SECURITY_NONE
        }
    }

    fn after_security_choice(&mut self) {
        if self.config.password.is_some() {
            self.output.extend_from_slice(&self.challenge);
            self.phase = Phase::VncAuthResponse;
        } else {
            // RFC 6143 §7.1.3: before 3.8 there is no SecurityResult for security type None.
            if self.version == Version::V3_8 {
                self.output.extend_from_slice(&0u32.to_be_bytes());
            }
            self.phase = Phase::ClientInit;
        }
    }

    /// SecurityResult "failed"; 3.8 adds a reason string (§7.1.3).
    fn security_failure(&mut self, reason: &str) {
        if self.phase == Phase::SecurityType && self.version != Version::V3_8 {
            // 3.7 has no way to refuse a choice; the connection just closes.
            return;
        }
        self.output.extend_from_slice(&1u32.to_be_bytes());
        if self.version == Version::V3_8 {
            self.output
                .extend_from_slice(&(reason.len() as u32).to_be_bytes());
            self.output.extend_from_slice(reason.as_bytes());
        }
    }

    fn send_server_init(&mut self, desktop: &Desktop) {
        // ServerInit (§7.3.2).
        self.output
            .extend_from_slice(&desktop.width().to_be_bytes());
        self.output
            .extend_from_slice(&desktop.height().to_be_bytes());
        self.output
            .extend_from_slice(&PixelFormat::SERVER.to_bytes());
        // The name comes from our own configuration, far below 4 GiB.
        let name = self.config.name.as_bytes();
        self.output
            .extend_from_slice(&(name.len() as u32).to_be_bytes());
        self.output.extend_from_slice(name);
        self.phase = Phase::Normal;
        // The client has no picture yet: everything is dirty.
        self.synced = desktop.change_count();
        self.dirty.add(desktop.screen());
    }

    /// One client-to-server message (§7.5).
    fn client_message(
        &mut self,
        buf: &[u8],
        desktop: &mut Desktop,
    ) -> Result<Option<usize>, ServerError> {
        let Some(&kind) = buf.first() else {
            return Ok(None);
        };
        let u16_at = |i: usize| u16::from_be_bytes([buf[i], buf[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        // Each arm checks `buf.len()` before reading, so the indexing below is in bounds.
        match kind {
            // SetPixelFormat (§7.5.1): 3 padding bytes, then PIXEL_FORMAT.
            0 => {
                let Some(format) = buf.get(4..20) else {
                    return Ok(None);
                };
                let mut bytes = [0u8; 16];
                bytes.copy_from_slice(format);
                self.format = PixelFormat::parse(&bytes)?;
                Ok(Some(20))
            }
            // SetEncodings (§7.5.2).
            2 => {
                if buf.len() < 4 {
                    return Ok(None);
                }
                let count = u16_at(2);
                if count > MAX_ENCODINGS {
                    return Err(ServerError::TooManyEncodings { count });
                }
                let len = 4 + 4 * usize::from(count);
                if buf.len() < len {
                    return Ok(None);
                }
                let listed: Vec<i32> = buf[4..len]
                    .chunks_exact(4)
                    .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                let position = |e: i32| listed.iter().position(|&l| l == e);
                self.encodings = ClientEncodings {
                    copy_rect: position(ENCODING_COPY_RECT).is_some(),
                    zrle: match (position(ENCODING_ZRLE), position(ENCODING_RAW)) {
                        (Some(z), Some(r)) => z < r,
                        (Some(_), None) => true,
                        (None, _) => false,
                    },
                    cursor: position(ENCODING_CURSOR).is_some(),
                    desktop_size: position(ENCODING_DESKTOP_SIZE).is_some(),
                };
                if self.encodings.zrle && self.zrle.is_none() {
                    self.zrle = Some(ZrleEncoder::new());
                }
                // A client that (re)announces cursor support gets the shape (again).
                self.cursor_due = self.encodings.cursor;
                Ok(Some(len))
            }
            // FramebufferUpdateRequest (§7.5.3).
            3 => {
                if buf.len() < 10 {
                    return Ok(None);
                }
                let incremental = buf[1] != 0;
                let area = Rect::new(u16_at(2), u16_at(4), u16_at(6), u16_at(8));
                if !incremental {
                    self.dirty.add(area.intersect(&desktop.screen()));
                }
                self.update_requested = true;
                Ok(Some(10))
            }
            // KeyEvent (§7.5.4): down-flag, 2 padding bytes, keysym.
            4 => {
                if buf.len() < 8 {
                    return Ok(None);
                }
                if buf[1] != 0 {
                    desktop.press_key(u32_at(4));
                }
                Ok(Some(8))
            }
            // PointerEvent (§7.5.5): button-mask, x, y. Button 1 (bit 0) paints.
            5 => {
                if buf.len() < 6 {
                    return Ok(None);
                }
                let (mask, x, y) = (buf[1], u16_at(2), u16_at(4));
                let (last_x, last_y, last_mask) = self.pointer;
                if mask & 1 != 0 {
                    let from = if last_mask & 1 != 0 {
                        (last_x, last_y)
                    } else {
                        (x, y)
                    };
                    desktop.paint_line(from, (x, y));
                }
                self.pointer = (x, y, mask);
                Ok(Some(6))
            }
            // ClientCutText (§7.5.6): 3 padding bytes, length, Latin-1 text.
            6 => {
                if buf.len() < 8 {
                    return Ok(None);
                }
                // Refused before the text arrives, so a huge length never buffers anything.
                let length = u32_at(4);
                if length > MAX_CUT_TEXT_LEN {
                    return Err(ServerError::CutTextTooLong { length });
                }
                let len = 8 + length as usize;
                let Some(text) = buf.get(8..len) else {
                    return Ok(None);
                };
                desktop.paste(text);
                Ok(Some(len))
            }
            other => Err(ServerError::UnknownMessageType(other)),
        }
    }

    /// The bytes to send now: handshake replies and, when the client has an outstanding
    /// FramebufferUpdateRequest and something to show, one FramebufferUpdate (§7.6.1).
    pub fn take_output(&mut self, desktop: &Desktop) -> Vec<u8> {
        if self.phase == Phase::Normal && self.update_requested {
            self.fold_damage(desktop);
            if !self.dirty.is_empty() || self.pending_copy.is_some() || self.cursor_due {
                self.send_update(desktop);
            }
        }
        std::mem::take(&mut self.output)
    }

    /// Brings `dirty` and `pending_copy` up to the desktop's current picture.
    fn fold_damage(&mut self, desktop: &Desktop) {
        match desktop.damage_since(self.synced) {
            Some(entries) => {
                for damage in entries {
                    match *damage {
                        Damage::Paint(rect) => self.dirty.add(rect),
                        Damage::Copy { src, dst_x, dst_y } => {
                            // Usable only while the client's picture of `src` is current; the
                            // update then sends the copy before any dirty rectangle.
                            let dst = Rect::new(dst_x, dst_y, src.width, src.height);
                            let src_current = self
                                .dirty
                                .rects()
                                .iter()
                                .all(|r| r.intersect(&src).is_empty());
                            if src_current && self.pending_copy.is_none() {
                                self.pending_copy = Some(PendingCopy { src, dst_x, dst_y });
                            } else {
                                self.dirty.add(dst);
                            }
                        }
                    }
                }
            }
            // The log no longer reaches back to our last sync: resend everything.
            None => {
                self.pending_copy = None;
                self.dirty.clear();
                self.dirty.add(desktop.screen());
            }
        }
        self.synced = desktop.change_count();
    }

    fn send_update(&mut self, desktop: &Desktop) {
        let screen = desktop.screen();
        // A client without CopyRect gets the copy's destination as ordinary pixels.
        let mut copy = self.pending_copy.take();
        if let Some(c) = copy.take_if(|_| !self.encodings.copy_rect) {
            self.dirty
                .add(Rect::new(c.dst_x, c.dst_y, c.src.width, c.src.height));
        }
        let cursor = self.cursor_due && self.encodings.cursor;
        self.cursor_due = false;
        let rects: Vec<Rect> = self
            .dirty
            .rects()
            .iter()
            .map(|r| r.intersect(&screen))
            .filter(|r| !r.is_empty())
            .collect();
        self.dirty.clear();
        let count = rects.len() + usize::from(copy.is_some()) + usize::from(cursor);
        if count == 0 {
            return;
        }
        self.update_requested = false;

        let out = &mut self.output;
        // FramebufferUpdate: type 0, padding, number of rectangles. At most 64 dirty rectangles
        // plus a copy and a cursor, so the count fits in u16.
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(count as u16).to_be_bytes());
        let header = |out: &mut Vec<u8>, r: Rect, encoding: i32| {
            for v in [r.x, r.y, r.width, r.height] {
                out.extend_from_slice(&v.to_be_bytes());
            }
            out.extend_from_slice(&encoding.to_be_bytes());
        };
        if cursor {
            // Cursor pseudo-encoding (§7.8.1): x, y = hotspot; pixels, then a bitmask.
            header(
                out,
                Rect::new(0, 0, CURSOR_WIDTH, CURSOR_HEIGHT),
                ENCODING_CURSOR,
            );
            for row in CURSOR {
                for b in row.bytes() {
                    let colour = if b == b'O' { [0xff; 3] } else { [0; 3] };
                    self.format.push_pixel(colour, out);
                }
            }
            for row in CURSOR {
                let mut mask = [0u8; CURSOR_WIDTH.div_ceil(8) as usize];
                for (i, b) in row.bytes().enumerate() {
                    if b != b'.' {
                        mask[i / 8] |= 0x80 >> (i % 8);
                    }
                }
                out.extend_from_slice(&mask);
            }
        }
        if let Some(c) = copy {
            // CopyRect (§7.7.2) first: it applies to the picture the client already has.
            header(
                out,
                Rect::new(c.dst_x, c.dst_y, c.src.width, c.src.height),
                ENCODING_COPY_RECT,
            );
            out.extend_from_slice(&c.src.x.to_be_bytes());
            out.extend_from_slice(&c.src.y.to_be_bytes());
        }
        for rect in rects {
            if let Some(zrle) = self.zrle.as_mut().filter(|_| self.encodings.zrle) {
                let mut data = Vec::new();
                if zrle.encode(desktop, rect, self.format, &mut data).is_ok() {
                    header(out, rect, ENCODING_ZRLE);
                    out.extend_from_slice(&data);
                    continue;
                }
                // The zlib stream is now out of step with the client's: Raw from here on.
                self.zrle = None;
                self.encodings.zrle = false;
            }
            // Raw (§7.7.1): pixels left to right, top to bottom.
            header(out, rect, ENCODING_RAW);
            out.reserve(rect.area() as usize * self.format.bytes_per_pixel());
            for y in rect.y..rect.y + rect.height {
                self.format.push_rgba_row(desktop.row(rect, y), out);
            }
        }
    }
}

/// ProtocolVersion (§7.1.1): `RFB xxx.yyy\n`. RFC 6143 asks servers to treat 3.4–3.6 (which
/// some viewers send) as 3.3.
fn parse_version(reply: &[u8]) -> Result<Version, ServerError> {
    let bad = || ServerError::UnsupportedVersion(String::from_utf8_lossy(reply).into_owned());
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = reply.get(range)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if !reply.starts_with(b"RFB ") || reply.get(7) != Some(&b'.') || reply.get(11) != Some(&b'\n') {
        return Err(bad());
    }
    match (digits(4..7), digits(8..11)) {
        (Some(3), Some(8)) => Ok(Version::V3_8),
        (Some(3), Some(7)) => Ok(Version::V3_7),
        (Some(3), Some(3..=6)) => Ok(Version::V3_3),
        _ => Err(bad()),
    }
}

/// The cursor shape sent with the Cursor pseudo-encoding: `X` black, `O` white, `.` transparent;
/// the hotspot is the arrow's tip at (0, 0).
const CURSOR: [&str; 17] = [
    "X..........",
    "XX.........",
    "XOX........",
    "XOOX.......",
    "XOOOX......",
    "XOOOOX.....",
    "XOOOOOX....",
    "XOOOOOOX...",
    "XOOOOOOOX..",
    "XOOOOOOOOX.",
    "XOOOOOXXXXX",
    "XOOXOOX....",
    "XOX.XOOX...",
    "XX..XOOX...",
    "X....XOOX..",
    ".....XOOX..",
    "......XX...",
];
const CURSOR_WIDTH: u16 = 11;
const CURSOR_HEIGHT: u16 = CURSOR.len() as u16;

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
