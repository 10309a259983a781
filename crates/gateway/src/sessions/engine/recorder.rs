//! Session recording (DESIGN §7): the instruction stream the browser got, zstd-compressed with a
//! seek index (crates/guac), hashed as it is written so the SHA-256 can be sealed in the audit
//! chain at close.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use hoshu_guac::{RecordingWriter, WriterConfig};
use sha2::{Digest, Sha256};

/// Hashes every byte on its way to the file (shared with the terminal recorder, cast.rs).
#[derive(Debug)]
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

/// The SHA-256 of a file, hex, read in pieces: a long recording is hashed without holding it
/// in memory.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
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

#[cfg(test)]
mod tests {
    use super::*;

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
