//! Client-to-server messages (RFC 6143 §7.5), written into the output queue.

use crate::config::Encoding;
use crate::framebuffer::Rect;

/// The pixel format we ask for (§7.4): 32 bits per pixel, depth 24, true
/// colour, little-endian, red at bit 0, green at 8, blue at 16 — so a pixel
/// is the bytes R, G, B, x in memory, a ZRLE CPIXEL is R, G, B (the three
/// least significant bytes, §7.7.6), and a Tight TPIXEL is R, G, B too.
const PIXEL_FORMAT: [u8; 16] = [
    32, // bits-per-pixel
    24, // depth
    0,  // big-endian-flag
    1,  // true-colour-flag
    0, 255, // red-max
    0, 255, // green-max
    0, 255, // blue-max
    0,   // red-shift
    8,   // green-shift
    16,  // blue-shift
    0, 0, 0, // padding
];

/// SetPixelFormat (§7.5.1).
pub(crate) fn set_pixel_format(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&PIXEL_FORMAT);
}

/// SetEncodings (§7.5.2). At most 65535 entries fit; more are dropped.
pub(crate) fn set_encodings(out: &mut Vec<u8>, encodings: &[Encoding]) {
    let count = u16::try_from(encodings.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&[2, 0]);
    out.extend_from_slice(&count.to_be_bytes());
    for encoding in &encodings[..usize::from(count)] {
        out.extend_from_slice(&encoding.code().to_be_bytes());
    }
}

/// FramebufferUpdateRequest (§7.5.3).
pub(crate) fn framebuffer_update_request(out: &mut Vec<u8>, incremental: bool, r: Rect) {
    out.extend_from_slice(&[3, u8::from(incremental)]);
    for field in [r.x, r.y, r.width, r.height] {
        out.extend_from_slice(&field.to_be_bytes());
    }
}

/// KeyEvent (§7.5.4).
pub(crate) fn key_event(out: &mut Vec<u8>, keysym: u32, down: bool) {
    out.extend_from_slice(&[4, u8::from(down), 0, 0]);
    out.extend_from_slice(&keysym.to_be_bytes());
}

/// PointerEvent (§7.5.5).
pub(crate) fn pointer_event(out: &mut Vec<u8>, x: u16, y: u16, buttons: u8) {
    out.extend_from_slice(&[5, buttons]);
    out.extend_from_slice(&x.to_be_bytes());
    out.extend_from_slice(&y.to_be_bytes());
}

/// ClientCutText (§7.5.6): Latin-1; characters outside it become '?'.
pub(crate) fn client_cut_text(out: &mut Vec<u8>, text: &str) {
    let latin1: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    // A u32 length cannot describe more; a clipboard that large is cut.
    let len = u32::try_from(latin1.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&[6, 0, 0, 0]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&latin1[..len as usize]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_text_is_latin1_with_question_marks() {
        let mut out = Vec::new();
        client_cut_text(&mut out, "é日x");
        assert_eq!(out, [6, 0, 0, 0, 0, 0, 0, 3, 0xE9, b'?', b'x']);
    }

    #[test]
    fn set_encodings_lists_codes_in_order() {
        let mut out = Vec::new();
        set_encodings(&mut out, &[Encoding::Tight, Encoding::Cursor]);
        assert_eq!(out, [2, 0, 0, 2, 0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0x11]);
    }
}
