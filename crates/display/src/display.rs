//! The browser's view of a remote screen: turns screen changes into Guacamole drawing
//! instructions, and paces frames by the browser's `sync` replies (flow control).
//!
//! Protocol adapters (VNC today, RDP next) report changes as [`Screen`] calls; this module does
//! not know which protocol is behind them.

use std::collections::VecDeque;

use hoshu_guac::{CompositeMode, Layer, Rgba, ServerInstruction, StreamIndex, write_image};

use crate::image;
use crate::region::{DirtyRegion, Rect};

/// What the display needs from a protocol's framebuffer.
pub trait Screen {
    fn width(&self) -> u32;
    fn height(&self) -> u32;
    /// RGBA8 pixels of `rect` (already clipped to the screen), row by row.
    fn region_rgba(&self, rect: Rect) -> Vec<u8>;
}

/// Frames sent whose `sync` the browser has not answered yet, at most. Two keep the pipe busy
/// (one rendering, one in flight); more would only queue on a slow link.
const MAX_UNACKED_FRAMES: usize = 2;
/// Largest image tile; see [`Rect::tiles`].
const TILE: u32 = 256;
/// Stream indices are reused in a ring; an index is free again once its `end` was sent.
const STREAMS: u32 = 1024;
/// The off-screen buffer the cursor image is drawn into before `cursor` (notes).
const CURSOR_LAYER: Layer = Layer(-1);

/// The cursor shape last set, kept so a full picture can include it.
#[derive(Debug)]
struct CursorShape {
    hotspot_x: u32,
    hotspot_y: u32,
    width: u32,
    height: u32,
    png: Vec<u8>,
}

impl CursorShape {
    /// `size` of the cursor buffer, the image into it, then `cursor`.
    fn write(&self, stream: StreamIndex, out: &mut String) {
        ServerInstruction::Size {
            layer: CURSOR_LAYER,
            width: self.width,
            height: self.height,
        }
        .encode_into(out);
        // SRC clears the layer outside the image: right here, since the image covers it all.
        write_image(
            out,
            stream,
            CompositeMode::Src,
            CURSOR_LAYER,
            "image/png",
            0,
            0,
            &self.png,
        );
        ServerInstruction::Cursor {
            hotspot_x: self.hotspot_x as i32,
            hotspot_y: self.hotspot_y as i32,
            src: CURSOR_LAYER,
            src_x: 0,
            src_y: 0,
            width: self.width,
            height: self.height,
        }
        .encode_into(out);
    }
}

#[derive(Debug, Default)]
pub struct Display {
    width: u32,
    height: u32,
    dirty: DirtyRegion,
    /// Instructions for the next frame that must come before its images (size, copy, cursor).
    ops: String,
    /// Destinations of the `copy` instructions waiting in `ops` (see [`Display::snapshot`]).
    copied: DirtyRegion,
    cursor: Option<CursorShape>,
    unacked: VecDeque<u64>,
    next_stream: u32,
}

impl Display {
    pub fn new() -> Display {
        Display::default()
    }

    fn stream(&mut self) -> StreamIndex {
        next_stream(&mut self.next_stream)
    }

    /// The remote screen has this size now (first connect or resize): everything is redrawn.
    pub fn resize(&mut self, width: u32, height: u32) {
        self.width = width;
        self.height = height;
        ServerInstruction::Size {
            layer: Layer(0),
            width,
            height,
        }
        .encode_into(&mut self.ops);
        self.dirty.take();
        self.dirty.add(Rect::new(0, 0, width, height));
    }

    pub fn damage(&mut self, rect: Rect) {
        self.dirty.add(rect.clip(self.width, self.height));
    }

