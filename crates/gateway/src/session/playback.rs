//! Serving graphical recordings for playback (issue 7): the index (duration, keyframes) and the
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
    pub duration_ms: u64,
    pub keyframes_ms: Vec<u64>,
    pub finished: bool,
}

pub fn index(path: &Path) -> Result<IndexView, String> {
    let reader = open(path)?;
    let index = reader.index();
    let start = index.first_timestamp_ms.unwrap_or(0);
    Ok(IndexView {
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

/// The stream from the last keyframe at or before `from_ms` (an offset from the start; the
/// beginning when `None`), as a response body, and that keyframe's offset.
pub fn stream(path: &Path, from_ms: Option<u64>) -> Result<(Body, u64), String> {
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
    tokio::task::spawn_blocking(move || {
        loop {
            let piece = match stream.next_chunk() {
                Ok(Some(piece)) => Ok(Bytes::copy_from_slice(piece)),
                Ok(None) => break,
                Err(e) => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            };
            let failed = piece.is_err();
            if tx.blocking_send(piece).is_err() || failed {
                break;
            }
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    }));
    Ok((body, keyframe_ms))
}
