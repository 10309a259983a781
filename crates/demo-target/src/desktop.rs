//! The shared demo picture: a title bar, four solid panels, a text area that echoes typing and
//! a drawing area that paints under the pressed left button.
//!
//! Every change is appended to a bounded damage log with a sequence number; each connection keeps
//! the sequence number it has folded in and pulls newer entries when it is about to send. See
//! [`Desktop::change_count`] and the crate documentation.

use std::collections::VecDeque;

use crate::font;
use crate::region::Rect;

/// The framebuffer size announced in ServerInit.
pub const SCREEN_WIDTH: u16 = 1024;
pub const SCREEN_HEIGHT: u16 = 768;

/// Everything not covered by another element.
pub const BACKGROUND: [u8; 3] = [0x2b, 0x30, 0x3b];
/// The title bar across the top, holding [`TITLE`] in [`TITLE_INK`].
pub const TITLE_BAR: Rect = Rect::new(0, 0, SCREEN_WIDTH, 32);
pub const TITLE_BAR_COLOUR: [u8; 3] = [0x1d, 0x4e, 0x89];
pub const TITLE: &str = "Hoshu demo target";
pub const TITLE_INK: [u8; 3] = [0xff, 0xff, 0xff];

/// Four solid panels under the title bar; nothing ever draws over them, so a browser test can
/// compare canvas pixels anywhere inside each rectangle against its colour.
pub const PANEL_COLOURS: [(Rect, [u8; 3]); 4] = [
    (Rect::new(16, 48, 236, 80), [0xd9, 0x3b, 0x3b]), // red
    (Rect::new(268, 48, 236, 80), [0x3b, 0xa5, 0x5c]), // green
    (Rect::new(520, 48, 236, 80), [0x3b, 0x6e, 0xd9]), // blue
    (Rect::new(772, 48, 236, 80), [0xe8, 0xc1, 0x3a]), // yellow
];

/// Small captions above the two areas.
pub const LABEL_INK: [u8; 3] = [0xd0, 0xd4, 0xdc];
const TEXT_LABEL: &str = "Type here: keys and pasted text appear below";
const DRAW_LABEL: &str = "Draw here: press or drag the left button";
const LABEL_Y: u16 = 140;

/// Typed and pasted text appears here, black on off-white, [`TEXT_SCALE`]× the 6×10 font.
pub const TEXT_AREA: Rect = Rect::new(16, 156, 488, 596);
pub const TEXT_AREA_BACKGROUND: [u8; 3] = [0xfa, 0xfa, 0xf5];
pub const TEXT_INK: [u8; 3] = [0x10, 0x10, 0x10];
pub const TEXT_SCALE: u16 = 2;
const TEXT_PADDING: u16 = 8;
const TEXT_CELL_WIDTH: u16 = font::CELL_WIDTH * TEXT_SCALE;
const TEXT_CELL_HEIGHT: u16 = font::CELL_HEIGHT * TEXT_SCALE;
/// Characters per line before the text wraps.
pub const TEXT_COLUMNS: usize = ((TEXT_AREA.width - 2 * TEXT_PADDING) / TEXT_CELL_WIDTH) as usize;
/// Lines shown; one more scrolls the oldest line off the top.
pub const TEXT_ROWS: usize = ((TEXT_AREA.height - 2 * TEXT_PADDING) / TEXT_CELL_HEIGHT) as usize;
/// The region holding character cells (inside the padding).
const TEXT_CELLS: Rect = Rect::new(
    TEXT_AREA.x + TEXT_PADDING,
    TEXT_AREA.y + TEXT_PADDING,
    TEXT_COLUMNS as u16 * TEXT_CELL_WIDTH,
    TEXT_ROWS as u16 * TEXT_CELL_HEIGHT,
);

/// The left button paints [`DRAW_INK`] here with a square brush of side [`BRUSH_SIZE`].
pub const DRAW_AREA: Rect = Rect::new(520, 156, 488, 596);
pub const DRAW_AREA_BACKGROUND: [u8; 3] = [0xff, 0xff, 0xff];
pub const DRAW_INK: [u8; 3] = [0xc0, 0x10, 0x70];
pub const BRUSH_SIZE: u16 = 5;

/// X11 keysyms the desktop reacts to, besides printable ASCII (which equals its keysym).
pub const KEYSYM_RETURN: u32 = 0xff0d;
pub const KEYSYM_KP_ENTER: u32 = 0xff8d;
pub const KEYSYM_BACKSPACE: u32 = 0xff08;

