//! The browser's view of a remote screen: turns screen changes into Guacamole drawing
//! instructions, and paces frames by the browser's `sync` replies (flow control).
//!
//! Protocol adapters (VNC today, RDP next) report changes as [`Screen`] calls; this module does
//! not know which protocol is behind them.

use std::collections::VecDeque;

use hoshu_guac::{CompositeMode, Layer, Rgba, ServerInstruction, StreamIndex, write_image};

use super::image;
use super::region::{DirtyRegion, Rect};

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

#[derive(Debug, Default)]
pub struct Display {
    width: u32,
    height: u32,
    dirty: DirtyRegion,
    /// Instructions for the next frame that must come before its images (size, copy, cursor).
    ops: String,
    unacked: VecDeque<u64>,
    next_stream: u32,
}

impl Display {
    pub fn new() -> Display {
        Display::default()
    }

    fn stream(&mut self) -> StreamIndex {
        self.next_stream = self.next_stream % STREAMS + 1;
        StreamIndex(self.next_stream)
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
    }

    /// A new cursor shape (RGBA with alpha).
    pub fn cursor(&mut self, hotspot_x: u32, hotspot_y: u32, width: u32, height: u32, rgba: &[u8]) {
        if width == 0 || height == 0 {
            return;
        }
        let Ok(png) = image::encode_png_rgba(rgba, width, height) else {
            return;
        };
        ServerInstruction::Size {
            layer: CURSOR_LAYER,
            width,
            height,
        }
        .encode_into(&mut self.ops);
        let stream = self.stream();
        // SRC clears the layer outside the image: right here, since the image covers it all.
        write_image(
            &mut self.ops,
            stream,
            CompositeMode::Src,
            CURSOR_LAYER,
            "image/png",
            0,
            0,
            &png,
        );
        ServerInstruction::Cursor {
            hotspot_x: hotspot_x as i32,
            hotspot_y: hotspot_y as i32,
            src: CURSOR_LAYER,
            src_x: 0,
            src_y: 0,
            width,
            height,
        }
        .encode_into(&mut self.ops);
    }

    /// Whether the browser keeps up well enough to take another frame.
    pub fn ready(&self) -> bool {
        self.unacked.len() < MAX_UNACKED_FRAMES
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
        let (width, height) = (
            screen.width().min(self.width),
            screen.height().min(self.height),
        );
        for rect in self.dirty.take() {
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
                let stream = self.stream();
                write_image(
                    out,
                    stream,
                    CompositeMode::Over,
                    Layer(0),
                    encoded.mimetype,
                    tile.x as i32,
                    tile.y as i32,
                    &encoded.bytes,
                );
            }
        }
        // Timestamps must increase for the browser's replies and the recording's timing.
        let timestamp_ms = self
            .unacked
            .back()
            .map_or(timestamp_ms, |&t| timestamp_ms.max(t + 1));
        ServerInstruction::Sync { timestamp_ms }.encode_into(out);
        self.unacked.push_back(timestamp_ms);
        true
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
}
