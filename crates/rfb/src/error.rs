//! Why a session with a VNC server ended.
//!
//! Every message is written for the person who opened the session (or the
//! operator reading the session list): it names what the server did and,
//! where there is one, the setting that would change the outcome.

use crate::framebuffer::Rect;

/// The first error ends the session; [`crate::Client`] returns
/// [`RfbError::Closed`] from every later call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RfbError {
    /// The first 12 bytes were not an RFB `ProtocolVersion` (RFC 6143 §7.1.1).
    #[error(
        "the target did not answer like a VNC server (it began with {0:?}); check the host and port"
    )]
    NotRfb(String),

    /// The server speaks a protocol version older than 3.3.
    #[error("the VNC server speaks RFB {0}; Hoshu supports RFB 3.3, 3.7 and 3.8")]
    UnsupportedVersion(String),

    /// The server refused the connection before authentication and said why
    /// (RFC 6143 §7.1.2: zero security types, followed by a reason).
    #[error("the VNC server refused the connection: {0}")]
    ConnectionRefused(String),

    /// None of the server's security types is one Hoshu speaks.
    #[error(
        "the VNC server offers security types {0:?}; Hoshu supports only None (1) and VNC Authentication (2) — enable one of them on the server"
    )]
    NoCommonSecurityType(Vec<u8>),

    /// The server wants VNC Authentication and the target has no password.
    #[error(
        "the VNC server requires a password, but none is configured for this target; set one with --password-file"
    )]
    PasswordRequired,

    /// SecurityResult said "failed" (RFC 6143 §7.1.3); the reason is the
    /// server's own (RFB 3.8) or a fixed text (3.3, 3.7).
    #[error("VNC authentication failed: {0}")]
    AuthenticationFailed(String),

    /// The server announced or resized to a desktop larger than the limits.
    #[error("server asked for a {width}×{height} desktop; the limit is {max_width}×{max_height}")]
    DesktopTooLarge {
        width: u16,
        height: u16,
        max_width: u16,
        max_height: u16,
    },

    /// The server announced or resized to a desktop of more pixels than the memory allowed for
    /// one session's framebuffer.
    #[error(
        "server asked for a {width}×{height} desktop ({} million pixels); the limit is {} million pixels",
        u32::from(*width) * u32::from(*height) / 1_000_000,
        max_pixels / 1_000_000
    )]
    DesktopTooManyPixels {
        width: u16,
        height: u16,
        max_pixels: u32,
    },

    /// A length or count from the server is larger than its limit.
    #[error("server sent {what} of {value}; the limit is {limit}")]
    LimitExceeded {
        what: &'static str,
        value: u64,
        limit: u64,
    },

    /// A rectangle of picture data does not lie inside the desktop.
    #[error(
        "server drew a {}×{} rectangle at ({}, {}), outside the {width}×{height} desktop",
        rect.width, rect.height, rect.x, rect.y
    )]
    RectOutsideFramebuffer { rect: Rect, width: u16, height: u16 },

    /// A rectangle in an encoding Hoshu did not ask for (RFC 6143 §7.5.2:
    /// a server may only use encodings the client listed, and Raw).
    #[error("server sent a rectangle in encoding {0}, which Hoshu did not ask for")]
    UnknownEncoding(i32),

    /// A server-to-client message type outside RFC 6143 §7.6.
    #[error("server sent message type {0}, which Hoshu did not ask for")]
    UnknownMessage(u8),

    /// The bytes break the protocol's structure.
    #[error("the VNC server sent malformed data: {0}")]
    Malformed(String),

    /// Picture data (zlib, ZRLE tiles, Tight, JPEG) could not be decoded.
    #[error("could not decode the VNC server's picture data: {0}")]
    Decode(String),

    /// The session already ended (an earlier error, or the server hung up).
    #[error("the VNC session has ended")]
    Closed,
}

impl RfbError {
    pub(crate) fn limit(what: &'static str, value: impl Into<u64>, limit: impl Into<u64>) -> Self {
        RfbError::LimitExceeded {
            what,
            value: value.into(),
            limit: limit.into(),
        }
    }
}
