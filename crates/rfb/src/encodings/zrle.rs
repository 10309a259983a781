//! ZRLE encoding (RFC 6143 §7.7.6): a u32 length, then that much of one
//! zlib stream that lasts the whole connection; inflated, it is 64×64 tiles
//! left to right, top to bottom, each a subencoding byte and its data.
//! With our pixel format a CPIXEL is 3 bytes: R, G, B.

use flate2::Decompress;

use super::inflate_bounded;
use crate::config::Limits;
use crate::error::RfbError;
use crate::framebuffer::{Framebuffer, Rect};
use crate::reader::{Reader, Step};

const TILE: u16 = 64;
const CPIXEL: usize = 3;

/// Reads the compressed data of one rectangle.
pub(crate) fn read<'a>(r: &mut Reader<'a>, limits: &Limits) -> Step<&'a [u8]> {
    let len = r.u32()?;
    if len > limits.max_compressed_len {
        return Err(RfbError::limit("a ZRLE data length", len, limits.max_compressed_len).into());
    }
    r.bytes(len as usize)
}

/// The most inflated bytes `rect` can need: per pixel at most 4 (a plain-RLE
/// run of one: CPIXEL and one length byte), per tile a subencoding byte and
/// a palette of at most 127 CPIXELs.
fn max_inflated(rect: Rect) -> usize {
    let tiles = usize::from(rect.width.div_ceil(TILE)) * usize::from(rect.height.div_ceil(TILE));
    rect.area() * (CPIXEL + 1) + tiles * (1 + 127 * CPIXEL)
}

/// Inflates and draws one rectangle. `rect` lies inside `fb`.
pub(crate) fn decode(
    z: &mut Decompress,
    compressed: &[u8],
    rect: Rect,
    fb: &mut Framebuffer,
) -> Result<(), RfbError> {
    let data = inflate_bounded(z, compressed, max_inflated(rect))?;
    let mut src = Tiles {
        data: &data,
        pos: 0,
    };
    let mut ty = 0;
    while ty < rect.height {
        let th = TILE.min(rect.height - ty);
        let mut tx = 0;
        while tx < rect.width {
            let tw = TILE.min(rect.width - tx);
            decode_tile(&mut src, Rect::new(rect.x + tx, rect.y + ty, tw, th), fb)?;
            tx += tw;
        }
        ty += th;
    }
    if src.pos != data.len() {
        return Err(RfbError::Decode(format!(
            "ZRLE rectangle has {} bytes more than its tiles use",
            data.len() - src.pos
        )));
    }
    Ok(())
}

struct Tiles<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Tiles<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RfbError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len());
        let Some(end) = end else {
            return Err(RfbError::Decode("ZRLE data ends inside a tile".into()));
        };
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, RfbError> {
        Ok(self.take(1)?[0])
    }

    fn cpixel(&mut self) -> Result<[u8; 3], RfbError> {
        let p = self.take(CPIXEL)?;
        Ok([p[0], p[1], p[2]])
    }

    fn palette(&mut self, size: usize) -> Result<Vec<[u8; 3]>, RfbError> {
        (0..size).map(|_| self.cpixel()).collect()
    }

    /// §7.7.6: run length − 1 is the sum of the bytes up to and including
    /// the first that is not 255. Refuses a run longer than `room`.
    fn run_length(&mut self, room: usize) -> Result<usize, RfbError> {
        let mut len = 1usize;
        loop {
            let b = self.u8()?;
            len += usize::from(b);
            if len > room {
                return Err(RfbError::Decode(
                    "ZRLE run goes past the end of its tile".into(),
                ));
            }
            if b != 255 {
                return Ok(len);
            }
        }
    }
}

