//! Hoshu's built-in demo target: the sans-IO core of a small RFB (VNC) server, so `hoshu demo`
//! has a desktop to connect to without any other server installed. It also serves as a
//! synthetic target for load tests.
//!
//! - [`Desktop`] is the picture all connections share: a title bar, four solid panels
//!   ([`PANEL_COLOURS`]), a text area that echoes keys and pasted text, and a drawing area that
//!   paints while the left button is down.
//! - [`Connection`] is one client, RFC 6143: it takes received bytes ([`Connection::receive`])
//!   and hands back bytes to send ([`Connection::take_output`]). It never touches a socket or
//!   a clock; the driver supplies the VncAuth challenge bytes.
//!
//! # Many connections, one desktop
//!
//! The driver keeps the `Desktop` in a mutex and, for each connection, locks it around
//! `receive` and `take_output`. The desktop appends every change to a bounded damage log
//! (256 entries) numbered by [`Desktop::change_count`]; each connection remembers the number up
//! to which it has folded the log into its own pending region (at most 64 rectangles, merged
//! into their bounding box beyond that). A connection that fell further behind than the log
//! reaches simply resends the whole screen. The desktop thus keeps no per-connection state, and
//! a slow client costs 64 rectangles, not an unbounded queue. After any change the driver
//! should give every other connection a chance to send, e.g. by publishing `change_count()` in
//! a watch channel that each connection task waits on before calling `take_output`.
//!
//! # Driver contract
//!
//! Call `take_output` after `Connection::new` (the server speaks first), after every `receive`,
//! and whenever the desktop changed. When `receive` returns an error, still send what
//! `take_output` returns (it may hold a failure reason for the client), then close.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod auth;
mod connection;
mod desktop;
mod font;
mod pixel;
mod region;
mod zrle;

pub use connection::{
    ClientEncodings, Connection, ENCODING_COPY_RECT, ENCODING_CURSOR, ENCODING_DESKTOP_SIZE,
    ENCODING_RAW, ENCODING_ZRLE, MAX_CUT_TEXT_LEN, MAX_ENCODINGS, ServerConfig,
};
pub use desktop::{
    BACKGROUND, BRUSH_SIZE, DRAW_AREA, DRAW_AREA_BACKGROUND, DRAW_INK, Desktop, KEYSYM_BACKSPACE,
    KEYSYM_KP_ENTER, KEYSYM_RETURN, LABEL_INK, PANEL_COLOURS, SCREEN_HEIGHT, SCREEN_WIDTH,
    TEXT_AREA, TEXT_AREA_BACKGROUND, TEXT_COLUMNS, TEXT_INK, TEXT_ROWS, TEXT_SCALE, TITLE,
    TITLE_BAR, TITLE_BAR_COLOUR, TITLE_INK,
};
pub use pixel::PixelFormat;
pub use region::{MAX_DIRTY_RECTS, Rect};

/// Why a connection ended. Messages name what the client did wrong.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "client sent an unsupported protocol version {0:?}; RFB 3.3, 3.7 and 3.8 are supported"
    )]
    UnsupportedVersion(String),
    #[error("client chose security type {chosen}, but only type {offered} was offered")]
    SecurityTypeNotOffered { chosen: u8, offered: u8 },
    #[error("vnc authentication failed: the client's response does not match the password")]
    AuthenticationFailed,
    #[error(
        "client asked for a {bits_per_pixel}-bit colour-map pixel format; only true colour is supported"
    )]
    ColourMapNotSupported { bits_per_pixel: u8 },
    #[error("client asked for {bits_per_pixel} bits per pixel; only 8, 16 and 32 are supported")]
    UnsupportedBitsPerPixel { bits_per_pixel: u8 },
    #[error(
        "client pixel format puts a colour channel (max {max}, shift {shift}) outside its {bits_per_pixel}-bit pixel"
    )]
    ChannelOutsidePixel {
        max: u16,
        shift: u8,
        bits_per_pixel: u8,
    },
    #[error("client listed {count} encodings in SetEncodings; at most {max} are accepted", max = MAX_ENCODINGS)]
    TooManyEncodings { count: u16 },
    #[error("client cut text of {length} bytes exceeds the {max}-byte limit", max = MAX_CUT_TEXT_LEN)]
    CutTextTooLong { length: u32 },
    #[error("client sent unknown message type {0}")]
    UnknownMessageType(u8),
    #[error("connection already ended after an earlier error")]
    Closed,
}
