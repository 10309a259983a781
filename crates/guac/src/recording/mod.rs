//! Session recordings: the server→browser instruction stream, zstd at rest,
//! with a keyframe index for seeking.
//!
//! The file format is described in the crate documentation
//! ([`crate`], "Recording file format"). [`RecordingWriter`] writes it into
//! any `std::io::Write`; [`RecordingReader`] reads it from any
//! `Read + Seek`, whole or from the last keyframe before a time.
//!
//! Why this shape:
//! - The stream itself is what `Guacamole.SessionRecording` plays (notes,
//!   "Session recordings"): no header, no per-instruction timestamps. The
//!   player's own keyframes need a scan from the start; ours let the gateway
//!   serve a stream that starts at a point of full state instead.
//! - Chunks are independent zstd frames, so reading can start at any chunk;
//!   a keyframe always starts a chunk.
//! - Metadata lives in zstd skippable frames, so `zstd -dc` on a recording
//!   prints the playable stream, and an unfinished recording (gateway
//!   crash) can be recovered by scanning chunk headers.
//! - Every length is bounded before anything is allocated, and CRC-32s cover
//!   every byte but the file header (which is checked byte for byte), so
//!   corruption is an error, not garbage handed to a browser.

mod reader;
mod writer;

pub use reader::{RecordingReader, RecordingStream};
pub use writer::{RecordingWriter, WriterConfig};

/// Finishes a recording whose writer stopped before [`RecordingWriter::finish`] (the gateway
/// was killed or crashed mid-session): keeps every complete chunk, cuts whatever follows the
/// last one, and appends the index, so the file opens and plays like any finished recording.
/// A recording that is already finished is left as it is. Returns the index.
///
/// The cut is at the last chunk whose bytes are all there: a writer that is killed leaves a
/// prefix of what it wrote, so a chunk that is complete is whole (its CRC is still checked
/// whenever it is read).
pub fn finish_unfinished(file: &mut std::fs::File) -> Result<Index, RecordingError> {
    use std::io::{Seek, SeekFrom, Write};
    if let Ok(finished) = RecordingReader::open(&mut *file) {
        return Ok(finished.index().clone());
    }
    let index = RecordingReader::open_unfinished(&mut *file)?
        .index()
        .clone();
    file.set_len(index.data_end)?;
    file.seek(SeekFrom::Start(index.data_end))?;
    let timestamps = index.first_timestamp_ms.zip(index.last_timestamp_ms);
    file.write_all(&writer::index_frame(
        &index.keyframes,
        timestamps,
        index.stream_len,
        index.data_end,
    ))?;
    file.sync_all()?;
    file.seek(SeekFrom::Start(0))?;
    Ok(RecordingReader::open(&mut *file)?.index().clone())
}

/// Version byte of the file header and of the index.
pub const FORMAT_VERSION: u8 = 1;

/// Upper bound of a chunk's decompressed length. The writer never exceeds
/// it; the reader refuses chunks that claim more.
pub const MAX_CHUNK_LEN: usize = 1 << 20;

/// Upper bound of keyframes in one recording. The writer stops indexing
/// keyframes past it (seeking only gets coarser); the reader refuses more.
pub const MAX_KEYFRAMES: usize = 1 << 20;

/// zstd skippable frame magics (RFC 8878 §3.1.2: 0x184D2A50–0x184D2A5F).
pub(crate) const MAGIC_HEADER: u32 = 0x184d_2a50;
pub(crate) const MAGIC_CHUNK: u32 = 0x184d_2a51;
pub(crate) const MAGIC_INDEX: u32 = 0x184d_2a52;

pub(crate) const FILE_TAG: &[u8; 8] = b"HOSHUREC";
pub(crate) const INDEX_TAG: &[u8; 8] = b"HOSHUIDX";

/// Skippable frame header: magic + payload size, both u32 LE.
pub(crate) const FRAME_HEADER_LEN: usize = 8;
/// File header frame: frame header + tag + version.
pub(crate) const FILE_HEADER_PAYLOAD_LEN: u32 = 8 + 1;
pub(crate) const FILE_HEADER_LEN: u64 = FRAME_HEADER_LEN as u64 + FILE_HEADER_PAYLOAD_LEN as u64;
/// Chunk header payload: flags, timestamp, stream offset, stream length,
/// compressed length, CRC.
pub(crate) const CHUNK_PAYLOAD_LEN: usize = 1 + 8 + 8 + 4 + 4 + 4;
pub(crate) const CHUNK_HEADER_LEN: u64 = (FRAME_HEADER_LEN + CHUNK_PAYLOAD_LEN) as u64;
/// One index entry: timestamp, file offset, stream offset.
pub(crate) const INDEX_ENTRY_LEN: usize = 24;
/// Index payload without entries: version, count, first and last
/// timestamps, stream length, index offset, CRC, tag.
pub(crate) const INDEX_FIXED_LEN: usize = 1 + 4 + 8 + 8 + 8 + 8 + 4 + 8;
/// The end of the file: index offset, CRC, tag.
pub(crate) const FOOTER_LEN: u64 = 8 + 4 + 8;

pub(crate) const FLAG_KEYFRAME: u8 = 1;

/// A point of full state: the writer's caller said "full state follows"
/// here, so playback can start here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Keyframe {
    /// The caller's clock, in milliseconds (the clock of its `sync`
    /// timestamps).
    pub timestamp_ms: u64,
    /// Offset in the file of the chunk that starts with the full state.
    pub file_offset: u64,
    /// Offset in the decompressed instruction stream.
    pub stream_offset: u64,
}

