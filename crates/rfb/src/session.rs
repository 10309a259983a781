//! After ServerInit: server-to-client messages (RFC 6143 §7.6) and the
//! rectangles of each FramebufferUpdate.

use std::collections::VecDeque;

use flate2::Decompress;

use crate::client::Event;
use crate::config::{Encoding, Limits};
use crate::encodings::tight::{self, TightStreams, Used};
use crate::encodings::{copyrect, cursor, raw, zrle};
use crate::error::RfbError;
use crate::framebuffer::{Framebuffer, Rect};
use crate::handshake::check_desktop_size;
use crate::reader::{Reader, Step, Stop, bounded_bytes, latin1};

const RAW: i32 = 0;
const COPY_RECT: i32 = 1;
const TIGHT: i32 = 7;
const ZRLE: i32 = 16;
const CURSOR: i32 = -239;
const DESKTOP_SIZE: i32 = -223;
const LAST_RECT: i32 = -224;
const EXTENDED_DESKTOP_SIZE: i32 = -308;

/// Counters for tests, benchmarks and the session list: what the server
/// sent and how it was encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every byte given to [`crate::Client::receive`].
    pub bytes_received: u64,
    /// FramebufferUpdate messages completed.
    pub updates: u64,
    pub raw_rects: u64,
    pub copy_rects: u64,
    pub zrle_rects: u64,
    pub tight_fill_rects: u64,
    pub tight_jpeg_rects: u64,
    pub tight_basic_rects: u64,
    pub cursor_rects: u64,
    pub resizes: u64,
}

/// Where we are in the stream of server messages.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Between messages.
    Idle,
    /// Inside a FramebufferUpdate, before a rectangle header.
    Rects(Update),
    /// Inside a Raw rectangle; rows before `next_row` are applied.
    RawRows {
        rect: Rect,
        next_row: u16,
        update: Update,
    },
}

#[derive(Debug, Clone, Copy)]
struct Update {
    /// Rectangles still to come; `None` when the server said 0xFFFF with
    /// LastRect offered (§7.8: the update ends with a LastRect rectangle).
    left: Option<u16>,
    seen: u32,
}

pub(crate) struct Session {
    fb: Framebuffer,
    state: State,
    limits: Limits,
    offered: Vec<i32>,
    zrle: Decompress,
    tight: TightStreams,
}

impl Session {
    pub(crate) fn set_max_pixels(&mut self, max_pixels: u32) {
        self.limits.max_pixels = max_pixels;
    }

    pub(crate) fn new(width: u16, height: u16, limits: Limits, offered: &[Encoding]) -> Self {
        Session {
            fb: Framebuffer::new(width, height),
            state: State::Idle,
            limits,
            offered: offered.iter().map(|e| e.code()).collect(),
            zrle: Decompress::new(true),
            tight: TightStreams::new(),
        }
    }

    pub(crate) fn framebuffer(&self) -> &Framebuffer {
        &self.fb
    }

    /// Reads one protocol unit — a message header, a rectangle, or some
    /// rows of a Raw rectangle — and returns the bytes it used (never 0).
    pub(crate) fn step(
        &mut self,
        input: &[u8],
        events: &mut VecDeque<Event>,
        stats: &mut Stats,
    ) -> Step<usize> {
        let mut r = Reader::new(input);
        match self.state {
            State::Idle => self.message(&mut r, events, stats)?,
            State::Rects(update) => self.rect(&mut r, update, events, stats)?,
            State::RawRows {
                rect,
                next_row,
                update,
            } => {
                let row_len = raw::row_len(rect);
                let rows = (r.remaining() / row_len).min(usize::from(rect.height - next_row));
                if rows == 0 {
                    return Err(Stop::Incomplete);
                }
                let data = r.bytes(rows * row_len)?;
                raw::apply_rows(&mut self.fb, rect, next_row, data);
                // `rows` ≤ rect.height − next_row, so this fits in a u16.
                let next_row = next_row + rows as u16;
                if next_row < rect.height {
                    self.state = State::RawRows {
                        rect,
                        next_row,
                        update,
                    };
                } else {
                    stats.raw_rects += 1;
                    events.push_back(Event::Damage(rect));
                    self.rect_done(update, events, stats);
                }
            }
        }
        Ok(r.consumed())
    }

    fn message(
        &mut self,
        r: &mut Reader,
        events: &mut VecDeque<Event>,
        stats: &mut Stats,
    ) -> Step<()> {
        match r.u8()? {
            // FramebufferUpdate (§7.6.1).
            0 => {
                r.skip(1)?;
                let count = r.u16()?;
                let last_rect = count == u16::MAX && self.offered.contains(&LAST_RECT);
                if u32::from(count) > self.limits.max_rects_per_update && !last_rect {
                    return Err(RfbError::limit(
                        "a rectangle count",
                        count,
                        self.limits.max_rects_per_update,
                    )
                    .into());
                }
                let update = Update {
                    left: (!last_rect).then_some(count),
                    seen: 0,
                };
                if count == 0 {
                    stats.updates += 1;
                    events.push_back(Event::UpdateEnd);
                } else {
                    self.state = State::Rects(update);
                }
            }
            // SetColourMapEntries (§7.6.2): only for colour-map pixel formats,
            // which we never ask for; read and ignore.
            1 => {
                r.skip(1)?;
                let _first = r.u16()?;
                let count = r.u16()?;
                r.skip(usize::from(count) * 6)?;
            }
            // Bell (§7.6.3).
            2 => events.push_back(Event::Bell),
            // ServerCutText (§7.6.4): Latin-1.
            3 => {
                r.skip(3)?;
                let text = bounded_bytes(r, "a clipboard text length", self.limits.max_cut_text)?;
                events.push_back(Event::CutText(latin1(text)));
            }
            other => return Err(RfbError::UnknownMessage(other).into()),
        }
        Ok(())
    }

