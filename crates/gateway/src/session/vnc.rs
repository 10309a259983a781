//! VNC targets: the sans-IO RFB client (crates/rfb) behind a TCP connection, its events turned
//! into display changes.

use hoshu_rfb::{Client, ClientConfig, Event, Framebuffer};

use super::display::{Display, Screen};
use super::region::Rect;

impl Screen for Framebuffer {
    fn width(&self) -> u32 {
        u32::from(Framebuffer::width(self))
    }

    fn height(&self) -> u32 {
        u32::from(Framebuffer::height(self))
    }

    fn region_rgba(&self, rect: Rect) -> Vec<u8> {
        // Rect was clipped to this framebuffer by the display, so the casts cannot truncate.
        self.copy_region_rgba(hoshu_rfb::Rect {
            x: rect.x as u16,
            y: rect.y as u16,
            width: rect.width as u16,
            height: rect.height as u16,
        })
    }
}

pub fn client(password: Option<String>) -> Client {
    Client::new(ClientConfig {
        password,
        ..ClientConfig::default()
    })
}

/// What the tunnel must do beyond drawing, after an RFB event.
#[derive(Debug, PartialEq, Eq)]
pub enum Follow {
    Nothing,
    /// The handshake finished: the first full picture follows (a recording keyframe).
    Connected,
    /// The target put text on its clipboard.
    CutText(String),
    /// A framebuffer update is complete: the picture is consistent and worth sending.
    UpdateEnd,
}

fn rect(r: hoshu_rfb::Rect) -> Rect {
    Rect::new(
        u32::from(r.x),
        u32::from(r.y),
        u32::from(r.width),
        u32::from(r.height),
    )
}

/// Applies one RFB event to the display; asks the client for the next update when one ends.
pub fn apply(event: Event, client: &mut Client, display: &mut Display) -> Follow {
    match event {
        Event::Connected { width, height, .. } => {
            display.resize(u32::from(width), u32::from(height));
            return Follow::Connected;
        }
        Event::Resized { width, height } => display.resize(u32::from(width), u32::from(height)),
        Event::Damage(r) => display.damage(rect(r)),
        Event::Copy { src_x, src_y, dst } => {
            display.copy(u32::from(src_x), u32::from(src_y), rect(dst))
        }
        // Keep the framebuffer current whatever the browser's pace: the display coalesces.
        Event::UpdateEnd => {
            client.request_update(true);
            return Follow::UpdateEnd;
        }
        Event::Cursor {
            hotspot_x,
            hotspot_y,
            width,
            height,
            rgba,
        } => display.cursor(
            u32::from(hotspot_x),
            u32::from(hotspot_y),
            u32::from(width),
            u32::from(height),
            &rgba,
        ),
        Event::CutText(text) => return Follow::CutText(text),
        Event::Bell => {}
    }
    Follow::Nothing
}
