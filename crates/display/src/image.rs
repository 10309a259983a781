//! Encoding screen regions for the browser: lossless PNG for text and user interfaces, JPEG for
//! photo-like regions where PNG would be many times larger.

/// JPEG quality for photo-like regions: text inside them stays legible.
const JPEG_QUALITY: u8 = 80;

#[derive(Debug)]
pub struct Encoded {
    pub mimetype: &'static str,
    pub bytes: Vec<u8>,
}

/// Drops alpha: the remote screen is opaque, and RGB images are a quarter smaller.
fn rgb_of(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

/// The colour of a region whose pixels are all the same, if they are.
pub fn solid_colour(rgba: &[u8]) -> Option<[u8; 3]> {
    let first = rgba.get(..3)?;
    rgba.chunks_exact(4)
        .all(|p| &p[..3] == first)
        .then(|| [first[0], first[1], first[2]])
}

/// A region "looks photographic" when a sample of it has many distinct colours: UI and text
/// use few colours (PNG compresses them well and JPEG would blur them), photos and gradients
/// use many.
pub fn looks_photographic(rgba: &[u8], width: u32, height: u32) -> bool {
    let pixels = (width as usize) * (height as usize);
    if pixels < 64 * 64 {
        return false;
    }
    let step = (pixels / 1024).max(1);
    let mut seen = std::collections::HashSet::with_capacity(256);
    for p in rgba.chunks_exact(4).step_by(step) {
        seen.insert([p[0], p[1], p[2]]);
        if seen.len() > 192 {
            return true;
        }
    }
    false
}

pub fn encode(rgba: &[u8], width: u32, height: u32) -> Result<Encoded, String> {
    if looks_photographic(rgba, width, height) {
        encode_jpeg(rgba, width, height)
    } else {
        encode_png(rgba, width, height)
    }
}

pub fn encode_png(rgba: &[u8], width: u32, height: u32) -> Result<Encoded, String> {
    // Text and user interfaces use few colours: an indexed PNG of 1–4 bits per pixel is several
    // times smaller than RGB before compression even starts (what noVNC's Tight and ZRLE
    // palettes exploit too).
    if let Some(bytes) = encode_png_indexed(rgba, width, height)? {
        return Ok(Encoded {
            mimetype: "image/png",
            bytes,
        });
    }
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // Speed over the last few percent of size: frames are encoded on the session's task.
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(&rgb_of(rgba))
            .map_err(|e| e.to_string())?;
    }
    Ok(Encoded {
        mimetype: "image/png",
        bytes,
    })
}

/// An indexed PNG when the region has at most 256 colours, else `None`.
fn encode_png_indexed(rgba: &[u8], width: u32, height: u32) -> Result<Option<Vec<u8>>, String> {
    let mut palette: Vec<[u8; 3]> = Vec::with_capacity(16);
    let mut indices = Vec::with_capacity(rgba.len() / 4);
    // A tiny cache of the last colour: runs of one colour are the common case.
    let mut last: Option<([u8; 3], u8)> = None;
    for p in rgba.chunks_exact(4) {
        let colour = [p[0], p[1], p[2]];
        let index = match last {
            Some((c, i)) if c == colour => i,
            _ => {
                let i = match palette.iter().position(|&c| c == colour) {
                    Some(i) => i,
                    None if palette.len() < 256 => {
                        palette.push(colour);
                        palette.len() - 1
                    }
                    None => return Ok(None),
                };
                let i = i as u8; // INVARIANT: the palette holds at most 256 colours.
                last = Some((colour, i));
                i
            }
        };
        indices.push(index);
    }
    let bits: u8 = match palette.len() {
        0..=2 => 1,
        3..=4 => 2,
        5..=16 => 4,
        _ => 8,
    };
    // Pack each row: PNG rows start on a byte boundary, most significant bits first.
    let per_byte = 8 / usize::from(bits);
    let row_bytes = (width as usize).div_ceil(per_byte);
    let mut packed = vec![0u8; row_bytes * height as usize];
    for (y, row) in indices.chunks(width.max(1) as usize).enumerate() {
        for (x, &index) in row.iter().enumerate() {
            let shift = 8 - usize::from(bits) * (x % per_byte + 1);
            packed[y * row_bytes + x / per_byte] |= index << shift;
        }
    }
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(match bits {
            1 => png::BitDepth::One,
            2 => png::BitDepth::Two,
            4 => png::BitDepth::Four,
            _ => png::BitDepth::Eight,
        });
        encoder.set_palette(palette.concat());
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(&packed)
            .map_err(|e| e.to_string())?;
    }
    Ok(Some(bytes))
}