    /// One rectangle: its header and, except for Raw, all of its data.
    fn rect(
        &mut self,
        r: &mut Reader,
        update: Update,
        events: &mut VecDeque<Event>,
        stats: &mut Stats,
    ) -> Step<()> {
        let rect = Rect::new(r.u16()?, r.u16()?, r.u16()?, r.u16()?);
        let encoding = r.i32()?;
        if encoding != RAW && !self.offered.contains(&encoding) {
            return Err(RfbError::UnknownEncoding(encoding).into());
        }
        let update = Update {
            seen: update.seen + 1,
            ..update
        };
        if update.seen > self.limits.max_rects_per_update {
            return Err(RfbError::limit(
                "a rectangle count",
                update.seen,
                self.limits.max_rects_per_update,
            )
            .into());
        }
        let pseudo = matches!(
            encoding,
            CURSOR | DESKTOP_SIZE | LAST_RECT | EXTENDED_DESKTOP_SIZE
        );
        // INVARIANT: from here on every picture rectangle lies inside the
        // framebuffer; the decoders' writes rely on it.
        if !pseudo && !self.fb.contains(rect) {
            return Err(RfbError::RectOutsideFramebuffer {
                rect,
                width: self.fb.width(),
                height: self.fb.height(),
            }
            .into());
        }
        match encoding {
            RAW => {
                if !rect.is_empty() {
                    self.state = State::RawRows {
                        rect,
                        next_row: 0,
                        update,
                    };
                    return Ok(());
                }
                stats.raw_rects += 1;
            }
            COPY_RECT => {
                let (src_x, src_y) = copyrect::read(r, rect, &self.fb)?;
                self.fb.copy_within(src_x, src_y, rect);
                stats.copy_rects += 1;
                if !rect.is_empty() {
                    events.push_back(Event::Copy {
                        src_x,
                        src_y,
                        dst: rect,
                    });
                }
            }
            ZRLE => {
                let compressed = zrle::read(r, &self.limits)?;
                zrle::decode(&mut self.zrle, compressed, rect, &mut self.fb)?;
                stats.zrle_rects += 1;
                damage(events, rect);
            }
            TIGHT => {
                let tight = tight::read(r, rect, &self.limits)?;
                match tight::decode(&mut self.tight, tight, rect, &mut self.fb)? {
                    Used::Fill => stats.tight_fill_rects += 1,
                    Used::Jpeg => stats.tight_jpeg_rects += 1,
                    Used::Basic => stats.tight_basic_rects += 1,
                }
                damage(events, rect);
            }
            CURSOR => {
                let image = cursor::read(r, rect, &self.limits)?;
                stats.cursor_rects += 1;
                events.push_back(Event::Cursor {
                    hotspot_x: image.hotspot_x,
                    hotspot_y: image.hotspot_y,
                    width: image.width,
                    height: image.height,
                    rgba: image.rgba,
                });
            }
            DESKTOP_SIZE => self.resize(rect.width, rect.height, events, stats)?,
            EXTENDED_DESKTOP_SIZE => {
                // x is the reason, y the status: non-zero status answers a
                // SetDesktopSize we never send, and changes nothing.
                let screens = r.u8()?;
                r.skip(3 + usize::from(screens) * 16)?;
                if rect.y == 0 {
                    self.resize(rect.width, rect.height, events, stats)?;
                }
            }
            LAST_RECT => {
                self.state = State::Idle;
                stats.updates += 1;
                events.push_back(Event::UpdateEnd);
                return Ok(());
            }
            other => return Err(RfbError::UnknownEncoding(other).into()),
        }
        self.rect_done(update, events, stats);
        Ok(())
    }

    fn rect_done(&mut self, update: Update, events: &mut VecDeque<Event>, stats: &mut Stats) {
        let left = update.left.map(|n| n.saturating_sub(1));
        if left == Some(0) {
            self.state = State::Idle;
            stats.updates += 1;
            events.push_back(Event::UpdateEnd);
        } else {
            self.state = State::Rects(Update { left, ..update });
        }
    }

    /// DesktopSize (§7.8.2): a new, black framebuffer of the new size. The
    /// same size again changes nothing (servers repeat it on connect).
    fn resize(
        &mut self,
        width: u16,
        height: u16,
        events: &mut VecDeque<Event>,
        stats: &mut Stats,
    ) -> Step<()> {
        check_desktop_size(width, height, &self.limits)?;
        if (width, height) != (self.fb.width(), self.fb.height()) {
            self.fb = Framebuffer::new(width, height);
            stats.resizes += 1;
            events.push_back(Event::Resized { width, height });
        }
        Ok(())
    }
}

fn damage(events: &mut VecDeque<Event>, rect: Rect) {
    if !rect.is_empty() {
        events.push_back(Event::Damage(rect));
    }
}