    /// The target moved pixels from (`src_x`, `src_y`) to `dst` (RFB CopyRect).
    ///
    /// INVARIANT: the browser's picture equals the screen outside the dirty region. A `copy`
    /// is sent only when its source is outside the dirty region (so the browser holds the right
    /// pixels) and the browser is keeping up; otherwise the destination just becomes dirty.
    pub fn copy(&mut self, src_x: u32, src_y: u32, dst: Rect) {
        let dst = dst.clip(self.width, self.height);
        let src = Rect::new(src_x, src_y, dst.width, dst.height);
        if dst.is_empty() {
            return;
        }
        if !self.ready() || self.dirty.intersects(src) || src.clip(self.width, self.height) != src {
            self.dirty.add(dst);
            return;
        }
        ServerInstruction::Copy {
            src: Layer(0),
            src_x: src.x as i32,
            src_y: src.y as i32,
            width: dst.width,
            height: dst.height,
            mode: CompositeMode::Over,
            dst: Layer(0),
            dst_x: dst.x as i32,
            dst_y: dst.y as i32,
        }
        .encode_into(&mut self.ops);
        self.copied.add(dst);
    }

    /// A new cursor shape (RGBA with alpha).
    pub fn cursor(&mut self, hotspot_x: u32, hotspot_y: u32, width: u32, height: u32, rgba: &[u8]) {
        if width == 0 || height == 0 {
            return;
        }
        let Ok(png) = image::encode_png_rgba(rgba, width, height) else {
            return;
        };
        let shape = CursorShape {
            hotspot_x,
            hotspot_y,
            width,
            height,
            png,
        };
        let stream = self.stream();
        shape.write(stream, &mut self.ops);
        self.cursor = Some(shape);
    }

    /// Whether the browser keeps up well enough to take another frame.
    pub fn ready(&self) -> bool {
        self.unacked.len() < MAX_UNACKED_FRAMES
    }

    /// Pixels the next frame would draw (what [`Display::render`] costs).
    pub fn pending_area(&self) -> u64 {
        self.dirty.area()
    }

