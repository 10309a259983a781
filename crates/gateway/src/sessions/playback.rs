//! Serving graphical recordings for playback: the index (duration, keyframes) and the
//! instruction stream from the last keyframe before any moment, streamed chunk by chunk so a
//! recording of any length is served without holding it in memory, and a seek never replays
//! from the beginning.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use axum::body::{Body, Bytes};
use hoshu_guac::RecordingReader;
use serde::Serialize;

/// Chunks in flight between the reading thread and the browser: the bound on memory.
const CHUNKS_IN_FLIGHT: usize = 4;

/// A recording, finished (with its index) or still being written (index rebuilt).
pub fn open(path: &Path) -> Result<RecordingReader<BufReader<File>>, String> {
    let file = || File::open(path).map_err(|e| format!("cannot open recording: {e}"));
    RecordingReader::open(BufReader::new(file()?)).or_else(|_| {
        RecordingReader::open_unfinished(BufReader::new(file()?))
            .map_err(|e| format!("recording is unreadable: {e}"))
    })
}

/// What a player needs to draw its time line: times are offsets from the recording's start.
#[derive(Debug, Serialize)]
pub struct IndexView {
    /// The clock of the recording's `sync` timestamps at its start.
    pub start_ms: u64,
    pub duration_ms: u64,
    pub keyframes_ms: Vec<u64>,
    pub finished: bool,
}

pub fn index(path: &Path) -> Result<IndexView, String> {
    let reader = open(path)?;
    let index = reader.index();
    let start = index.first_timestamp_ms.unwrap_or(0);
    Ok(IndexView {
        start_ms: start,
        duration_ms: index
            .last_timestamp_ms
            .unwrap_or(start)
            .saturating_sub(start),
        keyframes_ms: index
            .keyframes
            .iter()
            .map(|k| k.timestamp_ms.saturating_sub(start))
            .collect(),
        finished: index.finished,
    })
}

/// The largest `sync` timestamp in `instructions` (whole Guacamole instructions).
fn last_sync_ms(instructions: &[u8]) -> Option<u64> {
    const SYNC: &[u8] = b"4.sync,";
    let mut last = None;
    let mut at = 0;
    while let Some(found) = instructions[at..]
        .windows(SYNC.len())
        .position(|w| w == SYNC)
    {
        let rest = &instructions[at + found + SYNC.len()..];
        // `<length>.<digits>`
        let value = rest.iter().position(|&b| b == b'.').and_then(|dot| {
            let len: usize = std::str::from_utf8(&rest[..dot]).ok()?.parse().ok()?;
            std::str::from_utf8(rest.get(dot + 1..dot + 1 + len)?)
                .ok()?
                .parse()
                .ok()
        });
        if value.is_some() {
            last = last.max(value);
        }
        at += found + SYNC.len();
    }
    last
}

/// The stream from the last keyframe at or before `from_ms` (an offset from the start; the
/// beginning when `None`) up to the first chunk that reaches `until_ms` (the end when `None`),
/// as a response body, and that keyframe's offset. A player fetches such windows, so it never
/// holds more than one in memory.
pub fn stream(
    path: &Path,
    from_ms: Option<u64>,
    until_ms: Option<u64>,
) -> Result<(Body, u64), String> {
    let reader = open(path)?;
    let start = reader.index().first_timestamp_ms.unwrap_or(0);
    let mut stream = match from_ms {
        Some(offset) => reader.stream_from(start.saturating_add(offset)),
        None => reader.stream(),
    }
    .map_err(|e| format!("recording is unreadable: {e}"))?;
    let keyframe_ms = stream
        .start()
        .map_or(0, |k| k.timestamp_ms.saturating_sub(start));
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    // Decompression is blocking work; a full channel (a slow browser) pauses it.
    let until = until_ms.map(|u| start.saturating_add(u));
    tokio::task::spawn_blocking(move || {
        loop {
            let (piece, reached) = match stream.next_chunk() {
                Ok(Some(piece)) => (
                    Ok(Bytes::copy_from_slice(piece)),
                    // A chunk may end mid-instruction: the player drops an unfinished last
                    // instruction, and the next window starts at a keyframe anyway.
                    until.is_some_and(|u| last_sync_ms(piece).is_some_and(|ts| ts >= u)),
                ),
                Ok(None) => break,
                Err(e) => (
                    Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
                    true,
                ),
            };
            if tx.blocking_send(piece).is_err() || reached {
                break;
            }
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    }));
    Ok((body, keyframe_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_sync_of_a_piece_is_found() {
        let piece = b"4.sync,13.1800000000001;3.img,1.1;4.sync,13.1800000000950;4.sync,2.12;";
        assert_eq!(last_sync_ms(piece), Some(1_800_000_000_950));
        assert_eq!(last_sync_ms(b"3.nop;"), None);
        assert_eq!(last_sync_ms(b"4.sync,9"), None, "cut off: no value");
    }
}