fn decode_tile(src: &mut Tiles, tile: Rect, fb: &mut Framebuffer) -> Result<(), RfbError> {
    let pixels = tile.area();
    let width = usize::from(tile.width);
    let sub = src.u8()?;
    match sub {
        // Raw CPIXELs.
        0 => fb.put_rgb(tile, src.take(pixels * CPIXEL)?),
        // Solid.
        1 => fb.fill(tile, src.cpixel()?),
        // Packed palette: indices of 1, 2 or 4 bits, rows padded to a byte.
        2..=16 => {
            let palette = src.palette(usize::from(sub))?;
            let bits = match sub {
                2 => 1,
                3..=4 => 2,
                _ => 4,
            };
            let row_bytes = (width * bits).div_ceil(8);
            for row in 0..tile.height {
                let packed = src.take(row_bytes)?;
                let out = fb.row_mut(tile, row);
                for (x, px) in out.chunks_exact_mut(4).enumerate() {
                    let bit = x * bits;
                    let index = (packed[bit / 8] >> (8 - bits - bit % 8)) & ((1 << bits) - 1);
                    let Some(rgb) = palette.get(usize::from(index)) else {
                        return Err(RfbError::Decode(format!(
                            "ZRLE palette index {index} in a palette of {sub}"
                        )));
                    };
                    px[..3].copy_from_slice(rgb);
                    px[3] = 255;
                }
            }
        }
        // Plain RLE: (CPIXEL, run length) pairs.
        128 => {
            let mut written = 0;
            while written < pixels {
                let rgb = src.cpixel()?;
                let run = src.run_length(pixels - written)?;
                put_run(fb, tile, written, run, rgb);
                written += run;
            }
        }
        // Palette RLE: an index with the top bit set is followed by a run length.
        130..=255 => {
            let size = usize::from(sub - 128);
            let palette = src.palette(size)?;
            let mut written = 0;
            while written < pixels {
                let b = src.u8()?;
                let index = usize::from(b & 0x7F);
                let Some(&rgb) = palette.get(index) else {
                    return Err(RfbError::Decode(format!(
                        "ZRLE palette index {index} in a palette of {size}"
                    )));
                };
                let run = if b & 0x80 != 0 {
                    src.run_length(pixels - written)?
                } else {
                    1
                };
                put_run(fb, tile, written, run, rgb);
                written += run;
            }
        }
        _ => {
            return Err(RfbError::Decode(format!(
                "ZRLE tile subencoding {sub} is not defined"
            )));
        }
    }
    Ok(())
}