/// A picture of the whole screen at most `max_width` wide (box-averaged), for the player's
/// time line.
pub fn thumbnail(screen: &dyn crate::display::Screen, max_width: u32) -> Result<Encoded, String> {
    let (width, height) = (screen.width(), screen.height());
    if width == 0 || height == 0 {
        return Err("empty screen".to_owned());
    }
    let scale = width.div_ceil(max_width.max(1)).max(1);
    let (tw, th) = (width.div_ceil(scale), height.div_ceil(scale));
    let full = screen.region_rgba(crate::region::Rect::new(0, 0, width, height));
    let mut out = vec![0u8; (tw * th * 4) as usize];
    for ty in 0..th {
        for tx in 0..tw {
            let mut sum = [0u32; 3];
            let mut n = 0;
            for y in ty * scale..((ty + 1) * scale).min(height) {
                for x in tx * scale..((tx + 1) * scale).min(width) {
                    let i = ((y * width + x) * 4) as usize;
                    if let Some(px) = full.get(i..i + 3) {
                        for c in 0..3 {
                            sum[c] += u32::from(px[c]);
                        }
                        n += 1;
                    }
                }
            }
            let o = ((ty * tw + tx) * 4) as usize;
            for c in 0..3 {
                out[o + c] = u8::try_from(sum[c] / n.max(1)).unwrap_or(u8::MAX);
            }
            out[o + 3] = 0xff;
        }
    }
    encode(&out, tw, th)
}

/// PNG with alpha, for cursor shapes.
pub fn encode_png_rgba(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgba).map_err(|e| e.to_string())?;
    }
    Ok(bytes)
}

pub fn encode_jpeg(rgba: &[u8], width: u32, height: u32) -> Result<Encoded, String> {
    let (w, h) = (
        u16::try_from(width).map_err(|_| "image too wide for JPEG".to_owned())?,
        u16::try_from(height).map_err(|_| "image too tall for JPEG".to_owned())?,
    );
    let mut bytes = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut bytes, JPEG_QUALITY);
    encoder
        .encode(&rgb_of(rgba), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| e.to_string())?;
    Ok(Encoded {
        mimetype: "image/jpeg",
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_regions_are_png_and_noisy_ones_jpeg() {
        let flat = vec![200u8; 128 * 128 * 4];
        assert_eq!(encode(&flat, 128, 128).unwrap().mimetype, "image/png");
        // A deterministic "photo": every pixel a different colour.
        let noisy: Vec<u8> = (0..128u32 * 128)
            .flat_map(|i| {
                let v = i.wrapping_mul(2_654_435_761);
                [(v >> 8) as u8, (v >> 16) as u8, (v >> 24) as u8, 255]
            })
            .collect();
        let encoded = encode(&noisy, 128, 128).unwrap();
        assert_eq!(encoded.mimetype, "image/jpeg");
        assert_eq!(&encoded.bytes[..2], &[0xFF, 0xD8]);
        // Small regions stay lossless whatever they hold.
        assert_eq!(
            encode(&noisy[..16 * 16 * 4], 16, 16).unwrap().mimetype,
            "image/png"
        );
    }

    #[test]
    fn solid_regions_are_recognised() {
        assert_eq!(solid_colour(&[1, 2, 3, 255, 1, 2, 3, 255]), Some([1, 2, 3]));
        assert_eq!(solid_colour(&[1, 2, 3, 255, 1, 2, 4, 255]), None);
        assert_eq!(solid_colour(&[]), None);
    }

    /// Decodes a PNG back to RGB with the png crate, expanding palettes.
    fn decode_rgb(bytes: &[u8]) -> Vec<u8> {
        let mut decoder = png::Decoder::new(bytes);
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut out = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut out).unwrap();
        out.truncate(info.buffer_size());
        out
    }

    #[test]
    fn few_colour_regions_become_indexed_pngs_that_decode_to_the_same_pixels() {
        for colours in [2u32, 3, 9, 200, 300] {
            let (w, h) = (37u32, 11u32);
            let rgba: Vec<u8> = (0..w * h)
                .flat_map(|i| {
                    let c = (i * 7919) % colours;
                    [(c * 13) as u8, ((c * 29) >> 2) as u8, (c * 3) as u8, 255]
                })
                .collect();
            let png = encode_png(&rgba, w, h).unwrap().bytes;
            assert_eq!(decode_rgb(&png), rgb_of(&rgba), "{colours} colours");
            let indexed = encode_png_indexed(&rgba, w, h).unwrap();
            assert_eq!(indexed.is_some(), colours <= 256, "{colours} colours");
        }
    }

    #[test]
    fn png_output_is_a_png() {
        let bytes = encode_png(&[0, 0, 0, 255, 255, 255, 255, 255], 2, 1)
            .unwrap()
            .bytes;
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
