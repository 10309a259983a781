//! Writes a recording. The caller hands over the exact bytes it sent to the
//! browser, with its clock, and says when full state follows.

use std::io::Write;

use super::{
    ChunkHeader, Crc32, FILE_TAG, FORMAT_VERSION, INDEX_TAG, Keyframe, MAGIC_HEADER, MAGIC_INDEX,
    MAX_CHUNK_LEN, MAX_KEYFRAMES, RecordingError,
};

/// Tuning of a [`RecordingWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterConfig {
    /// Decompressed bytes per chunk before it is compressed and written.
    /// Larger chunks compress better; smaller ones lose less on a crash and
    /// hold less memory. Clamped to 1..=[`MAX_CHUNK_LEN`].
    pub chunk_len: usize,
    /// zstd level (1–22; 0 is zstd's default, 3).
    pub level: i32,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            chunk_len: 256 * 1024,
            level: 3,
        }
    }
}

/// Writes a recording into `W`. Memory held: one chunk plus the keyframe
/// list.
///
/// Dropping the writer without [`finish`](Self::finish) leaves a file with
/// no index; [`RecordingReader::open_unfinished`](super::RecordingReader::open_unfinished)
/// recovers its complete chunks. Call [`flush`](Self::flush) now and then
/// (every few seconds) to bound what a crash loses.
pub struct RecordingWriter<W: Write> {
    out: W,
    compressor: zstd::bulk::Compressor<'static>,
    chunk_len: usize,
    /// Decompressed bytes of the open chunk.
    chunk: Vec<u8>,
    /// Timestamp of the open chunk: of its keyframe, else of its first write.
    chunk_timestamp: Option<u64>,
    chunk_is_keyframe: bool,
    /// Bytes written to `out` so far.
    file_offset: u64,
    /// Decompressed bytes in closed chunks.
    stream_offset: u64,
    keyframes: Vec<Keyframe>,
    first_timestamp: Option<u64>,
    last_timestamp: u64,
    poisoned: bool,
}

