//! Reads a recording: the index first, then chunks on demand.
//!
//! A recording file may be corrupt or hostile. Every length is checked
//! against the format's bounds and the file's size before anything is
//! allocated or read, and every chunk's CRC before its bytes are handed out.

use std::io::{ErrorKind, Read, Seek, SeekFrom};

use super::{
    CHUNK_HEADER_LEN, ChunkHeader, Crc32, FILE_HEADER_LEN, FILE_HEADER_PAYLOAD_LEN, FILE_TAG,
    FOOTER_LEN, FORMAT_VERSION, FRAME_HEADER_LEN, Fields, INDEX_ENTRY_LEN, INDEX_FIXED_LEN,
    INDEX_TAG, Index, Keyframe, MAGIC_CHUNK, MAGIC_HEADER, MAGIC_INDEX, MAX_KEYFRAMES,
    RecordingError,
};

/// An opened recording. Streams consume it; open `&mut File` to keep the
/// file.
#[derive(Debug)]
pub struct RecordingReader<R> {
    inner: R,
    index: Index,
}

impl<R: Read + Seek> RecordingReader<R> {
    /// Opens a finished recording: checks the header and reads the index.
    pub fn open(mut inner: R) -> Result<Self, RecordingError> {
        let file_len = read_header(&mut inner)?;
        let index = read_index(&mut inner, file_len)?;
        Ok(Self { inner, index })
    }

