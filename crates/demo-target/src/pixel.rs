//! RFB pixel formats (RFC 6143 §7.4) and conversion from the desktop's RGB.

use crate::ServerError;

/// A true-colour pixel format a client asked for (colour maps are refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelFormat {
    pub bits_per_pixel: u8,
    pub depth: u8,
    pub big_endian: bool,
    pub red_max: u16,
    pub green_max: u16,
    pub blue_max: u16,
    pub red_shift: u8,
    pub green_shift: u8,
    pub blue_shift: u8,
}

impl PixelFormat {
    /// The format announced in ServerInit: 32 bits, depth 24, little-endian, `0x00RRGGBB`.
    pub const SERVER: PixelFormat = PixelFormat {
        bits_per_pixel: 32,
        depth: 24,
        big_endian: false,
        red_max: 255,
        green_max: 255,
        blue_max: 255,
        red_shift: 16,
        green_shift: 8,
        blue_shift: 0,
    };

    /// Parses and validates the 16-byte PIXEL_FORMAT of RFC 6143 §7.4.
    pub fn parse(bytes: &[u8; 16]) -> Result<Self, ServerError> {
        let bits_per_pixel = bytes[0];
        if bytes[3] == 0 {
            return Err(ServerError::ColourMapNotSupported { bits_per_pixel });
        }
        if !matches!(bits_per_pixel, 8 | 16 | 32) {
            return Err(ServerError::UnsupportedBitsPerPixel { bits_per_pixel });
        }
        let format = PixelFormat {
            bits_per_pixel,
            depth: bytes[1],
            big_endian: bytes[2] != 0,
            red_max: u16::from_be_bytes([bytes[4], bytes[5]]),
            green_max: u16::from_be_bytes([bytes[6], bytes[7]]),
            blue_max: u16::from_be_bytes([bytes[8], bytes[9]]),
            red_shift: bytes[10],
            green_shift: bytes[11],
            blue_shift: bytes[12],
        };
        // INVARIANT: every channel's maximum, shifted into place, fits in the pixel; `encode`
        // relies on it so shifts never overflow.
        for (max, shift) in [
            (format.red_max, format.red_shift),
            (format.green_max, format.green_shift),
            (format.blue_max, format.blue_shift),
        ] {
            let fits = u32::from(shift) < u32::from(bits_per_pixel)
                && (u64::from(max) << shift) < (1u64 << bits_per_pixel);
            if !fits {
                return Err(ServerError::ChannelOutsidePixel {
                    max,
                    shift,
                    bits_per_pixel,
                });
            }
        }
        Ok(format)
    }

    /// The 16-byte PIXEL_FORMAT encoding (true colour).
    pub fn to_bytes(self) -> [u8; 16] {
        let [rh, rl] = self.red_max.to_be_bytes();
        let [gh, gl] = self.green_max.to_be_bytes();
        let [bh, bl] = self.blue_max.to_be_bytes();
        [
            self.bits_per_pixel,
            self.depth,
            u8::from(self.big_endian),
            1,
            rh,
            rl,
            gh,
            gl,
            bh,
            bl,
            self.red_shift,
            self.green_shift,
            self.blue_shift,
            0,
            0,
            0,
        ]
    }

    pub fn bytes_per_pixel(self) -> usize {
        usize::from(self.bits_per_pixel / 8)
    }

    /// The pixel value of an 8-bit-per-channel colour, scaled to each channel's maximum.
    pub fn pixel_value(self, rgb: [u8; 3]) -> u32 {
        let scale = |c: u8, max: u16| (u32::from(c) * u32::from(max) + 127) / 255;
        (scale(rgb[0], self.red_max) << self.red_shift)
            | (scale(rgb[1], self.green_max) << self.green_shift)
            | (scale(rgb[2], self.blue_max) << self.blue_shift)
    }

