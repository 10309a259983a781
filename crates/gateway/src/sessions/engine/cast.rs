//! Terminal recordings (DESIGN §7): asciicast v2 — a JSON header line, then one JSON array per
//! event, `[seconds, "o", text]` for output and `[seconds, "r", "COLSxROWS"]` for a resize —
//! zstd-compressed at rest and hashed as written, like the graphical recorder, so the SHA-256
//! can be sealed in the audit chain at close. Input is not recorded: it would hold passwords
//! typed at prompts that do not echo.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::recorder::Hashing;

pub struct CastRecorder {
    encoder: zstd::stream::write::Encoder<'static, Hashing<BufWriter<File>>>,
    path: PathBuf,
    started_ms: Option<u64>,
    /// Written since the last flush.
    dirty: bool,
}

impl std::fmt::Debug for CastRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CastRecorder({})", self.path.display())
    }
}

impl CastRecorder {
    /// Creates the recording file; failing here refuses the session (no recording, no session).
    /// The header follows once the terminal's size is known ([`CastRecorder::start`]).
    pub fn create(path: &Path) -> Result<CastRecorder, String> {
        let hashing = Hashing::create(path)?;
        // Level 1 with a 128 KiB window: its match tables are tens of KiB where level 3's are
        // most of a MiB, which an idle session would hold for hours; a terminal's repeats are
        // close together, so the ratio hardly changes.
        let start = |e: std::io::Error| format!("cannot start recording {}: {e}", path.display());
        let mut encoder = zstd::stream::write::Encoder::new(hashing, 1).map_err(start)?;
        encoder.window_log(17).map_err(start)?;
        Ok(CastRecorder {
            encoder,
            path: path.to_owned(),
            started_ms: None,
            dirty: false,
        })
    }

    /// Writes the header: the terminal's size, the start time and the title.
    pub fn start(&mut self, cols: u16, rows: u16, now_ms: u64, title: &str) -> Result<(), String> {
        let header = serde_json::json!({
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": now_ms / 1000,
            "title": title,
            "env": { "TERM": "xterm-256color" },
        });
        self.started_ms = Some(now_ms);
        self.line(&header.to_string())
    }

    /// Output the browser was sent at `now_ms`.
    pub fn output(&mut self, now_ms: u64, text: &str) -> Result<(), String> {
        self.event(now_ms, "o", text)
    }

    /// A marker a player shows on its time line (asciicast v2 "m" events).
    pub fn marker(&mut self, now_ms: u64, label: &str) -> Result<(), String> {
        self.event(now_ms, "m", label)
    }

    /// Whether the header is written (the shell started).
    pub fn is_started(&self) -> bool {
        self.started_ms.is_some()
    }

    pub fn resize(&mut self, now_ms: u64, cols: u16, rows: u16) -> Result<(), String> {
        self.event(now_ms, "r", &format!("{cols}x{rows}"))
    }

    fn event(&mut self, now_ms: u64, kind: &str, data: &str) -> Result<(), String> {
        let Some(started) = self.started_ms else {
            return Err("recording failed: an event before the header".to_owned());
        };
        // Seconds with millisecond precision, as asciinema writes them.
        let seconds = now_ms.saturating_sub(started) as f64 / 1000.0;
        let line = serde_json::to_string(&(seconds, kind, data))
            .map_err(|e| format!("recording failed: {e}"))?;
        self.line(&line)
    }

    fn line(&mut self, line: &str) -> Result<(), String> {
        self.dirty = true;
        self.encoder
            .write_all(line.as_bytes())
            .and_then(|()| self.encoder.write_all(b"\n"))
            .map_err(|e| format!("recording failed: {e}"))
    }

    /// Pushes what was written to the file (a zstd block), so a crash loses at most a second.
    pub fn flush(&mut self) -> Result<(), String> {
        if !self.dirty {
            return Ok(());
        }
        self.dirty = false;
        self.encoder
            .flush()
            .map_err(|e| format!("recording failed: {e}"))
    }

    /// Ends the zstd frame and returns the SHA-256 of the whole file, hex.
    pub fn finish(self) -> Result<String, String> {
        let hashing = self
            .encoder
            .finish()
            .map_err(|e| format!("finishing recording failed: {e}"))?;
        hashing.finish()
    }
}