/// What a reader knows about a recording before reading its chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Keyframes in order of time and position.
    pub keyframes: Vec<Keyframe>,
    /// Earliest and latest timestamps the writer was given; `None` for a
    /// recording with nothing in it.
    pub first_timestamp_ms: Option<u64>,
    pub last_timestamp_ms: Option<u64>,
    /// Length of the whole decompressed instruction stream.
    pub stream_len: u64,
    /// File offset where the chunks end.
    pub(crate) data_end: u64,
    /// True when read from the file's index; false when rebuilt by walking
    /// the chunks ([`RecordingReader::open_unfinished`]).
    pub finished: bool,
}

impl Index {
    /// The last keyframe at or before `timestamp_ms`, if any.
    pub fn keyframe_at(&self, timestamp_ms: u64) -> Option<Keyframe> {
        let after = self
            .keyframes
            .partition_point(|k| k.timestamp_ms <= timestamp_ms);
        after
            .checked_sub(1)
            .and_then(|i| self.keyframes.get(i))
            .copied()
    }
}

/// Errors of writing or reading a recording.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("recording i/o failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("recording failed earlier and cannot continue")]
    Poisoned,
    #[error("recorded bytes must be whole instructions ending in ';'")]
    NotInstructions,
    #[error(
        "recorded instructions must be ascii (non-ascii byte at {position}): the browser player seeks by character offsets"
    )]
    NonAscii { position: usize },
    #[error("not a hoshu recording: bad file header")]
    NotARecording,
    #[error("unsupported recording format version {0}")]
    UnsupportedVersion(u8),
    #[error("recording has no index: it was not finished (open it as unfinished to recover it)")]
    MissingIndex,
    #[error("recording index is corrupt: {0}")]
    CorruptIndex(&'static str),
    #[error("recording chunk at byte {offset} is corrupt: {reason}")]
    CorruptChunk { offset: u64, reason: &'static str },
    #[error("recording ends inside the chunk at byte {offset}")]
    Truncated { offset: u64 },
}

/// Fields of one chunk header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkHeader {
    pub keyframe: bool,
    pub timestamp_ms: u64,
    pub stream_offset: u64,
    pub stream_len: u32,
    pub compressed_len: u32,
    /// CRC-32 of the payload before it and of the compressed frame.
    pub crc: u32,
}

impl ChunkHeader {
    /// The whole skippable frame, CRC included.
    pub fn to_bytes(self) -> [u8; CHUNK_HEADER_LEN as usize] {
        let mut out = [0u8; CHUNK_HEADER_LEN as usize];
        let fields = self.fields();
        out[..4].copy_from_slice(&MAGIC_CHUNK.to_le_bytes());
        out[4..8].copy_from_slice(&(CHUNK_PAYLOAD_LEN as u32).to_le_bytes());
        out[8..8 + fields.len()].copy_from_slice(&fields);
        out[8 + fields.len()..].copy_from_slice(&self.crc.to_le_bytes());
        out
    }

    /// The payload fields the CRC covers, in wire order.
    pub fn fields(self) -> [u8; CHUNK_PAYLOAD_LEN - 4] {
        let mut out = [0u8; CHUNK_PAYLOAD_LEN - 4];
        out[0] = if self.keyframe { FLAG_KEYFRAME } else { 0 };
        out[1..9].copy_from_slice(&self.timestamp_ms.to_le_bytes());
        out[9..17].copy_from_slice(&self.stream_offset.to_le_bytes());
        out[17..21].copy_from_slice(&self.stream_len.to_le_bytes());
        out[21..25].copy_from_slice(&self.compressed_len.to_le_bytes());
        out
    }

    /// Parses and bounds-checks a chunk header found at `offset`. The CRC
    /// can only be checked once the compressed frame is read.
    pub fn parse(
        bytes: &[u8; CHUNK_HEADER_LEN as usize],
        offset: u64,
    ) -> Result<Self, RecordingError> {
        let corrupt = |reason| RecordingError::CorruptChunk { offset, reason };
        let mut fields = Fields(bytes);
        if fields.u32() != MAGIC_CHUNK || fields.u32() as usize != CHUNK_PAYLOAD_LEN {
            return Err(corrupt("not a chunk header"));
        }
        let flags = fields.u8();
        if flags & !FLAG_KEYFRAME != 0 {
            return Err(corrupt("unknown chunk flags"));
        }
        let header = ChunkHeader {
            keyframe: flags & FLAG_KEYFRAME != 0,
            timestamp_ms: fields.u64(),
            stream_offset: fields.u64(),
            stream_len: fields.u32(),
            compressed_len: fields.u32(),
            crc: fields.u32(),
        };
        if header.stream_len == 0 || header.stream_len as usize > MAX_CHUNK_LEN {
            return Err(corrupt("chunk length out of range"));
        }
        if header.compressed_len == 0
            || header.compressed_len as usize > zstd::zstd_safe::compress_bound(MAX_CHUNK_LEN)
        {
            return Err(corrupt("compressed length out of range"));
        }
        Ok(header)
    }
}

/// Little-endian field reader over a buffer whose length the caller has
/// checked; reading past the end yields zeros instead of panicking.
pub(crate) struct Fields<'a>(pub &'a [u8]);

impl Fields<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some((head, rest)) = self.0.split_first_chunk::<N>() {
            out = *head;
            self.0 = rest;
        } else {
            self.0 = &[];
        }
        out
    }
    pub fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        self.take()
    }
}

/// CRC-32 (IEEE 802.3, reflected, as in zlib and PNG).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Crc32(u32);

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

impl Crc32 {
    pub fn new() -> Self {
        Self(!0)
    }
    pub fn update(mut self, bytes: &[u8]) -> Self {
        for &byte in bytes {
            self.0 = CRC_TABLE[((self.0 ^ u32::from(byte)) & 0xff) as usize] ^ (self.0 >> 8);
        }
        self
    }
    pub fn finish(self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests;
