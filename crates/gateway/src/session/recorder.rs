//! Session recording (DESIGN §7): the instruction stream the browser got, zstd-compressed with a
//! seek index (crates/guac), hashed as it is written so the SHA-256 can be sealed in the audit
//! chain at close.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use hoshu_guac::{RecordingWriter, WriterConfig};
use sha2::{Digest, Sha256};

/// Hashes every byte on its way to the file (shared with the terminal recorder, cast.rs).
pub struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl Hashing<BufWriter<File>> {
    /// Creates a new recording file, never overwriting one.
    pub fn create(path: &Path) -> Result<Self, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| format!("cannot create recording {}: {e}", path.display()))?;
        Ok(Hashing {
            inner: BufWriter::new(file),
            hasher: Sha256::new(),
        })
    }

    /// Flushes the file and returns the SHA-256 of everything written, hex.
    pub fn finish(mut self) -> Result<String, String> {
        self.inner
            .flush()
            .map_err(|e| format!("finishing recording failed: {e}"))?;
        Ok(hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

pub struct Recorder {
    writer: RecordingWriter<Hashing<BufWriter<File>>>,
    path: PathBuf,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recorder({})", self.path.display())
    }
}

impl Recorder {
    /// Creates the recording file; failing here refuses the session (no recording, no session).
    pub fn create(path: &Path) -> Result<Recorder, String> {
        let hashing = Hashing::create(path)?;
        let writer = RecordingWriter::new(hashing, WriterConfig::default())
            .map_err(|e| format!("cannot start recording {}: {e}", path.display()))?;
        Ok(Recorder {
            writer,
            path: path.to_owned(),
        })
    }

    pub fn write(&mut self, timestamp_ms: u64, instructions: &str) -> Result<(), String> {
        self.writer
            .write(timestamp_ms, instructions.as_bytes())
            .map_err(|e| format!("recording failed: {e}"))
    }

    /// Marks that a full picture follows (a player can start here).
    pub fn keyframe(&mut self, timestamp_ms: u64) -> Result<(), String> {
        self.writer
            .keyframe(timestamp_ms)
            .map_err(|e| format!("recording failed: {e}"))
    }

    /// Bytes of instruction stream written so far (before compression).
    pub fn stream_len(&self) -> u64 {
        self.writer.stream_len()
    }

    pub fn flush(&mut self) -> Result<(), String> {
        self.writer
            .flush()
            .map_err(|e| format!("recording failed: {e}"))
    }

    /// Writes the index and returns the SHA-256 of the whole file, hex.
    pub fn finish(self) -> Result<String, String> {
        self.writer
            .finish()
            .map_err(|e| format!("finishing recording failed: {e}"))?
            .finish()
    }
}

/// When the recording gets its next full picture (a keyframe): a player seeking to a moment
/// starts at the last keyframe before it and replays only what followed, so keyframes are
/// written often while much changes and rarely while little does — seeking stays fast and an
/// idle session's recording stays small.
#[derive(Debug, Clone, Copy)]
pub struct KeyframeSchedule {
    last_ms: u64,
    last_stream_len: u64,
}

impl KeyframeSchedule {
    /// After this much stream since the last keyframe, one is due once `BUSY_MS` passed
    /// (bounds what a seek replays in the browser: web/bench/seek-hour.mjs).
    const BUSY_BYTES: u64 = 256 * 1024;
    const BUSY_MS: u64 = 5_000;
    /// Any change at all makes one due after this long.
    const QUIET_MS: u64 = 300_000;

    pub fn new(now_ms: u64, stream_len: u64) -> KeyframeSchedule {
        KeyframeSchedule {
            last_ms: now_ms,
            last_stream_len: stream_len,
        }
    }

    pub fn due(&self, now_ms: u64, stream_len: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        let grown = stream_len.saturating_sub(self.last_stream_len);
        (elapsed >= Self::BUSY_MS && grown >= Self::BUSY_BYTES)
            || (elapsed >= Self::QUIET_MS && grown > 0)
    }

    /// A keyframe was written at `now_ms`, the stream then `stream_len` long.
    pub fn written(&mut self, now_ms: u64, stream_len: u64) {
        *self = KeyframeSchedule::new(now_ms, stream_len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_follow_activity() {
        let mut schedule = KeyframeSchedule::new(0, 0);
        assert!(!schedule.due(4_999, 5 << 20), "not before 5 s");
        assert!(!schedule.due(5_000, 255 << 10), "not for less than 256 KiB");
        assert!(schedule.due(5_000, 256 << 10), "busy: 256 KiB in 5 s");
        assert!(!schedule.due(299_999, 1000), "quiet: little changed");
        assert!(
            schedule.due(300_000, 1),
            "quiet: something changed in 5 min"
        );
        schedule.written(300_000, 1);
        assert!(!schedule.due(900_000, 1), "idle: nothing changed since");
    }

    #[test]
    fn the_hash_is_the_files_hash_and_the_stream_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r").join("s.guac.zst");
        let mut recorder = Recorder::create(&path).unwrap();
        recorder.keyframe(1).unwrap();
        recorder
            .write(1, "4.size,1.0,2.10,2.10;4.sync,1.1;")
            .unwrap();
        let sha = recorder.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(sha, hex::encode(Sha256::digest(&bytes)));
        let reader = hoshu_guac::RecordingReader::open(std::io::Cursor::new(bytes)).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut reader.stream().unwrap(), &mut text).unwrap();
        assert_eq!(text, "4.size,1.0,2.10,2.10;4.sync,1.1;");
        assert!(
            Recorder::create(&path).is_err(),
            "an existing recording is never overwritten"
        );
    }
}
