//! Rectangle decoders (RFC 6143 §7.7, §7.8, and the Tight encoding).
//!
//! Each decoder is split in two: `read` takes from the input everything the
//! rectangle needs (checking every length against [`crate::Limits`] as soon
//! as it is read) without touching any state, and `decode`/`apply` then
//! updates the zlib streams and the framebuffer. So a rectangle whose bytes
//! have not all arrived leaves no trace, and is read again later.

pub(crate) mod copyrect;
pub(crate) mod cursor;
pub(crate) mod raw;
pub(crate) mod tight;
pub(crate) mod zrle;

use flate2::{Decompress, FlushDecompress, Status};

use crate::error::RfbError;

/// Inflates `input` (one rectangle's slice of a persistent zlib stream) and
/// returns its output, refusing to produce more than `max_out` bytes: the
/// caller computes `max_out` from the rectangle's size, so a zlib bomb ends
/// the session after at most that much work and memory.
pub(crate) fn inflate_bounded(
    z: &mut Decompress,
    input: &[u8],
    max_out: usize,
) -> Result<Vec<u8>, RfbError> {
    // Grow the output as it fills rather than reserving `max_out` upfront:
    // most rectangles inflate to far less than their bound.
    let mut out = vec![
        0u8;
        max_out
            .min(input.len().saturating_mul(8))
            .clamp(64, 1 << 20)
    ];
    let mut produced = 0usize;
    let mut consumed = 0usize;
    loop {
        if produced == out.len() {
            if out.len() > max_out {
                return Err(zlib_too_long(max_out));
            }
            // One byte of slack past the bound shows whether there is more.
            let grown = out.len().saturating_mul(2).min(max_out + 1);
            out.resize(grown, 0);
        }
        let (in_before, out_before) = (z.total_in(), z.total_out());
        let status = z
            .decompress(
                &input[consumed..],
                &mut out[produced..],
                FlushDecompress::Sync,
            )
            .map_err(|e| RfbError::Decode(format!("corrupt zlib data ({e})")))?;
        let used = (z.total_in() - in_before) as usize;
        let made = (z.total_out() - out_before) as usize;
        consumed += used;
        produced += made;
        if produced > max_out {
            return Err(zlib_too_long(max_out));
        }
        let all_input_used = consumed == input.len();
        match status {
            Status::StreamEnd => {
                if !all_input_used {
                    return Err(RfbError::Decode(
                        "data follows the end of the zlib stream".into(),
                    ));
                }
                break;
            }
            // Stopped with room left in the output and no input left: all
            // of this rectangle's data is out.
            _ if all_input_used && produced < out.len() => break,
            _ if used == 0 && made == 0 && produced < out.len() => {
                return Err(RfbError::Decode("zlib data ended early".into()));
            }
            _ => {}
        }
    }
    out.truncate(produced);
    Ok(out)
}

fn zlib_too_long(max_out: usize) -> RfbError {
    RfbError::Decode(format!(
        "the compressed data inflates to more than the {max_out} bytes its rectangle can hold"
    ))
}

/// Reads RGB triples as the framebuffer stores them.
pub(crate) fn rgb_at(bytes: &[u8], index: usize) -> [u8; 3] {
    let at = index * 3;
    [bytes[at], bytes[at + 1], bytes[at + 2]]
}

#[cfg(test)]
pub(crate) mod test_support {
    use flate2::{Compress, Compression, FlushCompress};

    /// A persistent zlib compressor like a server's: each call returns one
    /// rectangle's share, ended with a sync flush.
    pub(crate) struct Deflater(Compress);

    impl Deflater {
        pub(crate) fn new() -> Self {
            Deflater(Compress::new(Compression::default(), true))
        }

        pub(crate) fn chunk(&mut self, data: &[u8]) -> Vec<u8> {
            let mut out = Vec::with_capacity(data.len() + 64);
            let start = self.0.total_in();
            loop {
                let used = (self.0.total_in() - start) as usize;
                out.reserve(1024);
                self.0
                    .compress_vec(&data[used..], &mut out, FlushCompress::Sync)
                    .unwrap();
                if (self.0.total_in() - start) as usize == data.len() && out.capacity() > out.len()
                {
                    break;
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::Deflater;
    use super::*;

    #[test]
    fn inflates_consecutive_chunks_of_one_stream() {
        let mut deflater = Deflater::new();
        let mut z = Decompress::new(true);
        for round in 0..3u8 {
            let data = vec![round; 5000];
            let chunk = deflater.chunk(&data);
            assert_eq!(inflate_bounded(&mut z, &chunk, 5000).unwrap(), data);
        }
    }

    #[test]
    fn a_zlib_bomb_stops_at_the_bound() {
        let chunk = Deflater::new().chunk(&vec![0; 50 << 20]);
        assert!(chunk.len() < 100_000, "{}", chunk.len());
        let err = inflate_bounded(&mut Decompress::new(true), &chunk, 4096).unwrap_err();
        assert!(
            matches!(err, RfbError::Decode(ref m) if m.contains("4096")),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_a_decode_error() {
        let err = inflate_bounded(&mut Decompress::new(true), b"not zlib at all", 100);
        assert!(matches!(err, Err(RfbError::Decode(_))), "{err:?}");
    }
}
