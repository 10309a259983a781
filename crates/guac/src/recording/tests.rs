//! Writer and reader together: what is written reads back, whole and from
//! keyframes; damage is an error.

use std::io::{Cursor, Read};

use proptest::prelude::*;

use super::*;
use crate::encode::{CompositeMode, Layer, Rgba, ServerInstruction, StreamIndex, write_image};

/// A recording made the way the gateway makes one, and what it should read
/// back as.
struct Sample {
    file: Vec<u8>,
    stream: Vec<u8>,
    /// (timestamp, stream offset) of each keyframe.
    keyframes: Vec<(u64, u64)>,
}

fn full_state(out: &mut String, timestamp_ms: u64) {
    ServerInstruction::Size {
        layer: Layer::DEFAULT,
        width: 640,
        height: 480,
    }
    .encode_into(out);
    let image: Vec<u8> = (0..9000u32).map(|i| (i * 7 % 256) as u8).collect();
    write_image(
        out,
        StreamIndex(0),
        CompositeMode::Over,
        Layer::DEFAULT,
        "image/png",
        0,
        0,
        &image,
    );
    ServerInstruction::Sync { timestamp_ms }.encode_into(out);
}

fn sample(instructions: usize, keyframe_every: usize, config: WriterConfig) -> Sample {
    let mut writer = RecordingWriter::new(Vec::new(), config).unwrap();
    let mut stream = Vec::new();
    let mut keyframes = Vec::new();
    let mut out = String::new();
    for i in 0..instructions {
        let timestamp_ms = 1_700_000_000_000 + 40 * i as u64;
        out.clear();
        if i % keyframe_every == 0 {
            writer.keyframe(timestamp_ms).unwrap();
            keyframes.push((timestamp_ms, stream.len() as u64));
            full_state(&mut out, timestamp_ms);
        } else {
            let n = i as i32;
            ServerInstruction::Rect {
                layer: Layer::DEFAULT,
                x: n % 600,
                y: n % 400,
                width: 16,
                height: 16,
            }
            .encode_into(&mut out);
            ServerInstruction::Cfill {
                mode: CompositeMode::Over,
                layer: Layer::DEFAULT,
                color: Rgba {
                    r: (i % 256) as u8,
                    g: 128,
                    b: 0,
                    a: 255,
                },
            }
            .encode_into(&mut out);
            ServerInstruction::Sync { timestamp_ms }.encode_into(&mut out);
        }
        writer.write(timestamp_ms, out.as_bytes()).unwrap();
        stream.extend_from_slice(out.as_bytes());
    }
    Sample {
        file: writer.finish().unwrap(),
        stream,
        keyframes,
    }
}

fn small_chunks() -> WriterConfig {
    WriterConfig {
        chunk_len: 4096,
        level: 1,
    }
}

fn read_all<R: Read>(mut stream: R) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    stream.read_to_end(&mut out)?;
    Ok(out)
}

/// Everything a player could ask of a recording, so any damage shows up.
fn read_everything(file: &[u8]) -> Result<(), RecordingError> {
    let reader = RecordingReader::open(Cursor::new(file))?;
    let index = reader.index().clone();
    let mut stream = reader.stream()?;
    while stream.next_chunk()?.is_some() {}
    for keyframe in &index.keyframes {
        let mut stream =
            RecordingReader::open(Cursor::new(file))?.stream_from(keyframe.timestamp_ms)?;
        while stream.next_chunk()?.is_some() {}
    }
    Ok(())
}

#[test]
fn crc32_is_the_ieee_one() {
    assert_eq!(Crc32::new().update(b"123456789").finish(), 0xcbf4_3926);
    assert_eq!(Crc32::new().finish(), 0);
}

