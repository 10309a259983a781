//! Tight encoding (7), as TigerVNC, TightVNC and libvncserver send it.
//!
//! A compression-control byte: its low 4 bits reset zlib streams 0–3; its
//! high 4 bits say 8 = fill (one TPIXEL), 9 = JPEG, 0–7 = basic (bits 0–1:
//! the zlib stream, bit 2: a filter byte follows — 0 copy, 1 palette,
//! 2 gradient). Basic data shorter than 12 bytes is sent as it is; longer
//! data is a compact length (1–3 bytes, 7 bits each, then 8) and that much
//! zlib data. With our pixel format a TPIXEL is 3 bytes: R, G, B.

use flate2::Decompress;
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::{inflate_bounded, rgb_at};
use crate::config::Limits;
use crate::error::RfbError;
use crate::framebuffer::{Framebuffer, Rect};
use crate::reader::{Reader, Step};

/// Below this many bytes basic data is not compressed.
const MIN_TO_COMPRESS: usize = 12;
const TPIXEL: usize = 3;

/// The four zlib streams a Tight server keeps for the whole connection.
pub(crate) struct TightStreams([Decompress; 4]);

impl TightStreams {
    pub(crate) fn new() -> Self {
        TightStreams(std::array::from_fn(|_| Decompress::new(true)))
    }
}

/// One Tight rectangle, read but not yet applied.
#[derive(Debug)]
pub(crate) struct TightRect<'a> {
    resets: u8,
    kind: Kind<'a>,
}

#[derive(Debug)]
enum Kind<'a> {
    Fill([u8; 3]),
    Jpeg(&'a [u8]),
    Basic {
        stream: usize,
        filter: Filter<'a>,
        data: Data<'a>,
    },
}

#[derive(Debug)]
enum Filter<'a> {
    Copy,
    /// 1 to 256 TPIXELs; 2 or fewer colours use 1 bit per pixel.
    Palette(&'a [u8]),
    Gradient,
}

#[derive(Debug)]
enum Data<'a> {
    Plain(&'a [u8]),
    Zlib { compressed: &'a [u8], size: usize },
}

impl Filter<'_> {
    fn colours(&self) -> usize {
        match self {
            Filter::Palette(p) => p.len() / TPIXEL,
            _ => 0,
        }
    }

    /// Bytes of filtered data for `rect`.
    fn data_size(&self, rect: Rect) -> usize {
        let (w, h) = (usize::from(rect.width), usize::from(rect.height));
        match self.colours() {
            0 => w * h * TPIXEL,
            1..=2 => w.div_ceil(8) * h,
            _ => w * h,
        }
    }
}

/// The compact length: 7 bits per byte, high bit "more", at most 3 bytes
/// (the third contributes 8 bits), so at most 2^22 − 1.
fn compact_len(r: &mut Reader, limits: &Limits) -> Step<usize> {
    let mut len = 0usize;
    for (i, shift) in [0, 7, 14].into_iter().enumerate() {
        let b = r.u8()?;
        if i == 2 {
            len |= usize::from(b) << shift;
            break;
        }
        len |= usize::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            break;
        }
    }
    if len > limits.max_compressed_len as usize {
        return Err(
            RfbError::limit("a Tight data length", len as u64, limits.max_compressed_len).into(),
        );
    }
    Ok(len)
}

/// Reads one rectangle; touches no state.
pub(crate) fn read<'a>(r: &mut Reader<'a>, rect: Rect, limits: &Limits) -> Step<TightRect<'a>> {
    let control = r.u8()?;
    let resets = control & 0x0F;
    let kind = match control >> 4 {
        8 => {
            let p = r.bytes(TPIXEL)?;
            Kind::Fill([p[0], p[1], p[2]])
        }
        9 => {
            let len = compact_len(r, limits)?;
            Kind::Jpeg(r.bytes(len)?)
        }
        basic @ 0..=7 => {
            let filter = if basic & 0x04 != 0 {
                match r.u8()? {
                    0 => Filter::Copy,
                    1 => {
                        let colours = usize::from(r.u8()?) + 1;
                        Filter::Palette(r.bytes(colours * TPIXEL)?)
                    }
                    2 => Filter::Gradient,
                    other => {
                        return Err(RfbError::Decode(format!(
                            "Tight filter {other} is not defined"
                        ))
                        .into());
                    }
                }
            } else {
                Filter::Copy
            };
            let size = filter.data_size(rect);
            let data = if size < MIN_TO_COMPRESS {
                Data::Plain(r.bytes(size)?)
            } else {
                let len = compact_len(r, limits)?;
                Data::Zlib {
                    compressed: r.bytes(len)?,
                    size,
                }
            };
            Kind::Basic {
                stream: usize::from(basic & 0x03),
                filter,
                data,
            }
        }
        other => {
            // 10 is TightPNG, which we do not offer.
            return Err(
                RfbError::Decode(format!("Tight compression type {other} is not defined")).into(),
            );
        }
    };
    Ok(TightRect { resets, kind })
}