/// Damage entries kept; a connection that falls further behind resends the whole screen.
const DAMAGE_LOG_LEN: usize = 256;

/// One change to the picture, in the order it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Damage {
    /// These pixels changed.
    Paint(Rect),
    /// The pixels of `src` moved to `(dst_x, dst_y)` (a text scroll), RFC 6143 §7.7.2.
    Copy { src: Rect, dst_x: u16, dst_y: u16 },
}

/// One edit of the text area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextInput {
    Char(u8),
    NewLine,
    BackSpace,
}

/// The picture every connection shows. Held by the driver (behind a mutex when several
/// connections share it) and passed to [`crate::Connection`] calls.
#[derive(Debug)]
pub struct Desktop {
    /// RGBA8, row-major, `SCREEN_WIDTH * SCREEN_HEIGHT * 4` bytes; alpha is always 255.
    rgba: Vec<u8>,
    /// INVARIANT: holds 1 to `TEXT_ROWS` lines, each at most `TEXT_COLUMNS` printable bytes;
    /// the caret is at the end of the last line.
    lines: VecDeque<Vec<u8>>,
    damage: VecDeque<Damage>,
    /// Sequence number of `damage[0]`; entry `i` has number `damage_start + i`.
    damage_start: u64,
}

impl Default for Desktop {
    fn default() -> Self {
        Self::new()
    }
}

impl Desktop {
    pub fn new() -> Self {
        let mut desktop = Desktop {
            rgba: vec![0; usize::from(SCREEN_WIDTH) * usize::from(SCREEN_HEIGHT) * 4],
            lines: VecDeque::from([Vec::new()]),
            damage: VecDeque::new(),
            damage_start: 0,
        };
        desktop.fill(desktop.screen(), BACKGROUND);
        desktop.fill(TITLE_BAR, TITLE_BAR_COLOUR);
        desktop.draw_text(12, 6, TITLE.as_bytes(), 2, TITLE_INK);
        for (rect, colour) in PANEL_COLOURS {
            desktop.fill(rect, colour);
        }
        desktop.draw_text(TEXT_AREA.x, LABEL_Y, TEXT_LABEL.as_bytes(), 1, LABEL_INK);
        desktop.draw_text(DRAW_AREA.x, LABEL_Y, DRAW_LABEL.as_bytes(), 1, LABEL_INK);
        desktop.fill(TEXT_AREA, TEXT_AREA_BACKGROUND);
        desktop.redraw_text_rows(0, TEXT_ROWS - 1);
        desktop.fill(DRAW_AREA, DRAW_AREA_BACKGROUND);
        // The first picture is not damage: a new connection sends the whole screen anyway.
        desktop.damage.clear();
        desktop
    }

    pub fn width(&self) -> u16 {
        SCREEN_WIDTH
    }

    pub fn height(&self) -> u16 {
        SCREEN_HEIGHT
    }

    pub fn screen(&self) -> Rect {
        Rect::new(0, 0, SCREEN_WIDTH, SCREEN_HEIGHT)
    }

    /// The whole picture, RGBA8 row-major.
    pub fn rgba(&self) -> &[u8] {
        &self.rgba
    }

    /// The colour at `(x, y)`, or `None` outside the screen.
    pub fn pixel(&self, x: u16, y: u16) -> Option<[u8; 3]> {
        if !self.screen().contains_point(x, y) {
            return None;
        }
        let i = self.offset(x, y);
        Some([self.rgba[i], self.rgba[i + 1], self.rgba[i + 2]])
    }

    /// One row of `rect` (which callers keep within the screen), RGBA8.
    pub(crate) fn row(&self, rect: Rect, y: u16) -> &[u8] {
        let start = self.offset(rect.x, y);
        &self.rgba[start..start + usize::from(rect.width) * 4]
    }

    /// Counts every change since the desktop was made. A driver serving several connections can
    /// publish it (e.g. in a watch channel) so idle connections wake and call `take_output`.
    pub fn change_count(&self) -> u64 {
        self.damage_start + self.damage.len() as u64
    }