    /// Pixels of the whole screen (what [`Display::snapshot`] costs).
    pub fn area(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    pub fn has_pending(&self) -> bool {
        !self.dirty.is_empty() || !self.ops.is_empty()
    }

    /// The browser rendered every frame up to the one ending with `sync` `timestamp_ms`.
    pub fn acknowledge(&mut self, timestamp_ms: u64) {
        while self.unacked.front().is_some_and(|&t| t <= timestamp_ms) {
            self.unacked.pop_front();
        }
    }

    /// Appends one frame (pending operations, then the dirty region's images, then `sync`) to
    /// `out`, if there is anything to send and the browser is ready. Returns whether it did.
    pub fn render(&mut self, screen: &dyn Screen, timestamp_ms: u64, out: &mut String) -> bool {
        if !self.ready() || !self.has_pending() {
            return false;
        }
        out.push_str(&std::mem::take(&mut self.ops));
        self.copied.take();
        let rects = self.dirty.take();
        draw_tiles(
            screen,
            self.width,
            self.height,
            &rects,
            &mut self.next_stream,
            out,
        );
        // Timestamps must increase for the browser's replies and the recording's timing.
        let timestamp_ms = self
            .unacked
            .back()
            .map_or(timestamp_ms, |&t| timestamp_ms.max(t + 1));
        ServerInstruction::Sync { timestamp_ms }.encode_into(out);
        self.unacked.push_back(timestamp_ms);
        true
    }

    /// The `sync` timestamp of the last frame [`Display::render`] wrote.
    pub fn last_frame_sync(&self) -> Option<u64> {
        self.unacked.back().copied()
    }

    /// Appends a complete picture of `screen` (layer size, cursor, every pixel, then `sync`
    /// `timestamp_ms`) for a client that starts from nothing in the middle of the stream: a
    /// watcher joining a live session, a recording keyframe. Returns false, writing nothing,
    /// before the screen has a size.
    ///
    /// The main browser's flow control (frames waiting for its `sync`) is not touched, and the
    /// picture's images use their own stream indices. One thing does change: copies still
    /// waiting to be sent become damage as well. The picture already shows their result, so
    /// a client starting from it would move pixels a second time; with their destinations
    /// dirty, the next frame redraws whatever such a copy spoils, before its `sync`.
    ///
    /// INVARIANT (relied on by watchers): the picture followed by every later frame leaves a
    /// client with the same screen as the main browser.
    pub fn snapshot(&mut self, screen: &dyn Screen, timestamp_ms: u64, out: &mut String) -> bool {
        if self.width == 0 || self.height == 0 {
            return false;
        }
        for rect in self.copied.take() {
            self.dirty.add(rect);
        }
        ServerInstruction::Size {
            layer: Layer(0),
            width: self.width,
            height: self.height,
        }
        .encode_into(out);
        let mut streams = 0;
        if let Some(cursor) = &self.cursor {
            cursor.write(next_stream(&mut streams), out);
        }
        let whole = [Rect::new(0, 0, self.width, self.height)];
        draw_tiles(screen, self.width, self.height, &whole, &mut streams, out);
        ServerInstruction::Sync { timestamp_ms }.encode_into(out);
        true
    }
}

/// The next index of a ring of image streams.
fn next_stream(counter: &mut u32) -> StreamIndex {
    *counter = *counter % STREAMS + 1;
    StreamIndex(*counter)
}

/// Draws `rects` of `screen` (clipped to the display's `width` × `height`) on layer 0 as tiles:
/// single-colour tiles as fills, the rest as images.
fn draw_tiles(
    screen: &dyn Screen,
    width: u32,
    height: u32,
    rects: &[Rect],
    streams: &mut u32,
    out: &mut String,
) {
    let (width, height) = (screen.width().min(width), screen.height().min(height));
    for rect in rects {
        for tile in rect.clip(width, height).tiles(TILE) {
            if tile.is_empty() {
                continue;
            }
            let rgba = screen.region_rgba(tile);
            // A single-colour tile (backgrounds, cleared areas) is a rectangle fill: a few
            // dozen bytes instead of an image the browser must decode.
            if let Some([r, g, b]) = image::solid_colour(&rgba) {
                ServerInstruction::Rect {
                    layer: Layer(0),
                    x: tile.x as i32,
                    y: tile.y as i32,
                    width: tile.width,
                    height: tile.height,
                }
                .encode_into(out);
                ServerInstruction::Cfill {
                    mode: CompositeMode::Over,
                    layer: Layer(0),
                    color: Rgba { r, g, b, a: 255 },
                }
                .encode_into(out);
                continue;
            }
            let Ok(encoded) = image::encode(&rgba, tile.width, tile.height) else {
                continue;
            };
            write_image(
                out,
                next_stream(streams),
                CompositeMode::Over,
                Layer(0),
                encoded.mimetype,
                tile.x as i32,
                tile.y as i32,
                &encoded.bytes,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Solid(u32, u32);

    impl Screen for Solid {
        fn width(&self) -> u32 {
            self.0
        }
        fn height(&self) -> u32 {
            self.1
        }
        fn region_rgba(&self, rect: Rect) -> Vec<u8> {
            vec![255; (rect.width * rect.height * 4) as usize]
        }
    }

    #[test]
    fn a_first_frame_sizes_the_display_and_draws_everything() {
        let screen = Solid(300, 200);
        let mut display = Display::new();
        display.resize(300, 200);
        let mut out = String::new();
        assert!(display.render(&screen, 1000, &mut out));
        assert!(out.starts_with("4.size,1.0,3.300,3.200;"));
        assert_eq!(out.matches("4.rect,").count(), 2, "two tiles across");
        assert_eq!(
            out.matches("5.cfill,2.14,1.0,3.255,3.255,3.255,3.255;")
                .count(),
            2,
            "{out}"
        );
        assert_eq!(
            out.matches("3.img,").count(),
            0,
            "solid tiles are fills, not images"
        );
        assert!(out.ends_with("4.sync,4.1000;"));
        assert!(!display.has_pending());
    }

    #[test]
    fn frames_wait_for_the_browser_and_changes_coalesce_meanwhile() {
        let screen = Solid(100, 100);
        let mut display = Display::new();
        display.resize(100, 100);
        let mut out = String::new();
        assert!(display.render(&screen, 1, &mut out));
        display.damage(Rect::new(0, 0, 10, 10));
        assert!(display.render(&screen, 2, &mut out));
        // Two frames unanswered: the third waits, and everything that changes meanwhile joins it.
        for i in 0..50 {
            display.damage(Rect::new(i, i, 10, 10));
        }
        display.copy(0, 0, Rect::new(50, 50, 10, 10));
        let mut held = String::new();
        assert!(!display.render(&screen, 3, &mut held));
        assert!(held.is_empty());
        display.acknowledge(1);
        assert!(display.render(&screen, 4, &mut held));
        assert!(
            !held.contains("4.copy"),
            "a copy while behind becomes damage"
        );
        assert!(
            held.matches("4.rect,").count() <= 2,
            "coalesced into few tiles: {held}"
        );
    }

    #[test]
    fn copies_are_sent_only_from_clean_sources() {
        let screen = Solid(100, 100);
        let mut display = Display::new();
        display.resize(100, 100);
        let mut out = String::new();
        display.render(&screen, 1, &mut out);
        display.acknowledge(1);
        display.copy(0, 0, Rect::new(20, 20, 10, 10));
        display.damage(Rect::new(60, 60, 5, 5));
        display.copy(60, 60, Rect::new(0, 80, 5, 5));
        let mut frame = String::new();
        assert!(display.render(&screen, 2, &mut frame));
        assert_eq!(frame.matches("4.copy").count(), 1, "{frame}");
        assert!(
            frame.find("4.copy") < frame.find("4.rect"),
            "copies come before drawing"
        );
    }

    #[test]
    fn a_snapshot_draws_everything_and_leaves_flow_control_alone() {
        let screen = Solid(300, 200);
        let mut display = Display::new();
        let mut picture = String::new();
        assert!(!display.snapshot(&screen, 1, &mut picture), "no size yet");
        display.resize(300, 200);
        display.cursor(1, 2, 2, 2, &[255; 16]);
        let mut out = String::new();
        assert!(display.render(&screen, 1, &mut out));
        display.damage(Rect::new(0, 0, 10, 10));
        assert!(display.render(&screen, 2, &mut out));
        display.damage(Rect::new(5, 5, 10, 10));
        assert!(!display.ready());
        assert!(display.snapshot(&screen, 3, &mut picture));
        assert!(picture.starts_with("4.size,1.0,3.300,3.200;"), "{picture}");
        assert!(picture.contains("6.cursor,1.1,1.2,2.-1,"), "{picture}");
        assert_eq!(
            picture.matches("4.rect,").count(),
            2,
            "every tile: {picture}"
        );
        assert!(picture.ends_with("4.sync,1.3;"));
        // The main browser still waits for the same two frames, and the damage is still due.
        assert!(!display.ready());
        assert!(display.has_pending());
        display.acknowledge(2);
        let mut next = String::new();
        assert!(display.render(&screen, 4, &mut next));
        assert!(next.contains("4.rect,1.0,1.5,1.5,"), "{next}");
    }

    #[test]
    fn copies_waiting_when_a_snapshot_is_taken_are_also_redrawn() {
        let screen = Solid(100, 100);
        let mut display = Display::new();
        display.resize(100, 100);
        let mut out = String::new();
        display.render(&screen, 1, &mut out);
        display.acknowledge(1);
        display.copy(0, 0, Rect::new(40, 40, 10, 10));
        let mut picture = String::new();
        assert!(display.snapshot(&screen, 2, &mut picture));
        assert!(!picture.contains("4.copy"), "{picture}");
        let mut frame = String::new();
        assert!(display.render(&screen, 3, &mut frame));
        // The main browser gets the copy as before; a client that started from the picture
        // gets the copy's destination redrawn after it, in the same frame.
        let copy = frame.find("4.copy").expect("the copy is still sent");
        let redraw = frame
            .find("4.rect,1.0,2.40,2.40,2.10,2.10;")
            .expect("the destination is redrawn");
        assert!(copy < redraw, "{frame}");
    }
}