/// Which part of Tight a rectangle used, for [`crate::Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Used {
    Fill,
    Jpeg,
    Basic,
}

/// Applies one rectangle read by [`read`]. `rect` lies inside `fb`.
pub(crate) fn decode(
    streams: &mut TightStreams,
    tight: TightRect,
    rect: Rect,
    fb: &mut Framebuffer,
) -> Result<Used, RfbError> {
    for (i, stream) in streams.0.iter_mut().enumerate() {
        if tight.resets & (1 << i) != 0 {
            *stream = Decompress::new(true);
        }
    }
    match tight.kind {
        Kind::Fill(rgb) => {
            fb.fill(rect, rgb);
            Ok(Used::Fill)
        }
        Kind::Jpeg(jpeg) => {
            fb.put_rgb(rect, &decode_jpeg(jpeg, rect)?);
            Ok(Used::Jpeg)
        }
        Kind::Basic {
            stream,
            filter,
            data,
        } => {
            let inflated;
            let bytes = match data {
                Data::Plain(bytes) => bytes,
                Data::Zlib { compressed, size } => {
                    inflated = inflate_bounded(&mut streams.0[stream], compressed, size)?;
                    if inflated.len() != size {
                        return Err(RfbError::Decode(format!(
                            "Tight rectangle inflates to {} bytes; it needs {size}",
                            inflated.len()
                        )));
                    }
                    &inflated
                }
            };
            match filter {
                Filter::Copy => fb.put_rgb(rect, bytes),
                Filter::Palette(palette) => put_palette(fb, rect, palette, bytes)?,
                Filter::Gradient => fb.put_rgb(rect, &ungradient(rect, bytes)),
            }
            Ok(Used::Basic)
        }
    }
}

fn put_palette(
    fb: &mut Framebuffer,
    rect: Rect,
    palette: &[u8],
    bytes: &[u8],
) -> Result<(), RfbError> {
    let colours = palette.len() / TPIXEL;
    let width = usize::from(rect.width);
    let row_bytes = if colours <= 2 {
        width.div_ceil(8)
    } else {
        width
    };
    for (row, src) in (0..rect.height).zip(bytes.chunks_exact(row_bytes.max(1))) {
        for (x, px) in fb.row_mut(rect, row).chunks_exact_mut(4).enumerate() {
            let index = if colours <= 2 {
                usize::from((src[x / 8] >> (7 - x % 8)) & 1)
            } else {
                usize::from(src[x])
            };
            if index >= colours {
                return Err(RfbError::Decode(format!(
                    "Tight palette index {index} in a palette of {colours}"
                )));
            }
            px[..3].copy_from_slice(&rgb_at(palette, index));
            px[3] = 255;
        }
    }
    Ok(())
}

/// The gradient filter: each byte is the difference from the prediction
/// left + above − above-left, clamped to 0..=255, per colour channel; left
/// and above are 0 outside the rectangle.
fn ungradient(rect: Rect, bytes: &[u8]) -> Vec<u8> {
    let row_len = usize::from(rect.width) * TPIXEL;
    let mut out = vec![0u8; bytes.len()];
    for y in 0..usize::from(rect.height) {
        for i in 0..row_len {
            let at = y * row_len + i;
            let left = if i >= TPIXEL {
                i32::from(out[at - TPIXEL])
            } else {
                0
            };
            let (above, above_left) = if y > 0 {
                let up = at - row_len;
                let ul = if i >= TPIXEL {
                    i32::from(out[up - TPIXEL])
                } else {
                    0
                };
                (i32::from(out[up]), ul)
            } else {
                (0, 0)
            };
            let predicted = (left + above - above_left).clamp(0, 255) as u8;
            out[at] = bytes[at].wrapping_add(predicted);
        }
    }
    out
}

/// Decodes a JPEG that must be exactly `rect`'s size; the decoder is told
/// that size as its limit before it reads the image, so a lying header
/// cannot make it allocate more.
fn decode_jpeg(jpeg: &[u8], rect: Rect) -> Result<Vec<u8>, RfbError> {
    let options = DecoderOptions::default()
        .set_max_width(usize::from(rect.width).max(1))
        .set_max_height(usize::from(rect.height).max(1))
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(jpeg), options);
    let bad =
        |e: zune_jpeg::errors::DecodeErrors| RfbError::Decode(format!("bad Tight JPEG ({e})"));
    decoder.decode_headers().map_err(bad)?;
    let size = decoder.dimensions();
    if size != Some((usize::from(rect.width), usize::from(rect.height))) {
        return Err(RfbError::Decode(format!(
            "Tight JPEG is {size:?} pixels in a {}×{} rectangle",
            rect.width, rect.height
        )));
    }
    let mut rgb = vec![0u8; rect.area() * TPIXEL];
    decoder.decode_into(&mut rgb).map_err(bad)?;
    Ok(rgb)
}
