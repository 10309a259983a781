//! ZRLE encoding, RFC 6143 §7.7.6: 64×64 tiles, each solid, packed-palette or raw, through one
//! zlib stream that lives as long as the connection.

use flate2::{Compress, Compression, FlushCompress};

use crate::desktop::Desktop;
use crate::pixel::PixelFormat;
use crate::region::Rect;

const TILE: u16 = 64;
const MAX_PALETTE: usize = 16;

/// The connection's compressor. RFC 6143 §7.7.6: "the zlib stream is ... shared by all ZRLE
/// rectangles", so it is never reset.
#[derive(Debug)]
pub(crate) struct ZrleEncoder {
    zlib: Compress,
    tiles: Vec<u8>,
}

/// The compressor failed; the stream is no longer in step with the client's, so the connection
/// must stop using ZRLE.
#[derive(Debug)]
pub(crate) struct ZrleBroken;

impl ZrleEncoder {
    pub(crate) fn new() -> Self {
        Self {
            // Fast compression: the demo's flat colours compress well at any level, and load
            // tests should measure the gateway, not this encoder.
            zlib: Compress::new(Compression::fast(), true),
            tiles: Vec::new(),
        }
    }

    /// Appends the ZRLE data of `rect` (its `u32` length, then the compressed tiles).
    pub(crate) fn encode(
        &mut self,
        desktop: &Desktop,
        rect: Rect,
        format: PixelFormat,
        out: &mut Vec<u8>,
    ) -> Result<(), ZrleBroken> {
        self.tiles.clear();
        let cpixel = format.compressed_pixel_bytes();
        let mut colours: Vec<[u8; 3]> = Vec::with_capacity(usize::from(TILE) * usize::from(TILE));
        let mut palette: Vec<[u8; 3]> = Vec::with_capacity(MAX_PALETTE);
        for ty in (rect.y..rect.y + rect.height).step_by(usize::from(TILE)) {
            let th = TILE.min(rect.y + rect.height - ty);
            for tx in (rect.x..rect.x + rect.width).step_by(usize::from(TILE)) {
                let tw = TILE.min(rect.x + rect.width - tx);
                colours.clear();
                palette.clear();
                for y in ty..ty + th {
                    for px in desktop.row(Rect::new(tx, y, tw, 1), y).chunks_exact(4) {
                        let c = [px[0], px[1], px[2]];
                        colours.push(c);
                        if palette.len() <= MAX_PALETTE && !palette.contains(&c) {
                            palette.push(c);
                        }
                    }
                }
                let push = |tiles: &mut Vec<u8>, c: [u8; 3]| {
                    tiles.extend_from_slice(&format.encode(c)[cpixel.clone()]);
                };
                match palette.len() {
                    // Subencoding 1: one colour.
                    1 => {
                        self.tiles.push(1);
                        push(&mut self.tiles, palette[0]);
                    }
                    // Subencodings 2–16: a palette, then each row's indices packed MSB first
                    // at 1, 2 or 4 bits, rows padded to a whole byte.
                    n @ 2..=MAX_PALETTE => {
                        self.tiles.push(n as u8);
                        for &c in &palette {
                            push(&mut self.tiles, c);
                        }
                        let bits = match n {
                            2 => 1,
                            3..=4 => 2,
                            _ => 4,
                        };
                        for row in colours.chunks(usize::from(tw)) {
                            let mut byte = 0u8;
                            let mut used = 0;
                            for c in row {
                                let index = palette.iter().position(|p| p == c).unwrap_or(0) as u8;
                                byte |= index << (8 - bits - used);
                                used += bits;
                                if used == 8 {
                                    self.tiles.push(byte);
                                    byte = 0;
                                    used = 0;
                                }
                            }
                            if used > 0 {
                                self.tiles.push(byte);
                            }
                        }
                    }
                    // Subencoding 0: every pixel.
                    _ => {
                        self.tiles.push(0);
                        for &c in &colours {
                            push(&mut self.tiles, c);
                        }
                    }
                }
            }
        }

        // Compress with a sync flush so the client can decode this rectangle now.
        let mut compressed = Vec::with_capacity(self.tiles.len() / 4 + 64);
        let mut consumed = 0;
        loop {
            if compressed.capacity() - compressed.len() < 64 {
                compressed.reserve(self.tiles.len() / 4 + 1024);
            }
            let before = self.zlib.total_in();
            self.zlib
                .compress_vec(
                    &self.tiles[consumed..],
                    &mut compressed,
                    FlushCompress::Sync,
                )
                .map_err(|_| ZrleBroken)?;
            consumed += usize::try_from(self.zlib.total_in() - before).map_err(|_| ZrleBroken)?;
            // Done once all input is in and the flush left spare room in the output.
            if consumed == self.tiles.len() && compressed.len() < compressed.capacity() {
                break;
            }
        }
        let length = u32::try_from(compressed.len()).map_err(|_| ZrleBroken)?;
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&compressed);
        Ok(())
    }
}