#[test]
fn reads_back_whole_and_from_keyframes() {
    let sample = sample(3000, 400, small_chunks());
    assert!(sample.stream.len() > 200_000, "spans many chunks");

    let reader = RecordingReader::open(Cursor::new(&sample.file)).unwrap();
    let index = reader.index().clone();
    assert!(index.finished);
    assert_eq!(index.stream_len, sample.stream.len() as u64);
    assert_eq!(index.first_timestamp_ms, Some(1_700_000_000_000));
    assert_eq!(index.last_timestamp_ms, Some(1_700_000_000_000 + 40 * 2999));
    let indexed: Vec<(u64, u64)> = index
        .keyframes
        .iter()
        .map(|k| (k.timestamp_ms, k.stream_offset))
        .collect();
    assert_eq!(indexed, sample.keyframes);

    let whole = read_all(reader.stream().unwrap()).unwrap();
    assert_eq!(whole, sample.stream);

    let (first_keyframe, _) = sample.keyframes[0];
    let seeks = [
        // Before the first keyframe: the start.
        (first_keyframe - 1, None),
        // Exactly at a keyframe, just after it, just before the next.
        (first_keyframe, Some(0)),
        (sample.keyframes[3].0, Some(3)),
        (sample.keyframes[3].0 + 1, Some(3)),
        (sample.keyframes[4].0 - 1, Some(3)),
        // Past the end: the last keyframe.
        (u64::MAX, Some(sample.keyframes.len() - 1)),
    ];
    for (t, expected) in seeks {
        let stream = RecordingReader::open(Cursor::new(&sample.file))
            .unwrap()
            .stream_from(t)
            .unwrap();
        let offset = expected.map_or(0, |k| sample.keyframes[k].1 as usize);
        assert_eq!(
            stream.start().map(|k| k.stream_offset as usize),
            expected.map(|_| offset)
        );
        let got = read_all(stream).unwrap();
        assert_eq!(got, &sample.stream[offset..], "seek to {t}");
        // Full state first: the display size, then the image.
        if expected.is_some() {
            assert!(got.starts_with(b"4.size,1.0,3.640,3.480;3.img,"));
        }
    }
}

#[test]
fn next_chunk_and_read_give_the_same_stream() {
    let sample = sample(300, 100, small_chunks());
    let mut stream = RecordingReader::open(Cursor::new(&sample.file))
        .unwrap()
        .stream()
        .unwrap();
    let mut got = Vec::new();
    while let Some(piece) = stream.next_chunk().unwrap() {
        assert!(piece.len() <= 4096);
        got.extend_from_slice(piece);
    }
    assert_eq!(got, sample.stream);
    // Small reads straddle chunk boundaries.
    let mut stream = RecordingReader::open(Cursor::new(&sample.file))
        .unwrap()
        .stream()
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 777];
    loop {
        let n = stream.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, sample.stream);
}

#[test]
fn plain_zstd_decompression_gives_the_playable_stream() {
    // `zstd -dc` skips the skippable frames: the file is a valid .zst.
    let sample = sample(500, 100, small_chunks());
    let decoded = zstd::stream::decode_all(Cursor::new(&sample.file)).unwrap();
    assert_eq!(decoded, sample.stream);
}

#[test]
fn every_damaged_byte_is_an_error() {
    // Small, so that trying every byte stays fast: several chunks, three
    // keyframes, an index.
    let mut writer = RecordingWriter::new(
        Vec::new(),
        WriterConfig {
            chunk_len: 64,
            level: 1,
        },
    )
    .unwrap();
    for i in 0..30u64 {
        if i % 10 == 0 {
            writer.keyframe(i * 40).unwrap();
        }
        let sync = ServerInstruction::Sync {
            timestamp_ms: i * 40,
        }
        .encode();
        writer
            .write(
                i * 40,
                format!("4.rect,1.0,1.{},1.1,1.1,1.1;{sync}", i % 10).as_bytes(),
            )
            .unwrap();
    }
    let file = writer.finish().unwrap();
    read_everything(&file).unwrap();
    assert_eq!(
        RecordingReader::open(Cursor::new(&file))
            .unwrap()
            .index()
            .keyframes
            .len(),
        3
    );
    for position in 0..file.len() {
        for flip in [0x01u8, 0x80] {
            let mut damaged = file.clone();
            damaged[position] ^= flip;
            assert!(
                read_everything(&damaged).is_err(),
                "flipping {flip:#04x} at byte {position} of {} went unnoticed",
                file.len()
            );
        }
    }
}

