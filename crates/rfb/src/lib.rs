#![forbid(unsafe_code)]
// Tests may unwrap; the library build is still linted for it.
#![cfg_attr(test, allow(clippy::unwrap_used))]
//! A sans-IO RFB (VNC) client for Hoshu's gateway (DESIGN §2): RFC 6143
//! versions 3.3, 3.7 and 3.8, security types None and VNC Authentication,
//! and the Raw, CopyRect, ZRLE and Tight encodings with the Cursor,
//! DesktopSize, ExtendedDesktopSize and LastRect pseudo-encodings, decoded
//! into an RGBA [`Framebuffer`].
//!
//! # Why our own client
//!
//! The gateway is the only protocol client of a target it does not trust,
//! so its RFB parser must be a pure state machine it can fuzz and bound —
//! bytes in, events and bytes out, no sockets, no tasks, every length
//! checked against [`Limits`] before anything is allocated. `vnc-rs` is an
//! async client that owns its connection; wrapping it would leave the
//! parsing we most need to harden outside our reach. guacd's history of
//! memory-safety bugs in exactly this code (DESIGN §2) is why it is here.
//!
//! # Use
//!
//! ```
//! use hoshu_rfb::{Client, ClientConfig, Event};
//!
//! let mut client = Client::new(ClientConfig::default());
//! // The driver loop: write `take_output()` to the socket, give what the
//! // socket reads to `receive()`, then drain `next_event()`.
//! client.receive(b"RFB 003.008\n").unwrap();
//! assert_eq!(client.take_output(), b"RFB 003.008\n");
//! assert_eq!(client.next_event(), None::<Event>);
//! ```
//!
//! - Any chunking of the input gives the same events, framebuffer and
//!   output: a step reads a whole protocol unit before it changes anything.
//! - The first error is final; it says in plain words what the server did.
//! - ZRLE and Tight inflate at most what the rectangle can hold; a zlib
//!   bomb ends the session after that much work.
//! - Memory held at any time: the framebuffer (≤ `max_width × max_height ×
//!   4`), one protocol unit of input (Raw rectangles are applied row by row,
//!   others are bounded by `max_compressed_len`, `max_cut_text`,
//!   `max_cursor_side` and `max_name_len`), the inflated form of one
//!   rectangle, and the events not yet taken.

mod client;
mod config;
mod encodings;
mod error;
mod framebuffer;
mod handshake;
mod messages;
mod reader;
mod session;

pub use client::{Client, Event};
pub use config::{ClientConfig, Encoding, Limits};
pub use error::RfbError;
pub use framebuffer::{Framebuffer, Rect};
pub use handshake::vnc_auth_response;
pub use session::Stats;

#[cfg(test)]
mod tests;