    /// Opens a recording whose writer never finished (the gateway stopped
    /// mid-session): rebuilds the index by walking the chunk headers and
    /// keeps every complete chunk, dropping a truncated one at the end. A
    /// finished recording opens too (its index frame ends the walk).
    pub fn open_unfinished(mut inner: R) -> Result<Self, RecordingError> {
        let file_len = read_header(&mut inner)?;
        let index = scan_chunks(&mut inner, file_len)?;
        Ok(Self { inner, index })
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The whole instruction stream, from the start.
    pub fn stream(self) -> Result<RecordingStream<R>, RecordingError> {
        RecordingStream::new(self.inner, &self.index, None)
    }

    /// The instruction stream from the last keyframe at or before
    /// `timestamp_ms`, or from the start when there is none: full state
    /// first, so a player needs nothing before it.
    pub fn stream_from(self, timestamp_ms: u64) -> Result<RecordingStream<R>, RecordingError> {
        let keyframe = self.index.keyframe_at(timestamp_ms);
        RecordingStream::new(self.inner, &self.index, keyframe)
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// The decompressed instruction stream of a recording, chunk by chunk.
/// Holds one chunk in memory. Read it with [`next_chunk`](Self::next_chunk)
/// or as a [`std::io::Read`] (errors then come as `InvalidData` with the
/// [`RecordingError`] inside).
#[derive(Debug)]
pub struct RecordingStream<R> {
    inner: R,
    decompressor: DebugDecompressor,
    start: Option<Keyframe>,
    /// The next chunk header's file offset, and where chunks end.
    next_offset: u64,
    data_end: u64,
    /// Stream offset of the next chunk, and of the stream's end.
    stream_offset: u64,
    stream_len: u64,
    /// The first chunk must be this keyframe's.
    expect_keyframe: Option<Keyframe>,
    compressed: Vec<u8>,
    chunk: Vec<u8>,
    /// Bytes of `chunk` already handed out.
    position: usize,
    failed: bool,
}

struct DebugDecompressor(zstd::bulk::Decompressor<'static>);

impl std::fmt::Debug for DebugDecompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Decompressor")
    }
}

impl<R: Read + Seek> RecordingStream<R> {
    fn new(mut inner: R, index: &Index, start: Option<Keyframe>) -> Result<Self, RecordingError> {
        let (file_offset, stream_offset) = match start {
            Some(keyframe) => (keyframe.file_offset, keyframe.stream_offset),
            None => (FILE_HEADER_LEN, 0),
        };
        inner.seek(SeekFrom::Start(file_offset))?;
        Ok(Self {
            inner,
            decompressor: DebugDecompressor(zstd::bulk::Decompressor::new()?),
            start,
            next_offset: file_offset,
            data_end: index.data_end,
            stream_offset,
            stream_len: index.stream_len,
            expect_keyframe: start,
            compressed: Vec::new(),
            chunk: Vec::new(),
            position: 0,
            failed: false,
        })
    }

    /// The keyframe this stream starts at; `None` when it starts at the
    /// beginning of the recording.
    pub fn start(&self) -> Option<Keyframe> {
        self.start
    }

    /// The next piece of the stream (the rest of the current chunk, else the
    /// next chunk), or `None` at the end. After an error, every call fails.
    pub fn next_chunk(&mut self) -> Result<Option<&[u8]>, RecordingError> {
        if !self.fill()? {
            return Ok(None);
        }
        let piece = self.chunk.get(self.position..).unwrap_or_default();
        self.position = self.chunk.len();
        Ok(Some(piece))
    }

    /// Makes sure unread bytes are in `chunk`, loading the next chunk when
    /// the current one is used up. False at the end of the stream.
    fn fill(&mut self) -> Result<bool, RecordingError> {
        if self.failed {
            return Err(RecordingError::Poisoned);
        }
        if self.position < self.chunk.len() {
            return Ok(true);
        }
        self.load_chunk().inspect_err(|_| {
            self.failed = true;
            self.chunk = Vec::new();
            self.position = 0;
        })
    }

    /// Reads, checks and decompresses the next chunk into `self.chunk`.
    /// False at the end of the data.
    fn load_chunk(&mut self) -> Result<bool, RecordingError> {
        let offset = self.next_offset;
        if offset == self.data_end {
            if self.stream_offset != self.stream_len {
                return Err(RecordingError::CorruptIndex(
                    "stream length does not match the chunks",
                ));
            }
            return Ok(false);
        }
        let corrupt = |reason| RecordingError::CorruptChunk { offset, reason };
        let mut header_bytes = [0u8; CHUNK_HEADER_LEN as usize];
        read_exact_at(&mut self.inner, &mut header_bytes, offset)?;
        let header = ChunkHeader::parse(&header_bytes, offset)?;
        if header.stream_offset != self.stream_offset {
            return Err(corrupt("chunk is out of sequence"));
        }
        let end = offset + CHUNK_HEADER_LEN + u64::from(header.compressed_len);
        if end > self.data_end {
            return Err(corrupt("chunk runs past the end of the data"));
        }
        if let Some(keyframe) = self.expect_keyframe.take()
            && (!header.keyframe || header.timestamp_ms != keyframe.timestamp_ms)
        {
            return Err(RecordingError::CorruptIndex(
                "keyframe entry does not point at its keyframe chunk",
            ));
        }
        // Bounded by ChunkHeader::parse: a little over MAX_CHUNK_LEN.
        self.compressed.resize(header.compressed_len as usize, 0);
        read_exact_at(&mut self.inner, &mut self.compressed, offset)?;
        let crc = Crc32::new()
            .update(&header.fields())
            .update(&self.compressed)
            .finish();
        if crc != header.crc {
            return Err(corrupt("checksum mismatch"));
        }
        let stream_len = header.stream_len as usize;
        self.chunk.clear();
        self.chunk.reserve_exact(stream_len);
        // Decompresses into `chunk`'s capacity and no further, so a frame
        // that expands beyond its declared length is an error, not an
        // allocation.
        let written = self
            .decompressor
            .0
            .decompress_to_buffer(&self.compressed, &mut self.chunk)
            .map_err(|_| corrupt("zstd frame does not decompress"))?;
        if written != stream_len || self.chunk.len() != stream_len {
            return Err(corrupt("chunk length does not match its header"));
        }
        self.position = 0;
        self.next_offset = end;
        self.stream_offset += u64::from(header.stream_len);
        Ok(true)
    }
}

impl<R: Read + Seek> Read for RecordingStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let more = self
            .fill()
            .map_err(|e| std::io::Error::new(ErrorKind::InvalidData, e))?;
        if !more {
            return Ok(0);
        }
        let rest = self.chunk.get(self.position..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.position += n;
        Ok(n)
    }
}

/// `read_exact` with end of file reported as a truncated chunk at `offset`.
fn read_exact_at<R: Read>(
    inner: &mut R,
    buf: &mut [u8],
    offset: u64,
) -> Result<(), RecordingError> {
    inner.read_exact(buf).map_err(|error| match error.kind() {
        ErrorKind::UnexpectedEof => RecordingError::Truncated { offset },
        _ => RecordingError::Io(error),
    })
}

/// Checks the file header; returns the file's length.
fn read_header<R: Read + Seek>(inner: &mut R) -> Result<u64, RecordingError> {
    let file_len = inner.seek(SeekFrom::End(0))?;
    if file_len < FILE_HEADER_LEN {
        return Err(RecordingError::NotARecording);
    }
    inner.seek(SeekFrom::Start(0))?;
    let mut bytes = [0u8; FILE_HEADER_LEN as usize];
    inner.read_exact(&mut bytes)?;
    let mut fields = Fields(&bytes);
    if fields.u32() != MAGIC_HEADER
        || fields.u32() != FILE_HEADER_PAYLOAD_LEN
        || &fields.bytes::<8>() != FILE_TAG
    {
        return Err(RecordingError::NotARecording);
    }
    match fields.u8() {
        FORMAT_VERSION => Ok(file_len),
        other => Err(RecordingError::UnsupportedVersion(other)),
    }
}

/// Reads and checks the index at the end of a finished recording.
fn read_index<R: Read + Seek>(inner: &mut R, file_len: u64) -> Result<Index, RecordingError> {
    let min_len = FILE_HEADER_LEN + (FRAME_HEADER_LEN + INDEX_FIXED_LEN) as u64;
    if file_len < min_len {
        return Err(RecordingError::MissingIndex);
    }
    let mut footer = [0u8; FOOTER_LEN as usize];
    inner.seek(SeekFrom::Start(file_len - FOOTER_LEN))?;
    inner.read_exact(&mut footer)?;
    let mut fields = Fields(&footer);
    let index_offset = fields.u64();
    let _crc = fields.u32();
    if &fields.bytes::<8>() != INDEX_TAG {
        return Err(RecordingError::MissingIndex);
    }

    // The index frame runs from index_offset to the end of the file.
    let max_frame_len =
        (FRAME_HEADER_LEN + INDEX_FIXED_LEN + MAX_KEYFRAMES * INDEX_ENTRY_LEN) as u64;
    let min_frame_len = (FRAME_HEADER_LEN + INDEX_FIXED_LEN) as u64;
    let frame_len = file_len
        .checked_sub(index_offset)
        .filter(|&len| {
            index_offset >= FILE_HEADER_LEN && (min_frame_len..=max_frame_len).contains(&len)
        })
        .ok_or(RecordingError::CorruptIndex("index offset out of range"))?;
    // Bounded just above by MAX_KEYFRAMES entries (24 MiB).
    let mut frame = vec![0u8; frame_len as usize];
    inner.seek(SeekFrom::Start(index_offset))?;
    inner.read_exact(&mut frame)?;

    let mut fields = Fields(&frame);
    let payload_len = frame.len() - FRAME_HEADER_LEN;
    if fields.u32() != MAGIC_INDEX || fields.u32() as usize != payload_len {
        return Err(RecordingError::CorruptIndex(
            "index frame header does not match",
        ));
    }
    let payload = frame.get(FRAME_HEADER_LEN..).unwrap_or_default();
    let (covered, tail) = payload.split_at(payload_len - 12);
    let stored_crc = Fields(tail).u32();
    if Crc32::new().update(covered).finish() != stored_crc {
        return Err(RecordingError::CorruptIndex("checksum mismatch"));
    }
    let mut fields = Fields(covered);
    let version = fields.u8();
    if version != FORMAT_VERSION {
        return Err(RecordingError::UnsupportedVersion(version));
    }
    let count = fields.u32() as usize;
    if count > MAX_KEYFRAMES || INDEX_FIXED_LEN + count * INDEX_ENTRY_LEN != payload_len {
        return Err(RecordingError::CorruptIndex(
            "keyframe count does not match its size",
        ));
    }
    let mut keyframes = Vec::with_capacity(count);
    for _ in 0..count {
        keyframes.push(Keyframe {
            timestamp_ms: fields.u64(),
            file_offset: fields.u64(),
            stream_offset: fields.u64(),
        });
    }
    let first = fields.u64();
    let last = fields.u64();
    let stream_len = fields.u64();
    if fields.u64() != index_offset {
        return Err(RecordingError::CorruptIndex("index offset does not match"));
    }
    let index = Index {
        keyframes,
        first_timestamp_ms: (stream_len > 0).then_some(first),
        last_timestamp_ms: (stream_len > 0).then_some(last),
        stream_len,
        data_end: index_offset,
        finished: true,
    };
    check_index(&index)?;
    Ok(index)
}

/// Consistency of an index, whether read or rebuilt: what the streams rely
/// on to stay inside the data.
fn check_index(index: &Index) -> Result<(), RecordingError> {
    let corrupt = |reason| Err(RecordingError::CorruptIndex(reason));
    if index.first_timestamp_ms > index.last_timestamp_ms {
        return corrupt("first timestamp is after the last");
    }
    let mut previous: Option<&Keyframe> = None;
    for keyframe in &index.keyframes {
        if keyframe.file_offset < FILE_HEADER_LEN
            || keyframe.file_offset >= index.data_end
            || keyframe.stream_offset >= index.stream_len
        {
            return corrupt("keyframe outside the data");
        }
        if let Some(previous) = previous
            && (keyframe.file_offset <= previous.file_offset
                || keyframe.stream_offset <= previous.stream_offset
                || keyframe.timestamp_ms < previous.timestamp_ms)
        {
            return corrupt("keyframes out of order");
        }
        if Some(keyframe.timestamp_ms) < index.first_timestamp_ms
            || Some(keyframe.timestamp_ms) > index.last_timestamp_ms
        {
            return corrupt("keyframe outside the recording's time span");
        }
        previous = Some(keyframe);
    }
    Ok(())
}

/// Rebuilds the index by walking chunk headers from the start. Reads one
/// small header per chunk and seeks over the compressed data.
fn scan_chunks<R: Read + Seek>(inner: &mut R, file_len: u64) -> Result<Index, RecordingError> {
    let mut offset = FILE_HEADER_LEN;
    let mut stream_len = 0u64;
    let mut keyframes = Vec::new();
    let mut first = None;
    let mut last = None;
    inner.seek(SeekFrom::Start(offset))?;
    while offset < file_len {
        if file_len - offset < 4 {
            break;
        }
        let mut magic = [0u8; 4];
        inner.read_exact(&mut magic)?;
        let magic = u32::from_le_bytes(magic);
        if magic == MAGIC_INDEX {
            // The writer finished; the data ends where its index begins.
            break;
        }
        if magic != MAGIC_CHUNK {
            return Err(RecordingError::CorruptChunk {
                offset,
                reason: "not a chunk header",
            });
        }
        if file_len - offset < CHUNK_HEADER_LEN {
            break;
        }
        let mut header_bytes = [0u8; CHUNK_HEADER_LEN as usize];
        header_bytes[..4].copy_from_slice(&magic.to_le_bytes());
        inner.read_exact(&mut header_bytes[4..])?;
        let header = ChunkHeader::parse(&header_bytes, offset)?;
        if header.stream_offset != stream_len {
            return Err(RecordingError::CorruptChunk {
                offset,
                reason: "chunk is out of sequence",
            });
        }
        let end = offset + CHUNK_HEADER_LEN + u64::from(header.compressed_len);
        if end > file_len {
            // The writer stopped while writing this chunk.
            break;
        }
        if header.keyframe {
            if keyframes.len() == MAX_KEYFRAMES {
                return Err(RecordingError::CorruptIndex("too many keyframes"));
            }
            keyframes.push(Keyframe {
                timestamp_ms: header.timestamp_ms,
                file_offset: offset,
                stream_offset: stream_len,
            });
        }
        first.get_or_insert(header.timestamp_ms);
        last = Some(header.timestamp_ms);
        stream_len += u64::from(header.stream_len);
        offset = end;
        inner.seek(SeekFrom::Start(offset))?;
    }
    let index = Index {
        keyframes,
        first_timestamp_ms: first,
        last_timestamp_ms: last,
        stream_len,
        data_end: offset,
        finished: false,
    };
    check_index(&index)?;
    Ok(index)
}