#[test]
fn truncated_recordings_are_errors_and_recoverable() {
    let sample = sample(300, 100, small_chunks());
    for cut in [0, 5, 17, 40, sample.file.len() / 2, sample.file.len() - 1] {
        let file = &sample.file[..cut];
        assert!(
            RecordingReader::open(Cursor::new(file)).is_err(),
            "cut at {cut}"
        );
        if cut < FILE_HEADER_LEN as usize {
            continue;
        }
        // Recovery keeps a prefix made of whole chunks.
        let reader = RecordingReader::open_unfinished(Cursor::new(file)).unwrap();
        let got = read_all(reader.stream().unwrap()).unwrap();
        assert!(sample.stream.starts_with(&got));
        if cut == sample.file.len() / 2 {
            assert!(got.len() > sample.stream.len() / 3);
        }
    }
}

#[test]
fn an_unfinished_writer_leaves_a_recoverable_file() {
    let mut writer = RecordingWriter::new(Vec::new(), small_chunks()).unwrap();
    writer.keyframe(10).unwrap();
    writer
        .write(10, b"4.size,1.0,2.64,2.48;4.sync,2.10;")
        .unwrap();
    writer.flush().unwrap();
    writer.write(20, b"4.sync,2.20;").unwrap();
    // The gateway dies here: no finish, and the open chunk is lost.
    let file = writer.get_ref().clone();
    drop(writer);

    assert!(matches!(
        RecordingReader::open(Cursor::new(&file)),
        Err(RecordingError::MissingIndex)
    ));
    let reader = RecordingReader::open_unfinished(Cursor::new(&file)).unwrap();
    assert_eq!(reader.index().keyframes.len(), 1);
    let got = read_all(reader.stream_from(15).unwrap()).unwrap();
    assert_eq!(got, b"4.size,1.0,2.64,2.48;4.sync,2.10;");
}

#[test]
fn an_unfinished_file_is_finished_where_its_last_whole_chunk_ends() {
    let sample = sample(300, 100, small_chunks());
    let whole = RecordingReader::open(Cursor::new(&sample.file)).unwrap();
    let index_at = whole.index().data_end as usize;
    for cut in [index_at, index_at - 7, sample.file.len() / 2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.guac.zst");
        std::fs::write(&path, &sample.file[..cut]).unwrap();
        let mut file = std::fs::File::options()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let index = finish_unfinished(&mut file).unwrap();
        assert!(index.finished, "cut at {cut}");
        let bytes = std::fs::read(&path).unwrap();
        let reader = RecordingReader::open(Cursor::new(&bytes)).unwrap();
        let got = read_all(reader.stream().unwrap()).unwrap();
        assert!(sample.stream.starts_with(&got), "cut at {cut}");
        if cut == index_at {
            assert_eq!(got, sample.stream, "every chunk was whole");
            assert_eq!(index.keyframes, whole.index().keyframes);
        }
        // Finishing again changes nothing.
        let again = finish_unfinished(&mut file).unwrap();
        assert_eq!(again, index);
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }
}

#[test]
fn a_finished_file_opens_as_unfinished_too() {
    let sample = sample(200, 50, small_chunks());
    let finished = RecordingReader::open(Cursor::new(&sample.file)).unwrap();
    let scanned = RecordingReader::open_unfinished(Cursor::new(&sample.file)).unwrap();
    assert!(!scanned.index().finished);
    assert_eq!(scanned.index().keyframes, finished.index().keyframes);
    assert_eq!(scanned.index().stream_len, finished.index().stream_len);
    assert_eq!(read_all(scanned.stream().unwrap()).unwrap(), sample.stream);
}

