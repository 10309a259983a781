//! CopyRect encoding (RFC 6143 §7.7.2): the source position of a region
//! the client already has.

use crate::error::RfbError;
use crate::framebuffer::{Framebuffer, Rect};
use crate::reader::{Reader, Step};

/// Reads the source position and checks that the source lies inside the
/// desktop as well as the destination.
pub(crate) fn read(r: &mut Reader, dst: Rect, fb: &Framebuffer) -> Step<(u16, u16)> {
    let src_x = r.u16()?;
    let src_y = r.u16()?;
    let src = Rect::new(src_x, src_y, dst.width, dst.height);
    if !fb.contains(src) {
        return Err(RfbError::RectOutsideFramebuffer {
            rect: src,
            width: fb.width(),
            height: fb.height(),
        }
        .into());
    }
    Ok((src_x, src_y))
}
