//! The client's copy of the remote desktop: RGBA8, row-major, opaque.

/// A rectangle of the desktop, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
}

impl Rect {
    pub fn new(x: u16, y: u16, width: u16, height: u16) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    /// Number of pixels.
    pub fn area(self) -> usize {
        usize::from(self.width) * usize::from(self.height)
    }

    pub fn is_empty(self) -> bool {
        self.width == 0 || self.height == 0
    }
}

/// The desktop as RGBA8 pixels, row-major, `width * height * 4` bytes.
/// Alpha is always 255. The client keeps it up to date; the gateway reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct Framebuffer {
    width: u16,
    height: u16,
    rgba: Vec<u8>,
}

impl std::fmt::Debug for Framebuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Framebuffer")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl Framebuffer {
    /// A black, opaque desktop. The caller checked the size against
    /// [`crate::Limits`].
    pub(crate) fn new(width: u16, height: u16) -> Framebuffer {
        // Opaque black; `repeat` copies in doubling blocks, far faster than a loop per pixel
        // for the largest desktops.
        let rgba = [0, 0, 0, 255].repeat(usize::from(width) * usize::from(height));
        Framebuffer {
            width,
            height,
            rgba,
        }
    }

    pub fn width(&self) -> u16 {
        self.width
    }

    pub fn height(&self) -> u16 {
        self.height
    }

    /// All pixels, RGBA8, row-major.
    pub fn rgba(&self) -> &[u8] {
        &self.rgba
    }

    /// The pixel at (x, y); transparent black `[0, 0, 0, 0]` outside the desktop.
    pub fn pixel(&self, x: u16, y: u16) -> [u8; 4] {
        if x >= self.width || y >= self.height {
            return [0; 4];
        }
        let at = self.offset(x, y);
        [
            self.rgba[at],
            self.rgba[at + 1],
            self.rgba[at + 2],
            self.rgba[at + 3],
        ]
    }

    /// The pixels of `r` clipped to the desktop, RGBA8, row-major, with the
    /// clipped width as stride. Empty when `r` lies wholly outside.
    pub fn copy_region_rgba(&self, r: Rect) -> Vec<u8> {
        let x0 = usize::from(r.x.min(self.width));
        let y0 = usize::from(r.y.min(self.height));
        let x1 = (usize::from(r.x) + usize::from(r.width)).min(usize::from(self.width));
        let y1 = (usize::from(r.y) + usize::from(r.height)).min(usize::from(self.height));
        let row_len = (x1 - x0) * 4;
        let mut out = Vec::with_capacity(row_len * (y1 - y0));
        for y in y0..y1 {
            let start = (y * usize::from(self.width) + x0) * 4;
            out.extend_from_slice(&self.rgba[start..start + row_len]);
        }
        out
    }

    /// Whether `r` lies wholly inside the desktop.
    pub fn contains(&self, r: Rect) -> bool {
        u32::from(r.x) + u32::from(r.width) <= u32::from(self.width)
            && u32::from(r.y) + u32::from(r.height) <= u32::from(self.height)
    }

    fn offset(&self, x: u16, y: u16) -> usize {
        (usize::from(y) * usize::from(self.width) + usize::from(x)) * 4
    }

    // The writers below rely on INVARIANT (established by `Client` before any
    // decoder runs): every rectangle they get satisfies `self.contains(r)`.

    /// The `r.width * 4` bytes of row `row` (0-based inside `r`).
    pub(crate) fn row_mut(&mut self, r: Rect, row: u16) -> &mut [u8] {
        debug_assert!(self.contains(r) && row < r.height);
        let start = self.offset(r.x, r.y + row);
        &mut self.rgba[start..start + usize::from(r.width) * 4]
    }

    pub(crate) fn fill(&mut self, r: Rect, rgb: [u8; 3]) {
        let pixel = [rgb[0], rgb[1], rgb[2], 255];
        for row in 0..r.height {
            for out in self.row_mut(r, row).chunks_exact_mut(4) {
                out.copy_from_slice(&pixel);
            }
        }
    }

    /// Writes `r` from packed 3-byte RGB pixels (`r.area() * 3` bytes).
    pub(crate) fn put_rgb(&mut self, r: Rect, rgb: &[u8]) {
        let row_len = usize::from(r.width) * 3;
        for (row, src) in (0..r.height).zip(rgb.chunks_exact(row_len.max(1))) {
            for (out, px) in self
                .row_mut(r, row)
                .chunks_exact_mut(4)
                .zip(src.chunks_exact(3))
            {
                out[..3].copy_from_slice(px);
                out[3] = 255;
            }
        }
    }

    /// CopyRect (RFC 6143 §7.7.2): copies the `dst`-sized region at
    /// (`src_x`, `src_y`) to `dst`, correct when the two overlap.
    pub(crate) fn copy_within(&mut self, src_x: u16, src_y: u16, dst: Rect) {
        let src = Rect::new(src_x, src_y, dst.width, dst.height);
        debug_assert!(self.contains(src) && self.contains(dst));
        let row_len = usize::from(dst.width) * 4;
        // Rows move as whole slices (`copy_within` handles overlap inside a
        // row); when the destination is below the source, walk bottom-up so
        // no source row is overwritten before it is copied.
        let copy_row = |fb: &mut Framebuffer, row: u16| {
            let from = fb.offset(src.x, src.y + row);
            let to = fb.offset(dst.x, dst.y + row);
            fb.rgba.copy_within(from..from + row_len, to);
        };
        if dst.y > src.y {
            for row in (0..dst.height).rev() {
                copy_row(self, row);
            }
        } else {
            for row in 0..dst.height {
                copy_row(self, row);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(width: u16, height: u16) -> Framebuffer {
        let mut fb = Framebuffer::new(width, height);
        for y in 0..height {
            for x in 0..width {
                let at = fb.offset(x, y);
                fb.rgba[at] = x as u8;
                fb.rgba[at + 1] = y as u8;
            }
        }
        fb
    }

    #[test]
    fn a_new_framebuffer_is_opaque_black() {
        let fb = Framebuffer::new(3, 2);
        assert_eq!(fb.rgba().len(), 24);
        assert_eq!(fb.pixel(2, 1), [0, 0, 0, 255]);
        assert_eq!(fb.pixel(3, 0), [0, 0, 0, 0], "outside is transparent");
    }

    #[test]
    fn copy_region_is_clipped_to_the_desktop() {
        let fb = numbered(4, 4);
        let region = fb.copy_region_rgba(Rect::new(2, 3, 10, 10));
        assert_eq!(region, vec![2, 3, 0, 255, 3, 3, 0, 255]);
        assert!(fb.copy_region_rgba(Rect::new(9, 9, 2, 2)).is_empty());
    }

    #[test]
    fn overlapping_copies_read_the_source_before_writing() {
        for (sx, sy, dx, dy) in [(0, 0, 1, 1), (1, 1, 0, 0), (0, 1, 0, 0), (0, 0, 0, 1)] {
            let mut fb = numbered(5, 5);
            let before = fb.clone();
            fb.copy_within(sx, sy, Rect::new(dx, dy, 4, 4));
            for y in 0..4 {
                for x in 0..4 {
                    assert_eq!(fb.pixel(dx + x, dy + y), before.pixel(sx + x, sy + y));
                }
            }
        }
    }
}