#[test]
fn writer_refuses_what_the_player_cannot_seek_in_without_failing() {
    let mut writer = RecordingWriter::new(Vec::new(), WriterConfig::default()).unwrap();
    assert!(matches!(
        writer.write(1, "4.name,2.日本;".as_bytes()),
        Err(RecordingError::NonAscii { position: 9 })
    ));
    assert!(matches!(
        writer.write(1, b"4.sync,1.1"),
        Err(RecordingError::NotInstructions)
    ));
    // Refused writes change nothing; the writer goes on.
    writer.write(1, b"4.sync,1.1;").unwrap();
    let file = writer.finish().unwrap();
    let got = read_all(
        RecordingReader::open(Cursor::new(&file))
            .unwrap()
            .stream()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(got, b"4.sync,1.1;");
}

#[test]
fn timestamps_that_go_back_are_held_at_the_latest() {
    let mut writer = RecordingWriter::new(Vec::new(), WriterConfig::default()).unwrap();
    writer.write(1000, b"3.nop;").unwrap();
    writer.keyframe(900).unwrap();
    writer.write(900, b"3.nop;").unwrap();
    let file = writer.finish().unwrap();
    let reader = RecordingReader::open(Cursor::new(&file)).unwrap();
    assert_eq!(reader.index().keyframes[0].timestamp_ms, 1000);
    assert_eq!(reader.index().last_timestamp_ms, Some(1000));
}

#[test]
fn consecutive_keyframes_keep_the_last() {
    let mut writer = RecordingWriter::new(Vec::new(), WriterConfig::default()).unwrap();
    writer.keyframe(5).unwrap();
    writer.keyframe(7).unwrap();
    writer.write(8, b"3.nop;").unwrap();
    writer.keyframe(9).unwrap();
    let file = writer.finish().unwrap();
    let reader = RecordingReader::open(Cursor::new(&file)).unwrap();
    let timestamps: Vec<u64> = reader
        .index()
        .keyframes
        .iter()
        .map(|k| k.timestamp_ms)
        .collect();
    assert_eq!(timestamps, [7]);
    assert_eq!(reader.index().keyframe_at(6), None);
    assert_eq!(
        reader.index().keyframe_at(7).map(|k| k.stream_offset),
        Some(0)
    );
}

#[test]
fn empty_recording_reads_as_empty() {
    let file = RecordingWriter::new(Vec::new(), WriterConfig::default())
        .unwrap()
        .finish()
        .unwrap();
    let reader = RecordingReader::open(Cursor::new(&file)).unwrap();
    assert_eq!(reader.index().stream_len, 0);
    assert_eq!(reader.index().first_timestamp_ms, None);
    assert!(
        read_all(reader.stream_from(123).unwrap())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_failing_sink_poisons_the_writer() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    assert!(matches!(
        RecordingWriter::new(Broken, WriterConfig::default()),
        Err(RecordingError::Io(_))
    ));

    /// Accepts the header, then fails.
    struct FailsAfter(usize);
    impl std::io::Write for FailsAfter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 < buf.len() {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut writer = RecordingWriter::new(FailsAfter(17), WriterConfig::default()).unwrap();
    writer.write(1, b"3.nop;").unwrap();
    assert!(matches!(writer.flush(), Err(RecordingError::Io(_))));
    assert!(matches!(
        writer.write(2, b"3.nop;"),
        Err(RecordingError::Poisoned)
    ));
    assert!(matches!(writer.finish(), Err(RecordingError::Poisoned)));
}

/// Builds a file from the real header and a hand-made chunk header.
fn file_with_chunk(header: ChunkHeader, frame: &[u8]) -> Vec<u8> {
    let mut file = RecordingWriter::new(Vec::new(), WriterConfig::default())
        .unwrap()
        .get_ref()
        .clone();
    file.extend_from_slice(&header.to_bytes());
    file.extend_from_slice(frame);
    file
}

#[test]
fn hostile_lengths_are_refused_before_allocating() {
    let frame = zstd::bulk::compress(b"3.nop;", 1).unwrap();
    let honest = ChunkHeader {
        keyframe: false,
        timestamp_ms: 1,
        stream_offset: 0,
        stream_len: 6,
        compressed_len: frame.len() as u32,
        crc: 0,
    };
    let with_crc = |mut h: ChunkHeader| {
        h.crc = Crc32::new().update(&h.fields()).update(&frame).finish();
        h
    };
    let read = |file: Vec<u8>| -> Result<Vec<u8>, RecordingError> {
        let mut stream = RecordingReader::open_unfinished(Cursor::new(file))?.stream()?;
        let mut out = Vec::new();
        while let Some(piece) = stream.next_chunk()? {
            out.extend_from_slice(piece);
        }
        Ok(out)
    };
    assert_eq!(
        read(file_with_chunk(with_crc(honest), &frame)).unwrap(),
        b"3.nop;"
    );

    let huge = ChunkHeader {
        stream_len: u32::MAX,
        ..honest
    };
    assert!(matches!(
        read(file_with_chunk(with_crc(huge), &frame)),
        Err(RecordingError::CorruptChunk { offset: 17, .. })
    ));
    let huge_compressed = ChunkHeader {
        compressed_len: u32::MAX,
        ..honest
    };
    assert!(read(file_with_chunk(with_crc(huge_compressed), &frame)).is_err());
    // A frame that expands beyond its declared length, checksum and all.
    let lying = ChunkHeader {
        stream_len: 3,
        ..honest
    };
    assert!(matches!(
        read(file_with_chunk(with_crc(lying), &frame)),
        Err(RecordingError::CorruptChunk { .. })
    ));
    // A zstd bomb: 1 MiB of zeros compresses to a few bytes; declared
    // small, it must not be decompressed past the declaration.
    let bomb = zstd::bulk::compress(&vec![0u8; MAX_CHUNK_LEN], 1).unwrap();
    let mut bomb_header = ChunkHeader {
        stream_len: 10,
        compressed_len: bomb.len() as u32,
        ..honest
    };
    bomb_header.crc = Crc32::new()
        .update(&bomb_header.fields())
        .update(&bomb)
        .finish();
    assert!(read(file_with_chunk(bomb_header, &bomb)).is_err());
}

#[test]
fn index_claiming_many_keyframes_is_refused() {
    let sample = sample(20, 5, WriterConfig::default());
    let mut file = sample.file.clone();
    // The count field sits right after the index frame header and version.
    let index_offset =
        u64::from_le_bytes(file[file.len() - 20..file.len() - 12].try_into().unwrap()) as usize;
    file[index_offset + 9..index_offset + 13].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        RecordingReader::open(Cursor::new(&file)),
        Err(RecordingError::CorruptIndex(_))
    ));
}

#[test]
fn not_a_recording() {
    for file in [
        &b""[..],
        b"hello world, this is not a recording",
        &[0u8; 64],
    ] {
        assert!(matches!(
            RecordingReader::open(Cursor::new(file)),
            Err(RecordingError::NotARecording)
        ));
    }
    let mut file = sample(3, 2, WriterConfig::default()).file;
    file[16] = 2;
    assert!(matches!(
        RecordingReader::open(Cursor::new(&file)),
        Err(RecordingError::UnsupportedVersion(2))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn garbage_after_a_valid_header_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut file = RecordingWriter::new(Vec::new(), WriterConfig::default()).unwrap().get_ref().clone();
        file.extend_from_slice(&body);
        let _ = read_everything(&file);
        if let Ok(reader) = RecordingReader::open_unfinished(Cursor::new(&file)) {
            let _ = read_all(reader.stream().unwrap());
        }
    }

    #[test]
    fn any_writes_and_keyframes_read_back(
        steps in proptest::collection::vec((any::<bool>(), 0u64..50, "[a-z0-9.,]{0,300}"), 1..40),
        chunk_len in 1usize..600,
    ) {
        let mut writer = RecordingWriter::new(Vec::new(), WriterConfig { chunk_len, level: 1 }).unwrap();
        let mut stream = Vec::new();
        let mut keyframes: Vec<(u64, usize)> = Vec::new();
        let mut now = 0;
        for (keyframe, step, text) in steps {
            now += step;
            if keyframe {
                writer.keyframe(now).unwrap();
                // A later keyframe at the same stream position replaces it.
                keyframes.retain(|&(_, offset)| offset != stream.len());
                keyframes.push((now, stream.len()));
            }
            let instruction = format!("{text};");
            writer.write(now, instruction.as_bytes()).unwrap();
            stream.extend_from_slice(instruction.as_bytes());
        }
        let file = writer.finish().unwrap();
        let whole = read_all(RecordingReader::open(Cursor::new(&file)).unwrap().stream().unwrap()).unwrap();
        prop_assert_eq!(&whole, &stream);
        for &(t, offset) in &keyframes {
            let reader = RecordingReader::open(Cursor::new(&file)).unwrap();
            let expected = reader.index().keyframe_at(t).map_or(0, |k| k.stream_offset as usize);
            // Several keyframes may share a timestamp; the last one wins.
            prop_assert!(expected >= offset);
            let got = read_all(reader.stream_from(t).unwrap()).unwrap();
            prop_assert_eq!(&got[..], &stream[expected..]);
        }
    }
}