    /// One PIXEL in this format (RFC 6143 §7.4): the first `bits_per_pixel / 8` bytes of the
    /// result, in the format's byte order.
    pub fn encode(self, rgb: [u8; 3]) -> [u8; 4] {
        let value = self.pixel_value(rgb);
        // The parse invariant keeps the value within 16 or 8 bits for the smaller sizes.
        match (self.bits_per_pixel, self.big_endian) {
            (32, false) => value.to_le_bytes(),
            (32, true) => value.to_be_bytes(),
            (16, false) => {
                let [a, b] = (value as u16).to_le_bytes();
                [a, b, 0, 0]
            }
            (16, true) => {
                let [a, b] = (value as u16).to_be_bytes();
                [a, b, 0, 0]
            }
            _ => [value as u8, 0, 0, 0],
        }
    }

    /// Appends one PIXEL in this format.
    pub fn push_pixel(self, rgb: [u8; 3], out: &mut Vec<u8>) {
        out.extend_from_slice(&self.encode(rgb)[..self.bytes_per_pixel()]);
    }

    /// Appends the pixels of RGBA8 `rgba` in this format. Per-channel tables make this a few
    /// lookups per pixel, which matters for full-screen Raw updates.
    pub fn push_rgba_row(self, rgba: &[u8], out: &mut Vec<u8>) {
        let table = |max: u16, shift: u8| -> [u32; 256] {
            std::array::from_fn(|c| ((c as u32 * u32::from(max) + 127) / 255) << shift)
        };
        let (r, g, b) = (
            table(self.red_max, self.red_shift),
            table(self.green_max, self.green_shift),
            table(self.blue_max, self.blue_shift),
        );
        let bpp = self.bytes_per_pixel();
        out.reserve(rgba.len() / 4 * bpp);
        for px in rgba.chunks_exact(4) {
            let value = r[usize::from(px[0])] | g[usize::from(px[1])] | b[usize::from(px[2])];
            // The parse invariant keeps the value within 16 or 8 bits for the smaller sizes.
            match (bpp, self.big_endian) {
                (4, false) => out.extend_from_slice(&value.to_le_bytes()),
                (4, true) => out.extend_from_slice(&value.to_be_bytes()),
                (2, false) => out.extend_from_slice(&(value as u16).to_le_bytes()),
                (2, true) => out.extend_from_slice(&(value as u16).to_be_bytes()),
                _ => out.push(value as u8),
            }
        }
    }

    /// RFC 6143 §7.7.6: ZRLE's CPIXEL drops the unused byte of a 32-bit true-colour pixel when
    /// the depth is at most 24 and all colour bits sit in the three low or the three high bytes.
    /// Returns which bytes of the PIXEL encoding to keep.
    pub fn compressed_pixel_bytes(self) -> std::ops::Range<usize> {
        if self.bits_per_pixel != 32 || self.depth > 24 {
            return 0..self.bytes_per_pixel();
        }
        let mask = (u32::from(self.red_max) << self.red_shift)
            | (u32::from(self.green_max) << self.green_shift)
            | (u32::from(self.blue_max) << self.blue_shift);
        let fits_low = mask & 0xff00_0000 == 0;
        let fits_high = mask & 0x0000_00ff == 0;
        match (fits_low, fits_high, self.big_endian) {
            // Little-endian puts the low byte first; big-endian puts it last.
            (true, _, false) | (false, true, true) => 0..3,
            (true, _, true) | (false, true, false) => 1..4,
            (false, false, _) => 0..4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_bytes(
        bpp: u8,
        depth: u8,
        big: u8,
        true_colour: u8,
        max: [u16; 3],
        shift: [u8; 3],
    ) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0] = bpp;
        b[1] = depth;
        b[2] = big;
        b[3] = true_colour;
        b[4..6].copy_from_slice(&max[0].to_be_bytes());
        b[6..8].copy_from_slice(&max[1].to_be_bytes());
        b[8..10].copy_from_slice(&max[2].to_be_bytes());
        b[10..13].copy_from_slice(&shift);
        b
    }

