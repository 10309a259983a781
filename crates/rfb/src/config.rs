//! What the gateway tells the client before it connects: the password,
//! the encodings to offer and the limits a hostile server must stay within.

use std::fmt;

/// Upper bounds on everything a server can make the client allocate.
///
/// Each length or count read from the network is compared with these
/// before a byte is buffered or allocated for it; a server that goes past
/// one ends its session with [`crate::RfbError::LimitExceeded`] (or
/// [`crate::RfbError::DesktopTooLarge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Widest desktop accepted (ServerInit, DesktopSize). Default 8192.
    pub max_width: u16,
    /// Tallest desktop accepted. Default 8192.
    pub max_height: u16,
    /// Most pixels of a desktop (the framebuffer holds 4 bytes each). Default 16,777,216
    /// (4096×4096, 64 MiB; 7680×2160 fits): one session's framebuffer budget.
    pub max_pixels: u32,
    /// Longest desktop name, and longest failure reason, in bytes. Default 4096.
    pub max_name_len: u32,
    /// Longest ServerCutText in bytes. Default 1 MiB.
    pub max_cut_text: u32,
    /// Widest and tallest cursor image (Cursor pseudo-encoding). Default 256.
    pub max_cursor_side: u16,
    /// Most rectangles in one FramebufferUpdate. Default 65536.
    pub max_rects_per_update: u32,
    /// Largest compressed payload of one rectangle (the ZRLE length field,
    /// the Tight compact length). Default 64 MiB.
    pub max_compressed_len: u32,
}

impl Limits {
    /// [`Limits::max_pixels`] by default: 4096×4096.
    pub const DEFAULT_MAX_PIXELS: u32 = 1 << 24;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_width: 8192,
            max_height: 8192,
            max_pixels: Limits::DEFAULT_MAX_PIXELS,
            max_name_len: 4096,
            max_cut_text: 1 << 20,
            max_cursor_side: 256,
            max_rects_per_update: 65536,
            max_compressed_len: 64 << 20,
        }
    }
}

/// An encoding or pseudo-encoding the client can offer in SetEncodings
/// (RFC 6143 §7.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// 0: uncompressed pixels (§7.7.1). Servers may always use it.
    Raw,
    /// 1: copy a region already on screen (§7.7.2).
    CopyRect,
    /// 7: Tight (fill, JPEG, zlib with copy/palette/gradient filters).
    Tight,
    /// 16: ZRLE, zlib-compressed 64×64 tiles (§7.7.6).
    Zrle,
    /// -239: the server sends the cursor shape (§7.8.1).
    Cursor,
    /// -223: the server tells about desktop resizes (§7.8.2).
    DesktopSize,
    /// -308: ExtendedDesktopSize, the same with a screen layout.
    ExtendedDesktopSize,
    /// -224: LastRect, for updates whose rectangle count is unknown upfront.
    LastRect,
    /// -32 + level: Tight JPEG quality, 0 (smallest) to 9 (best). Without
    /// it a Tight server sends no JPEG.
    TightQuality(u8),
    /// -256 + level: Tight zlib compression level, 0 to 9.
    TightCompression(u8),
}

impl Encoding {
    /// What [`crate::ClientConfig::default`] offers, most preferred first.
    pub const PREFERRED: [Encoding; 10] = [
        Encoding::Tight,
        Encoding::Zrle,
        Encoding::CopyRect,
        Encoding::Raw,
        Encoding::Cursor,
        Encoding::DesktopSize,
        Encoding::ExtendedDesktopSize,
        Encoding::LastRect,
        Encoding::TightQuality(7),
        Encoding::TightCompression(2),
    ];

    /// The number sent in SetEncodings. Levels above 9 are sent as 9.
    pub fn code(self) -> i32 {
        match self {
            Encoding::Raw => 0,
            Encoding::CopyRect => 1,
            Encoding::Tight => 7,
            Encoding::Zrle => 16,
            Encoding::Cursor => -239,
            Encoding::DesktopSize => -223,
            Encoding::ExtendedDesktopSize => -308,
            Encoding::LastRect => -224,
            Encoding::TightQuality(level) => -32 + i32::from(level.min(9)),
            Encoding::TightCompression(level) => -256 + i32::from(level.min(9)),
        }
    }
}

/// How to connect: the password for VNC Authentication, the ClientInit
/// shared flag, the encodings to offer, and the limits.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// For VNC Authentication; only the first 8 bytes count (RFC 6143 §7.2.2).
    pub password: Option<String>,
    /// ClientInit shared-flag: `true` leaves other viewers connected.
    pub shared: bool,
    pub limits: Limits,
    /// Sent in this order in SetEncodings; the server may use only these
    /// (and Raw). Tests use it to force one encoding.
    pub encodings: Vec<Encoding>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            password: None,
            shared: true,
            limits: Limits::default(),
            encodings: Encoding::PREFERRED.to_vec(),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("shared", &self.shared)
            .field("limits", &self.limits)
            .field("encodings", &self.encodings)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let config = ClientConfig {
            password: Some("hunter22".into()),
            ..ClientConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter22"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    #[test]
    fn pseudo_encoding_numbers_follow_the_registry() {
        assert_eq!(Encoding::TightQuality(0).code(), -32);
        assert_eq!(Encoding::TightQuality(7).code(), -25);
        assert_eq!(Encoding::TightQuality(200).code(), -23);
        assert_eq!(Encoding::TightCompression(2).code(), -254);
        assert_eq!(Encoding::ExtendedDesktopSize.code(), -308);
    }
}