/// Writes `run` pixels of `rgb` starting at pixel `start` of `tile`
/// (row-major inside the tile).
fn put_run(fb: &mut Framebuffer, tile: Rect, start: usize, run: usize, rgb: [u8; 3]) {
    let width = usize::from(tile.width);
    let mut at = start;
    let end = start + run;
    while at < end {
        let row = at / width;
        let x = at % width;
        let n = (width - x).min(end - at);
        let out = fb.row_mut(tile, row as u16);
        for px in out[x * 4..(x + n) * 4].chunks_exact_mut(4) {
            px[..3].copy_from_slice(&rgb);
            px[3] = 255;
        }
        at += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encodings::test_support::Deflater;

    const RED: [u8; 3] = [255, 0, 0];
    const BLUE: [u8; 3] = [0, 0, 255];

    fn decode_plain(tiles: &[u8], rect: Rect, fb: &mut Framebuffer) -> Result<(), RfbError> {
        let chunk = Deflater::new().chunk(tiles);
        decode(&mut Decompress::new(true), &chunk, rect, fb)
    }

    fn rgb(fb: &Framebuffer, x: u16, y: u16) -> [u8; 3] {
        let p = fb.pixel(x, y);
        [p[0], p[1], p[2]]
    }

    #[test]
    fn every_subencoding_draws_its_tile() {
        let mut fb = Framebuffer::new(4, 2);
        let rect = Rect::new(0, 0, 4, 2);
        // Raw.
        let mut raw = vec![0];
        for i in 0..8u8 {
            raw.extend_from_slice(&[i, 2 * i, 3 * i]);
        }
        decode_plain(&raw, rect, &mut fb).unwrap();
        assert_eq!(rgb(&fb, 3, 1), [7, 14, 21]);
        // Solid.
        decode_plain(&[1, 255, 0, 0], rect, &mut fb).unwrap();
        assert!((0..4).all(|x| rgb(&fb, x, 1) == RED));
        // Packed palette of 2: rows "1010" and "0110", padded to a byte.
        decode_plain(
            &[2, 255, 0, 0, 0, 0, 255, 0b1010_0000, 0b0110_0000],
            rect,
            &mut fb,
        )
        .unwrap();
        assert_eq!([rgb(&fb, 0, 0), rgb(&fb, 1, 0)], [BLUE, RED]);
        assert_eq!(
            [rgb(&fb, 0, 1), rgb(&fb, 1, 1), rgb(&fb, 3, 1)],
            [RED, BLUE, RED]
        );
        // Packed palette of 5 (4-bit indices).
        let mut packed = vec![5];
        for i in 0..5u8 {
            packed.extend_from_slice(&[i, i, i]);
        }
        packed.extend_from_slice(&[0x01, 0x23, 0x44, 0x44]);
        decode_plain(&packed, rect, &mut fb).unwrap();
        assert_eq!(
            [rgb(&fb, 1, 0), rgb(&fb, 3, 0), rgb(&fb, 0, 1)],
            [[1; 3], [3; 3], [4; 3]]
        );
        // Plain RLE: 3 red, 5 blue (across the row end).
        decode_plain(&[128, 255, 0, 0, 2, 0, 0, 255, 4], rect, &mut fb).unwrap();
        assert_eq!(
            [rgb(&fb, 2, 0), rgb(&fb, 3, 0), rgb(&fb, 3, 1)],
            [RED, BLUE, BLUE]
        );
        // Palette RLE: blue once, then red ×7.
        decode_plain(&[130, 255, 0, 0, 0, 0, 255, 1, 0x80, 6], rect, &mut fb).unwrap();
        assert_eq!(
            [rgb(&fb, 0, 0), rgb(&fb, 1, 0), rgb(&fb, 3, 1)],
            [BLUE, RED, RED]
        );
    }

    #[test]
    fn tiles_are_64_pixels_and_runs_of_255_continue() {
        // 70×1 is two tiles (64 + 6); the first is a plain-RLE run of 64 =
        // 1 + 63, the second solid.
        let mut fb = Framebuffer::new(70, 1);
        let rect = Rect::new(0, 0, 70, 1);
        decode_plain(&[128, 1, 2, 3, 63, 1, 9, 9, 9], rect, &mut fb).unwrap();
        assert_eq!([rgb(&fb, 63, 0), rgb(&fb, 64, 0)], [[1, 2, 3], [9, 9, 9]]);
        // A 300-pixel run needs 255 + 44.
        let mut fb = Framebuffer::new(20, 15);
        let rect = Rect::new(0, 0, 20, 15);
        decode_plain(&[128, 5, 5, 5, 255, 44], rect, &mut fb).unwrap();
        assert_eq!(rgb(&fb, 19, 14), [5, 5, 5]);
    }

    #[test]
    fn lies_about_tiles_are_decode_errors() {
        let mut fb = Framebuffer::new(4, 2);
        let rect = Rect::new(0, 0, 4, 2);
        let cases: [(&[u8], &str); 6] = [
            (&[1, 255, 0], "ends inside a tile"),
            (&[1, 255, 0, 0, 7], "bytes more"),
            (&[128, 1, 1, 1, 8], "past the end"),
            (
                &[3, 0, 0, 0, 1, 1, 1, 2, 2, 2, 0b1100_0000, 0],
                "palette index 3",
            ),
            (&[130, 0, 0, 0, 1, 1, 1, 0x05], "palette index 5"),
            (&[129], "subencoding 129"),
        ];
        for (tiles, want) in cases {
            let err = decode_plain(tiles, rect, &mut fb).unwrap_err();
            assert!(err.to_string().contains(want), "{tiles:?}: {err}");
        }
    }

    #[test]
    fn a_zlib_bomb_ends_the_rectangle() {
        let chunk = Deflater::new().chunk(&vec![1; 20 << 20]);
        let mut fb = Framebuffer::new(8, 8);
        let err = decode(
            &mut Decompress::new(true),
            &chunk,
            Rect::new(0, 0, 8, 8),
            &mut fb,
        );
        assert!(
            matches!(err, Err(RfbError::Decode(ref m)) if m.contains("inflates")),
            "{err:?}"
        );
    }
}
