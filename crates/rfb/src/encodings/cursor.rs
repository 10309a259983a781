//! Cursor pseudo-encoding (RFC 6143 §7.8.1, "RichCursor"): the rectangle's
//! position is the hotspot, its size the cursor's; the data is
//! `width * height` pixels then a bitmask of `ceil(width / 8) * height`
//! bytes, most significant bit first, 1 = opaque.

use super::raw::BYTES_PER_PIXEL;
use crate::config::Limits;
use crate::error::RfbError;
use crate::framebuffer::Rect;
use crate::reader::{Reader, Step};

/// A cursor image: RGBA with the mask as alpha (255 or 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CursorImage {
    pub hotspot_x: u16,
    pub hotspot_y: u16,
    pub width: u16,
    pub height: u16,
    pub rgba: Vec<u8>,
}

pub(crate) fn read(r: &mut Reader, rect: Rect, limits: &Limits) -> Step<CursorImage> {
    let side = rect.width.max(rect.height);
    if side > limits.max_cursor_side {
        return Err(RfbError::limit("a cursor side", side, limits.max_cursor_side).into());
    }
    let pixels = r.bytes(rect.area() * BYTES_PER_PIXEL)?;
    let mask_row = usize::from(rect.width).div_ceil(8);
    let mask = r.bytes(mask_row * usize::from(rect.height))?;
    let mut rgba = Vec::with_capacity(rect.area() * 4);
    for (i, px) in pixels.chunks_exact(BYTES_PER_PIXEL).enumerate() {
        let (x, y) = (i % usize::from(rect.width), i / usize::from(rect.width));
        let opaque = mask[y * mask_row + x / 8] & (0x80 >> (x % 8)) != 0;
        rgba.extend_from_slice(&[px[0], px[1], px[2], if opaque { 255 } else { 0 }]);
    }
    Ok(CursorImage {
        hotspot_x: rect.x,
        hotspot_y: rect.y,
        width: rect.width,
        height: rect.height,
        rgba,
    })
}
