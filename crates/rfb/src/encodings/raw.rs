//! Raw encoding (RFC 6143 §7.7.1): `width * height` pixels, row by row.
//!
//! Raw is the one encoding whose data can be as large as the framebuffer,
//! so it is applied a row at a time as bytes arrive instead of being
//! buffered whole.

use crate::framebuffer::{Framebuffer, Rect};

/// Bytes per pixel in our pixel format.
pub(crate) const BYTES_PER_PIXEL: usize = 4;

/// Bytes in one row of `r`.
pub(crate) fn row_len(r: Rect) -> usize {
    usize::from(r.width) * BYTES_PER_PIXEL
}

/// Writes whole rows of `r` from `data` (R, G, B, x per pixel), starting at
/// row `first_row`. `data` holds a whole number of rows.
pub(crate) fn apply_rows(fb: &mut Framebuffer, r: Rect, first_row: u16, data: &[u8]) {
    for (row, src) in (first_row..r.height).zip(data.chunks_exact(row_len(r))) {
        for (out, px) in fb
            .row_mut(r, row)
            .chunks_exact_mut(4)
            .zip(src.chunks_exact(4))
        {
            out[..3].copy_from_slice(&px[..3]);
            out[3] = 255;
        }
    }
}
