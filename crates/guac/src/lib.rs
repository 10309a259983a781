#![forbid(unsafe_code)]
// Tests may unwrap; the library build is still linted for it.
#![cfg_attr(test, allow(clippy::unwrap_used))]
//! The Guacamole protocol for Hoshu (DESIGN §2, §7): a bounded sans-IO
//! instruction codec, the instructions the gateway sends, the events the
//! browser sends, and session recordings.
//!
//! The browser side is `guacamole-common-js` 1.5.0; every protocol fact used
//! here is in `shared/notes/guacamole-protocol.md` ("the notes"), checked in
//! Chromium. Nothing in this crate does I/O except through the
//! `std::io::{Read, Write, Seek}` handles a caller passes to the recorder.
//!
//! - [`decode`]: [`Decoder`] — bytes in, in any chunks, [`Instruction`]s
//!   out; hard [`Limits`]; the first error is final.
//! - [`instruction`](mod@instruction): [`Instruction`], [`write_instruction`]
//!   and lengths in UTF-16 code units, as the browser counts them.
//! - [`encode`]: [`ServerInstruction`] (size, img/blob/end, copy, rect,
//!   cfill, cursor, sync, error, …) and [`write_image`] /
//!   [`write_stream_data`] for streams.
//! - [`events`]: [`ClientEvent::parse`] for what the browser sends.
//! - [`recording`]: [`RecordingWriter`] and [`RecordingReader`].
//!
//! # Recording file format (version 1)
//!
//! A recording is the server→browser instruction stream, exactly as sent
//! (ASCII, no tunnel UUID or pings), which `Guacamole.SessionRecording`
//! plays. At rest it is a sequence of zstd frames (RFC 8878), so
//! `zstd -dc FILE` prints the playable stream: Hoshu's metadata lives in
//! *skippable frames* (magic `0x184D2A5?`, u32 LE payload size, payload),
//! which zstd ignores. All integers are little-endian.
//!
//! ```text
//! file   = header chunk* [index]
//! header = skippable 0x184D2A50, payload "HOSHUREC" version:u8            (17 bytes)
//! chunk  = skippable 0x184D2A51, payload (29 bytes):
//!            flags:u8  (bit 0: keyframe — full state follows; other bits 0)
//!            timestamp_ms:u64  (the keyframe's, else the first write's)
//!            stream_offset:u64 stream_len:u32 (1..=1 MiB) compressed_len:u32
//!            crc:u32   (CRC-32 of the fields above ‖ the zstd frame)
//!          then one zstd frame of compressed_len bytes holding stream_len
//!          bytes of the stream (with zstd's own content checksum)
//! index  = skippable 0x184D2A52, payload:
//!            version:u8 count:u32 (≤ 2^20)
//!            count × { timestamp_ms:u64 file_offset:u64 stream_offset:u64 }
//!            first_timestamp_ms:u64 last_timestamp_ms:u64 stream_len:u64
//!            index_offset:u64 (file offset of this frame)
//!            crc:u32 (CRC-32 of the payload before it) "HOSHUIDX"
//! ```
//!
//! A reader finds the index from the file's last 20 bytes (index offset,
//! CRC, tag). Each keyframe entry points at a chunk whose flag says
//! keyframe: decompressing from there, chunk by chunk, gives a stream that
//! starts with full state. A keyframe always starts a new chunk; other chunk
//! boundaries fall anywhere, even inside an instruction. A file without the
//! index (the writer never finished) is recovered by walking the chunk
//! headers from the start. Timestamps are the writer's caller's clock in
//! milliseconds, the clock of its `sync` instructions, made monotonic by the
//! writer. CRC-32 is IEEE 802.3 (zlib's).

pub mod decode;
pub mod encode;
pub mod events;
pub mod instruction;
pub mod keystrokes;
pub mod recording;

pub use decode::{DecodeError, Decoder, Feed, Limits, Step};
pub use encode::{
    BLOB_CHUNK_BYTES, CompositeMode, Layer, Rgba, ServerInstruction, Status, StreamIndex,
    write_image, write_stream_data,
};
pub use events::{ClientEvent, EventError, MouseButtons};
pub use instruction::{Arg, Instruction, utf16_len, write_instruction};
pub use keystrokes::{KeyLine, KeystrokeLog};
pub use recording::{
    Index, Keyframe, RecordingError, RecordingReader, RecordingStream, RecordingWriter,
    WriterConfig, finish_unfinished,
};