impl<W: Write> std::fmt::Debug for RecordingWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingWriter")
            .field("file_offset", &self.file_offset)
            .field("stream_len", &self.stream_len())
            .field("keyframes", &self.keyframes.len())
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl<W: Write> RecordingWriter<W> {
    /// Starts a recording: writes the file header.
    pub fn new(mut out: W, config: WriterConfig) -> Result<Self, RecordingError> {
        let mut compressor = zstd::bulk::Compressor::new(config.level)?;
        // Lets `zstd -d` verify a chunk on its own; our CRC covers it too.
        compressor.include_checksum(true)?;
        let mut header = Vec::with_capacity(super::FILE_HEADER_LEN as usize);
        header.extend_from_slice(&MAGIC_HEADER.to_le_bytes());
        header.extend_from_slice(&super::FILE_HEADER_PAYLOAD_LEN.to_le_bytes());
        header.extend_from_slice(FILE_TAG);
        header.push(FORMAT_VERSION);
        out.write_all(&header)?;
        Ok(Self {
            out,
            compressor,
            chunk_len: config.chunk_len.clamp(1, MAX_CHUNK_LEN),
            chunk: Vec::new(),
            chunk_timestamp: None,
            chunk_is_keyframe: false,
            file_offset: super::FILE_HEADER_LEN,
            stream_offset: 0,
            keyframes: Vec::new(),
            first_timestamp: None,
            last_timestamp: 0,
            poisoned: false,
        })
    }

    /// Records instructions exactly as sent to the browser.
    ///
    /// `instructions` must be whole instructions (so it ends with `;`) and
    /// ASCII: the browser player uses character offsets as byte offsets
    /// (notes, "Session recordings"), so one non-ASCII byte breaks seeking in
    /// the whole file. A refused write changes nothing. Timestamps are the
    /// caller's milliseconds; one earlier than a previous one is taken as
    /// that previous one, since playback needs a monotonic clock.
    pub fn write(&mut self, timestamp_ms: u64, instructions: &[u8]) -> Result<(), RecordingError> {
        if self.poisoned {
            return Err(RecordingError::Poisoned);
        }
        if instructions.is_empty() {
            return Ok(());
        }
        if let Some(position) = instructions.iter().position(|b| !b.is_ascii()) {
            return Err(RecordingError::NonAscii { position });
        }
        if instructions.last() != Some(&b';') {
            return Err(RecordingError::NotInstructions);
        }
        let timestamp_ms = self.observe(timestamp_ms);
        let mut rest = instructions;
        while !rest.is_empty() {
            if self.chunk.is_empty() && self.chunk_timestamp.is_none() {
                self.chunk_timestamp = Some(timestamp_ms);
            }
            // Chunks other than keyframe chunks may start mid-instruction:
            // only keyframes need to be playable on their own.
            let room = self.chunk_len - self.chunk.len();
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.chunk.extend_from_slice(now);
            rest = later;
            if self.chunk.len() == self.chunk_len {
                self.close_chunk()?;
            }
        }
        Ok(())
    }

    /// Declares that full state follows: what the caller writes next (the
    /// display size, a full image, the cursor…) draws the whole display
    /// without anything before it. Playback can start here.
    pub fn keyframe(&mut self, timestamp_ms: u64) -> Result<(), RecordingError> {
        if self.poisoned {
            return Err(RecordingError::Poisoned);
        }
        let timestamp_ms = self.observe(timestamp_ms);
        if !self.chunk.is_empty() {
            self.close_chunk()?;
        }
        // A keyframe with nothing written since the previous one replaces it.
        self.chunk_is_keyframe = true;
        self.chunk_timestamp = Some(timestamp_ms);
        Ok(())
    }

    /// Writes the open chunk and flushes `W`.
    pub fn flush(&mut self) -> Result<(), RecordingError> {
        if self.poisoned {
            return Err(RecordingError::Poisoned);
        }
        if !self.chunk.is_empty() {
            self.close_chunk()?;
        }
        self.out.flush().map_err(|e| self.poison(e))
    }

    /// Writes the open chunk and the index, flushes, and returns `W`.
    pub fn finish(mut self) -> Result<W, RecordingError> {
        self.flush()?;
        let index = self.index_bytes();
        self.out.write_all(&index).map_err(|e| self.poison(e))?;
        self.out.flush().map_err(|e| self.poison(e))?;
        Ok(self.out)
    }

    /// Bytes written to `W` so far.
    pub fn bytes_written(&self) -> u64 {
        self.file_offset
    }

    /// Bytes of instruction stream recorded so far.
    pub fn stream_len(&self) -> u64 {
        self.stream_offset + self.chunk.len() as u64
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    fn observe(&mut self, timestamp_ms: u64) -> u64 {
        let timestamp_ms = timestamp_ms.max(self.last_timestamp);
        self.last_timestamp = timestamp_ms;
        self.first_timestamp.get_or_insert(timestamp_ms);
        timestamp_ms
    }

    fn poison(&mut self, error: std::io::Error) -> RecordingError {
        self.poisoned = true;
        RecordingError::Io(error)
    }

    /// Compresses the open chunk into one zstd frame and writes it with its
    /// header.
    fn close_chunk(&mut self) -> Result<(), RecordingError> {
        let frame = match self.compressor.compress(&self.chunk) {
            Ok(frame) => frame,
            Err(error) => return Err(self.poison(error)),
        };
        // INVARIANT: chunks hold at most MAX_CHUNK_LEN (1 MiB) bytes, and
        // zstd's bound for that is a little over 1 MiB: both fit in u32.
        let stream_len = u32::try_from(self.chunk.len()).unwrap_or(u32::MAX);
        let compressed_len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let mut header = ChunkHeader {
            keyframe: self.chunk_is_keyframe,
            timestamp_ms: self.chunk_timestamp.unwrap_or(self.last_timestamp),
            stream_offset: self.stream_offset,
            stream_len,
            compressed_len,
            crc: 0,
        };
        header.crc = Crc32::new()
            .update(&header.fields())
            .update(&frame)
            .finish();
        let header_bytes = header.to_bytes();
        if let Err(error) = self
            .out
            .write_all(&header_bytes)
            .and_then(|()| self.out.write_all(&frame))
        {
            return Err(self.poison(error));
        }
        if header.keyframe && self.keyframes.len() < MAX_KEYFRAMES {
            self.keyframes.push(Keyframe {
                timestamp_ms: header.timestamp_ms,
                file_offset: self.file_offset,
                stream_offset: self.stream_offset,
            });
        }
        self.file_offset += (header_bytes.len() + frame.len()) as u64;
        self.stream_offset += self.chunk.len() as u64;
        self.chunk.clear();
        self.chunk_timestamp = None;
        self.chunk_is_keyframe = false;
        Ok(())
    }

    /// The index frame; see the crate documentation for its layout.
    fn index_bytes(&self) -> Vec<u8> {
        index_frame(
            &self.keyframes,
            self.first_timestamp
                .map(|first| (first, self.last_timestamp)),
            self.stream_offset,
            self.file_offset,
        )
    }
}

/// The index frame of a recording whose chunks end at `data_end`: `timestamps` are the first
/// and last timestamps written (`None` for a recording with nothing in it). Shared by the writer
/// and by [`finish_unfinished`](super::finish_unfinished), so a recovered recording's index is
/// exactly what the writer would have written.
pub(crate) fn index_frame(
    keyframes: &[Keyframe],
    timestamps: Option<(u64, u64)>,
    stream_len: u64,
    data_end: u64,
) -> Vec<u8> {
    let entries = keyframes.len();
    let payload_len = super::INDEX_FIXED_LEN + entries * super::INDEX_ENTRY_LEN;
    let mut out = Vec::with_capacity(super::FRAME_HEADER_LEN + payload_len);
    out.extend_from_slice(&MAGIC_INDEX.to_le_bytes());
    // INVARIANT: at most MAX_KEYFRAMES entries, so about 24 MiB.
    out.extend_from_slice(&u32::try_from(payload_len).unwrap_or(u32::MAX).to_le_bytes());
    let payload_start = out.len();
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&u32::try_from(entries).unwrap_or(u32::MAX).to_le_bytes());
    for keyframe in keyframes {
        out.extend_from_slice(&keyframe.timestamp_ms.to_le_bytes());
        out.extend_from_slice(&keyframe.file_offset.to_le_bytes());
        out.extend_from_slice(&keyframe.stream_offset.to_le_bytes());
    }
    // An empty recording stores 0 for both; `entries` and `stream_len` of 0 tell the reader
    // there were no timestamps.
    let (first, last) = timestamps.unwrap_or((0, 0));
    out.extend_from_slice(&first.to_le_bytes());
    out.extend_from_slice(&last.to_le_bytes());
    out.extend_from_slice(&stream_len.to_le_bytes());
    out.extend_from_slice(&data_end.to_le_bytes());
    let crc = Crc32::new().update(&out[payload_start..]).finish();
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(INDEX_TAG);
    out
}