/// The decompressed asciicast of a recording; a recording still being written (or cut short by
/// a crash) yields what was flushed so far.
pub fn read_cast(path: &Path) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open recording: {e}"))?;
    let mut decoder = zstd::stream::read::Decoder::new(std::io::BufReader::new(file))
        .map_err(|e| format!("recording is unreadable: {e}"))?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match decoder.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // An unfinished frame ends in an error after its last complete block.
            Err(_) if !out.is_empty() => break,
            Err(e) => return Err(format!("recording is unreadable: {e}")),
        }
    }
    // Only whole lines: a block may end inside one.
    if let Some(end) = out.iter().rposition(|&b| b == b'\n') {
        out.truncate(end + 1);
    }
    Ok(out)
}

/// Finishes a terminal recording whose writer stopped (the gateway was killed): its complete
/// lines are written again as one finished zstd frame in place of the file, so it reads like
/// any finished recording. A finished recording is left as it is. Returns the time of its last
/// event (Unix ms), when the header says when it started.
pub fn finish_unfinished(path: &Path) -> Result<Option<u64>, String> {
    let complete = {
        let file = File::open(path).map_err(|e| format!("cannot open recording: {e}"))?;
        zstd::stream::decode_all(std::io::BufReader::new(file)).ok()
    };
    let text = match complete {
        Some(text) => text,
        None => {
            let text = read_cast(path)?;
            let rewritten = path.with_extension("zst.sealing");
            let mut encoder = zstd::stream::write::Encoder::new(
                File::create(&rewritten).map_err(|e| format!("cannot rewrite recording: {e}"))?,
                1,
            )
            .map_err(|e| format!("cannot rewrite recording: {e}"))?;
            encoder
                .write_all(&text)
                .and_then(|()| encoder.finish())
                .and_then(|file| file.sync_all())
                .map_err(|e| format!("cannot rewrite recording: {e}"))?;
            std::fs::rename(&rewritten, path)
                .map_err(|e| format!("cannot replace the recording: {e}"))?;
            text
        }
    };
    Ok(last_event_ms(&text))
}

/// When the last event of an asciicast happened: the header's start plus the last event's
/// offset.
fn last_event_ms(cast: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(cast).ok()?;
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next()?).ok()?;
    let started_ms = header["timestamp"].as_u64()? * 1000;
    let offset_secs = lines
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|event| event[0].as_f64())
        .unwrap_or(0.0);
    Some(started_ms + (offset_secs * 1000.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn asciicast_lines_hash_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r").join("s.cast.zst");
        let mut cast = CastRecorder::create(&path).unwrap();
        assert!(cast.output(0, "x").is_err(), "no event before the header");
        cast.start(80, 24, 1_700_000_000_000, "box").unwrap();
        cast.output(1_700_000_000_250, "hello \"日本\"\r\n")
            .unwrap();
        cast.flush().unwrap();
        let partial = read_cast(&path).unwrap();
        assert_eq!(String::from_utf8(partial).unwrap().lines().count(), 2);
        cast.resize(1_700_000_001_000, 120, 40).unwrap();
        let sha = cast.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(sha, hex::encode(Sha256::digest(&bytes)));
        let text = String::from_utf8(read_cast(&path).unwrap()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(lines[0]["width"], 80);
        assert_eq!(lines[0]["timestamp"], 1_700_000_000);
        assert_eq!(
            lines[1],
            serde_json::json!([0.25, "o", "hello \"日本\"\r\n"])
        );
        assert_eq!(lines[2], serde_json::json!([1.0, "r", "120x40"]));
        assert!(
            CastRecorder::create(&path).is_err(),
            "an existing recording is never overwritten"
        );
    }

    #[test]
    fn an_unfinished_cast_is_finished_with_its_complete_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.cast.zst");
        let mut cast = CastRecorder::create(&path).unwrap();
        cast.start(80, 24, 1_700_000_000_000, "box").unwrap();
        cast.output(1_700_000_002_500, "one\r\n").unwrap();
        cast.flush().unwrap();
        cast.output(1_700_000_003_000, "lost").unwrap();
        // The gateway dies here: the frame is never ended.
        std::mem::forget(cast);
        assert!(zstd::stream::decode_all(&std::fs::read(&path).unwrap()[..]).is_err());
        assert_eq!(finish_unfinished(&path).unwrap(), Some(1_700_000_002_500));
        let finished = std::fs::read(&path).unwrap();
        let text = String::from_utf8(zstd::stream::decode_all(&finished[..]).unwrap()).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.ends_with("[2.5,\"o\",\"one\\r\\n\"]\n"), "{text}");
        // Finished already: left as it is.
        assert_eq!(finish_unfinished(&path).unwrap(), Some(1_700_000_002_500));
        assert_eq!(std::fs::read(&path).unwrap(), finished);
    }
}