    #[test]
    fn bgr_big_endian_32_bit_places_channels_by_shift() {
        let f = PixelFormat::parse(&format_bytes(32, 24, 1, 1, [255; 3], [0, 8, 16])).unwrap();
        let mut out = Vec::new();
        f.push_pixel([0x11, 0x22, 0x33], &mut out);
        assert_eq!(out, [0x00, 0x33, 0x22, 0x11]);
    }

    #[test]
    fn rgb565_little_endian_scales_channels() {
        let f = PixelFormat::parse(&format_bytes(16, 16, 0, 1, [31, 63, 31], [11, 5, 0])).unwrap();
        let mut out = Vec::new();
        f.push_pixel([255, 0, 255], &mut out);
        assert_eq!(u16::from_le_bytes([out[0], out[1]]), 0xf81f);
    }

    proptest::proptest! {
        #[test]
        fn row_conversion_matches_single_pixels(
            layout in proptest::array::uniform10(proptest::prelude::any::<u16>()),
            rgba in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            // Any valid true-colour format: per channel a width of 1–8 bits, a maximum that fits
            // in it, and a shift that keeps it inside the pixel.
            let bpp = [8u8, 16, 32][usize::from(layout[0] % 3)];
            let mut bytes = [0u8; 16];
            bytes[0] = bpp;
            bytes[1] = bpp.min(24);
            bytes[2] = u8::from(layout[1] % 2 == 1);
            bytes[3] = 1;
            for ch in 0..3 {
                let bits = 1 + (layout[2 + ch] % u16::from(bpp.min(8)));
                let max = layout[5 + ch] % (1 << bits);
                let shift = (layout[8 + ch / 2] >> (ch * 5)) % (u16::from(bpp) - bits + 1);
                bytes[4 + 2 * ch..6 + 2 * ch].copy_from_slice(&max.to_be_bytes());
                bytes[10 + ch] = shift as u8;
            }
            let f = PixelFormat::parse(&bytes).unwrap();
            let rgba = &rgba[..rgba.len() / 4 * 4];
            let mut row = Vec::new();
            f.push_rgba_row(rgba, &mut row);
            let mut single = Vec::new();
            for px in rgba.chunks_exact(4) {
                f.push_pixel([px[0], px[1], px[2]], &mut single);
            }
            proptest::prop_assert_eq!(row, single);
        }
    }

    #[test]
    fn colour_map_and_odd_sizes_are_refused() {
        assert!(matches!(
            PixelFormat::parse(&format_bytes(8, 8, 0, 0, [0; 3], [0; 3])),
            Err(ServerError::ColourMapNotSupported { bits_per_pixel: 8 })
        ));
        assert!(matches!(
            PixelFormat::parse(&format_bytes(24, 24, 0, 1, [255; 3], [16, 8, 0])),
            Err(ServerError::UnsupportedBitsPerPixel { bits_per_pixel: 24 })
        ));
        assert!(matches!(
            PixelFormat::parse(&format_bytes(16, 16, 0, 1, [255; 3], [16, 8, 0])),
            Err(ServerError::ChannelOutsidePixel { .. })
        ));
    }

    #[test]
    fn compressed_pixel_keeps_the_colour_bytes() {
        assert_eq!(PixelFormat::SERVER.compressed_pixel_bytes(), 0..3);
        let high = PixelFormat {
            red_shift: 24,
            green_shift: 16,
            blue_shift: 8,
            ..PixelFormat::SERVER
        };
        assert_eq!(high.compressed_pixel_bytes(), 1..4);
        let high_be = PixelFormat {
            big_endian: true,
            ..high
        };
        assert_eq!(high_be.compressed_pixel_bytes(), 0..3);
        let deep = PixelFormat {
            depth: 32,
            ..PixelFormat::SERVER
        };
        assert_eq!(deep.compressed_pixel_bytes(), 0..4);
    }
}