    /// The text shown in the text area, one string per line (oldest first).
    pub fn text_lines(&self) -> Vec<String> {
        self.lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    /// Feeds one pressed key: printable ASCII keysyms type themselves, Return and keypad Enter
    /// start a new line, BackSpace deletes; every other keysym is ignored.
    pub fn press_key(&mut self, keysym: u32) {
        let input = match keysym {
            0x20..=0x7e => TextInput::Char(keysym as u8),
            KEYSYM_RETURN | KEYSYM_KP_ENTER => TextInput::NewLine,
            KEYSYM_BACKSPACE => TextInput::BackSpace,
            _ => return,
        };
        self.edit_text([input]);
    }

    /// Appends pasted Latin-1 text: `\n` starts a line, `\r` is dropped, a tab becomes a space,
    /// anything the font lacks becomes `?`. The area is redrawn once, however long the text.
    pub fn paste(&mut self, text: &[u8]) {
        self.edit_text(text.iter().filter_map(|&b| match b {
            b'\n' => Some(TextInput::NewLine),
            b'\r' => None,
            b'\t' => Some(TextInput::Char(b' ')),
            b if font::is_printable(b) => Some(TextInput::Char(b)),
            _ => Some(TextInput::Char(b'?')),
        }));
    }

    /// Paints a brush line from `from` to `to` (both clamped to the screen), clipped to the
    /// drawing area. `from == to` paints one dot.
    pub fn paint_line(&mut self, from: (u16, u16), to: (u16, u16)) {
        let clamp = |(x, y): (u16, u16)| {
            (
                i32::from(x.min(SCREEN_WIDTH - 1)),
                i32::from(y.min(SCREEN_HEIGHT - 1)),
            )
        };
        let ((mut x, mut y), (x1, y1)) = (clamp(from), clamp(to));
        let half = i32::from(BRUSH_SIZE / 2);
        // The bounds of what the brush can touch, clipped to the drawing area.
        let reach = |a: i32, b: i32| (a.min(b) - half).max(0);
        let (left, top) = (reach(x, x1), reach(y, y1));
        let right = (x.max(x1) + half + 1).min(i32::from(SCREEN_WIDTH));
        let bottom = (y.max(y1) + half + 1).min(i32::from(SCREEN_HEIGHT));
        // All four are within 0..=1024 after clamping, so they fit in u16.
        let touched = Rect::new(
            left as u16,
            top as u16,
            (right - left) as u16,
            (bottom - top) as u16,
        )
        .intersect(&DRAW_AREA);
        if touched.is_empty() {
            return;
        }
        // Bresenham's line, stamping the brush at every step (at most ~1,800 steps on screen).
        let (dx, dy) = ((x1 - x).abs(), -(y1 - y).abs());
        let (sx, sy) = (if x < x1 { 1 } else { -1 }, if y < y1 { 1 } else { -1 });
        let mut err = dx + dy;
        loop {
            let brush = Rect::new(
                (x - half).max(0) as u16,
                (y - half).max(0) as u16,
                BRUSH_SIZE,
                BRUSH_SIZE,
            );
            let clipped = brush.intersect(&DRAW_AREA);
            if !clipped.is_empty() {
                self.fill(clipped, DRAW_INK);
            }
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
        self.record(Damage::Paint(touched));
    }

    /// The damage recorded since `seq` (a value of [`Desktop::change_count`]), oldest first, or
    /// `None` when the log no longer reaches back that far.
    pub(crate) fn damage_since(&self, seq: u64) -> Option<impl Iterator<Item = &Damage>> {
        let skip = usize::try_from(seq.checked_sub(self.damage_start)?).ok()?;
        Some(self.damage.iter().skip(skip))
    }

    fn record(&mut self, damage: Damage) {
        if self.damage.len() == DAMAGE_LOG_LEN {
            self.damage.pop_front();
            self.damage_start += 1;
        }
        self.damage.push_back(damage);
    }

    fn offset(&self, x: u16, y: u16) -> usize {
        (usize::from(y) * usize::from(SCREEN_WIDTH) + usize::from(x)) * 4
    }

    /// Fills `rect`, which callers keep within the screen.
    fn fill(&mut self, rect: Rect, colour: [u8; 3]) {
        let rect = rect.intersect(&self.screen());
        let row = [colour[0], colour[1], colour[2], 0xff].repeat(usize::from(rect.width));
        for y in rect.y..rect.y + rect.height {
            let start = self.offset(rect.x, y);
            self.rgba[start..start + row.len()].copy_from_slice(&row);
        }
    }

    fn draw_text(&mut self, x: u16, y: u16, text: &[u8], scale: u16, ink: [u8; 3]) {
        for (i, &byte) in text.iter().enumerate() {
            let cell_x = x + i as u16 * font::CELL_WIDTH * scale;
            font::for_each_pixel(byte, |px, py| {
                self.fill(
                    Rect::new(cell_x + px * scale, y + py * scale, scale, scale),
                    ink,
                );
            });
        }
    }

    fn text_row_rect(row: usize) -> Rect {
        Rect::new(
            TEXT_CELLS.x,
            TEXT_CELLS.y + row as u16 * TEXT_CELL_HEIGHT,
            TEXT_CELLS.width,
            TEXT_CELL_HEIGHT,
        )
    }

    /// Repaints text rows `first..=last` from `lines`, with the caret (an underline in the
    /// cell after the last character) on the last line.
    fn redraw_text_rows(&mut self, first: usize, last: usize) {
        for row in first..=last.min(TEXT_ROWS - 1) {
            let rect = Self::text_row_rect(row);
            self.fill(rect, TEXT_AREA_BACKGROUND);
            let Some(line) = self.lines.get(row).cloned() else {
                continue;
            };
            self.draw_text(rect.x, rect.y, &line, TEXT_SCALE, TEXT_INK);
            if row == self.lines.len() - 1 && line.len() < TEXT_COLUMNS {
                let caret_x = rect.x + line.len() as u16 * TEXT_CELL_WIDTH;
                let caret_y = rect.y + TEXT_CELL_HEIGHT - 2;
                self.fill(
                    Rect::new(caret_x, caret_y, TEXT_CELL_WIDTH - 2, 2),
                    TEXT_INK,
                );
            }
        }
    }

    /// Applies edits to the text model, then updates the pixels once: a scroll moves the kept
    /// rows up (recorded as a copy, which clients can apply with CopyRect) and only the rows whose
    /// text changed are repainted.
    fn edit_text(&mut self, inputs: impl IntoIterator<Item = TextInput>) {
        // Changed rows, in the coordinates after all scrolls so far.
        let mut changed: Option<(usize, usize)> = None;
        let mut scrolled = 0usize;
        let touch = |changed: &mut Option<(usize, usize)>, row: usize| {
            *changed = Some(match *changed {
                Some((a, b)) => (a.min(row), b.max(row)),
                None => (row, row),
            });
        };
        for input in inputs {
            let mut last = self.lines.len() - 1;
            match input {
                TextInput::Char(byte) => {
                    if self.lines[last].len() == TEXT_COLUMNS {
                        touch(&mut changed, last);
                        self.lines.push_back(Vec::new());
                        last += 1;
                    }
                    self.lines[last].push(byte);
                }
                TextInput::NewLine => {
                    touch(&mut changed, last);
                    self.lines.push_back(Vec::new());
                    last += 1;
                }
                TextInput::BackSpace => {
                    touch(&mut changed, last);
                    if self.lines[last].pop().is_none() && last > 0 {
                        self.lines.pop_back();
                        last -= 1;
                    }
                }
            }
            if self.lines.len() > TEXT_ROWS {
                self.lines.pop_front();
                last -= 1;
                scrolled += 1;
                changed = changed.map(|(a, b)| (a.saturating_sub(1), b.saturating_sub(1)));
            }
            touch(&mut changed, last);
        }
        let Some((first, last)) = changed else {
            return;
        };
        if scrolled >= TEXT_ROWS {
            self.redraw_text_rows(0, TEXT_ROWS - 1);
            self.record(Damage::Paint(TEXT_CELLS));
            return;
        }
        if scrolled > 0 {
            let shift = scrolled as u16 * TEXT_CELL_HEIGHT;
            let src = Rect::new(
                TEXT_CELLS.x,
                TEXT_CELLS.y + shift,
                TEXT_CELLS.width,
                TEXT_CELLS.height - shift,
            );
            for y in 0..src.height {
                let from = self.offset(src.x, src.y + y);
                let to = self.offset(src.x, TEXT_CELLS.y + y);
                self.rgba
                    .copy_within(from..from + usize::from(src.width) * 4, to);
            }
            self.record(Damage::Copy {
                src,
                dst_x: TEXT_CELLS.x,
                dst_y: TEXT_CELLS.y,
            });
        }
        // Rows uncovered by the scroll hold stale pixels and must be repainted too.
        let last = if scrolled > 0 { TEXT_ROWS - 1 } else { last };
        let first = first.min(TEXT_ROWS - scrolled.max(1));
        self.redraw_text_rows(first, last);
        let top = Self::text_row_rect(first);
        let rows = (last - first + 1) as u16;
        self.record(Damage::Paint(Rect::new(
            top.x,
            top.y,
            top.width,
            rows * TEXT_CELL_HEIGHT,
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_area_ink(desktop: &Desktop) -> usize {
        (TEXT_AREA.y..TEXT_AREA.y + TEXT_AREA.height)
            .flat_map(|y| (TEXT_AREA.x..TEXT_AREA.x + TEXT_AREA.width).map(move |x| (x, y)))
            .filter(|&(x, y)| desktop.pixel(x, y) == Some(TEXT_INK))
            .count()
    }

    #[test]
    fn panels_show_their_documented_colours() {
        let desktop = Desktop::new();
        for (rect, colour) in PANEL_COLOURS {
            for (x, y) in [
                (rect.x, rect.y),
                (rect.x + rect.width - 1, rect.y + rect.height - 1),
            ] {
                assert_eq!(desktop.pixel(x, y), Some(colour));
            }
        }
        assert_eq!(desktop.pixel(2, 2), Some(TITLE_BAR_COLOUR));
        assert_eq!(
            desktop.pixel(DRAW_AREA.x + 1, DRAW_AREA.y + 1),
            Some(DRAW_AREA_BACKGROUND)
        );
    }

    #[test]
    fn backspace_erases_what_was_typed() {
        let mut desktop = Desktop::new();
        let empty = text_area_ink(&desktop);
        for key in [u32::from(b'H'), u32::from(b'i')] {
            desktop.press_key(key);
        }
        assert!(text_area_ink(&desktop) > empty);
        desktop.press_key(KEYSYM_BACKSPACE);
        desktop.press_key(KEYSYM_BACKSPACE);
        assert_eq!(text_area_ink(&desktop), empty);
        assert_eq!(desktop.text_lines(), [""]);
    }

    #[test]
    fn long_paste_wraps_scrolls_and_keeps_the_newest_lines() {
        let mut desktop = Desktop::new();
        let text: Vec<u8> = (0..200)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        desktop.paste(&text);
        let lines = desktop.text_lines();
        assert_eq!(lines.len(), TEXT_ROWS);
        assert_eq!(lines[TEXT_ROWS - 2], "line 199");
        assert_eq!(lines[TEXT_ROWS - 1], "");
        // A scrolled picture equals a freshly drawn one with the same text.
        let mut fresh = Desktop::new();
        fresh.lines = desktop.lines.clone();
        fresh.redraw_text_rows(0, TEXT_ROWS - 1);
        assert_eq!(fresh.rgba(), desktop.rgba());
    }

    #[test]
    fn typing_one_line_at_a_time_scrolls_pixels_correctly() {
        let mut desktop = Desktop::new();
        for i in 0..(TEXT_ROWS + 3) {
            desktop.paste(format!("row {i} {}", "x".repeat(i % 50)).as_bytes());
            desktop.press_key(KEYSYM_RETURN);
        }
        desktop.press_key(KEYSYM_BACKSPACE);
        let mut fresh = Desktop::new();
        fresh.lines = desktop.lines.clone();
        fresh.redraw_text_rows(0, TEXT_ROWS - 1);
        assert_eq!(fresh.rgba(), desktop.rgba());
        assert!(
            desktop
                .damage
                .iter()
                .any(|d| matches!(d, Damage::Copy { .. })),
            "a one-line scroll is recorded as a copy"
        );
    }

    #[test]
    fn a_drag_paints_a_line_and_stays_inside_the_drawing_area() {
        let mut desktop = Desktop::new();
        let (x0, y) = (DRAW_AREA.x + 20, DRAW_AREA.y + 30);
        desktop.paint_line((x0, y), (x0 + 100, y));
        for x in x0..=x0 + 100 {
            assert_eq!(desktop.pixel(x, y), Some(DRAW_INK));
        }
        // A stroke leaving the area is clipped at its edge.
        desktop.paint_line((DRAW_AREA.x + 5, y), (0, y));
        assert_eq!(desktop.pixel(DRAW_AREA.x - 1, y), Some(BACKGROUND));
        assert_eq!(desktop.pixel(DRAW_AREA.x, y), Some(DRAW_INK));
    }

    #[test]
    fn damage_log_forgets_old_entries() {
        let mut desktop = Desktop::new();
        for _ in 0..(DAMAGE_LOG_LEN + 10) {
            desktop.paint_line(
                (DRAW_AREA.x + 5, DRAW_AREA.y + 5),
                (DRAW_AREA.x + 5, DRAW_AREA.y + 5),
            );
        }
        assert!(desktop.damage_since(0).is_none());
        let now = desktop.change_count();
        assert_eq!(desktop.damage_since(now).map(|d| d.count()), Some(0));
        assert_eq!(desktop.damage_since(now - 3).map(|d| d.count()), Some(3));
    }
}
