//! The Guacamole side: the instruction decoder (what a browser sends) and session recordings
//! (files on disk, which may be corrupt or tampered with).

use std::io::{Cursor, Read};

use hoshu_guac::{
    ClientEvent, DecodeError, Decoder, Instruction, Limits, RecordingReader, RecordingWriter,
    WriterConfig,
};

fn decode_whole(
    limits: Limits,
    input: &[u8],
) -> (
    Vec<Result<Instruction, DecodeError>>,
    Result<(), DecodeError>,
) {
    let mut decoder = Decoder::new(limits);
    let out = decoder.feed(input).collect();
    (out, decoder.finish())
}

/// The Guacamole instruction decoder on arbitrary bytes from a browser.
///
/// Beyond "never panics, never grows without bound" (the limits hold memory to one
/// instruction), it checks that chunking never changes the result, that small limits are
/// enforced, and that what decodes re-encodes to something that decodes the same.
///
/// Input: one control byte (chunk size, tight limits or not), then the bytes.
pub fn guac_decoder(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    // The control byte picks the chunk size and whether to use tight limits, so the fuzzer
    // explores limit violations on short inputs too.
    let chunk = usize::from(control & 0x3f) + 1;
    let limits = if control & 0x40 != 0 {
        Limits {
            max_elements: 4,
            max_element_length: 16,
            max_instruction_length: 48,
        }
    } else {
        Limits::default()
    };

    let (whole, whole_end) = decode_whole(limits, input);

    let mut decoder = Decoder::new(limits);
    let mut chunked = Vec::new();
    for piece in input.chunks(chunk) {
        chunked.extend(decoder.feed(piece));
        if chunked.last().is_some_and(Result::is_err) {
            break;
        }
    }
    assert_eq!(whole, chunked, "chunking changed the result");
    if whole.last().is_none_or(Result::is_ok) {
        assert_eq!(whole_end, decoder.finish(), "chunking changed the end");
    }

    for instruction in whole.iter().filter_map(|r| r.as_ref().ok()) {
        let elements = 1 + instruction.args.len();
        assert!(
            elements <= limits.max_elements,
            "{elements} elements passed"
        );
        for element in std::iter::once(&instruction.opcode).chain(&instruction.args) {
            assert!(
                hoshu_guac::utf16_len(element) <= limits.max_element_length,
                "an element of {} UTF-16 units passed",
                hoshu_guac::utf16_len(element)
            );
        }
        // Typing must not panic; errors are fine.
        let _ = ClientEvent::parse(instruction);

        // Re-encoding is canonical (no leading zeros), so it is never longer than the input
        // and decodes to the same instruction.
        let encoded = instruction.encode();
        assert!(
            encoded.len() <= limits.max_instruction_length,
            "re-encoded to {} bytes",
            encoded.len()
        );
        let (again, end) = decode_whole(limits, encoded.as_bytes());
        assert_eq!(
            again,
            vec![Ok(instruction.clone())],
            "re-encoding changed it"
        );
        assert_eq!(end, Ok(()));
    }
}

/// The recording reader: errors are fine, panics and unbounded allocations are not
/// (libFuzzer's `-rss_limit_mb` catches those).
///
/// Input: one control byte, then the body. With bit 1 of the control byte clear the body is a
/// file for the reader (bit 0: after a valid file header, so the fuzzer spends its time past
/// the magic). With bit 1 set the body is a script for the writer ([`written_recording`]): a
/// valid file made from it must read back exactly, and one with a byte changed must read back
/// exactly or not at all — random bytes rarely get past the chunks' CRCs, this mode does.
pub fn guac_recording(data: &[u8]) {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    if control & 2 != 0 {
        written_recording(control, body);
        return;
    }
    let mut file = Vec::new();
    if control & 1 != 0
        && let Ok(writer) = RecordingWriter::new(Vec::new(), WriterConfig::default())
    {
        file.extend_from_slice(writer.get_ref());
    }
    file.extend_from_slice(body);
    read_any(&file, u64::from(control) * 1000, None);
}

/// Reads `file` every way a player does (finished or not, from the start or from the keyframe
/// before `seek_to`). Must not panic. When `expected` is given, every stream that reads to the
/// end without an error must be that stream (or, from a keyframe, its tail) — or a prefix of
/// it when the index was rebuilt ([`same_or_cut`]).
fn read_any(file: &[u8], seek_to: u64, expected: Option<&[u8]>) {
    for unfinished in [false, true] {
        let open = |file: &[u8]| {
            let cursor = Cursor::new(file.to_vec());
            if unfinished {
                RecordingReader::open_unfinished(cursor)
            } else {
                RecordingReader::open(cursor)
            }
        };
        let Ok(reader) = open(file) else {
            continue;
        };
        let stream_len = reader.index().stream_len;
        if let Ok(mut stream) = reader.stream() {
            let mut out = Vec::new();
            if stream.read_to_end(&mut out).is_ok() {
                assert_eq!(
                    out.len() as u64,
                    stream_len,
                    "stream length is not the index's"
                );
                if let Some(expected) = expected {
                    assert!(
                        same_or_cut(unfinished, &out, expected),
                        "a changed file read back as other instructions"
                    );
                }
            }
        }
        if let Ok(reader) = open(file)
            && let Ok(mut stream) = reader.stream_from(seek_to)
        {
            let start = stream.start().map_or(0, |k| k.stream_offset);
            let mut out = Vec::new();
            if stream.read_to_end(&mut out).is_ok()
                && let Some(expected) = expected
            {
                let tail = usize::try_from(start)
                    .ok()
                    .and_then(|start| expected.get(start..));
                assert!(
                    tail.is_some_and(|tail| same_or_cut(unfinished, &out, tail)),
                    "a changed file read back as other instructions from its keyframe"
                );
            }
        }
    }
}

/// Whether `out` is what a changed file may read back as: `expected` itself from its index;
/// when the index is rebuilt, a prefix (a changed length makes a chunk look cut off, and the
/// walk stops before it, as it does for a file whose writer stopped mid-chunk).
fn same_or_cut(unfinished: bool, out: &[u8], expected: &[u8]) -> bool {
    if unfinished {
        expected.starts_with(out)
    } else {
        out == expected
    }
}

/// Offset of the first chunk: the file header's length (format version 1).
const FILE_HEADER_LEN: usize = 17;

/// Writes a recording from a script and reads it back.
///
/// The body is split after each `;`; each piece is one `write` (non-ASCII pieces and pieces
/// without a final `;` must be refused and change nothing). A piece starting with 0x01 is
/// preceded by a keyframe, 0x02 turns the clock back (the writer must keep it monotonic),
/// 0x03 flushes. The chunk length comes from the control byte, down to one byte, so a short
/// script still makes many chunks.
fn written_recording(control: u8, body: &[u8]) {
    let config = WriterConfig {
        chunk_len: 1 + usize::from(control >> 2) * 3,
        level: 1,
    };
    let Ok(mut writer) = RecordingWriter::new(Vec::new(), config) else {
        return;
    };
    let mut expected = Vec::new();
    let mut clock = 0u64;
    let mut keyframes_asked = 0usize;
    for piece in body.split_inclusive(|&b| b == b';') {
        clock += piece.len() as u64;
        match piece.first() {
            Some(0x01) => {
                keyframes_asked += 1;
                assert!(writer.keyframe(clock).is_ok(), "keyframe refused");
            }
            Some(0x02) => clock = clock.saturating_sub(5000),
            Some(0x03) => assert!(writer.flush().is_ok(), "flush refused"),
            _ => {}
        }
        let valid = piece.is_empty() || (piece.is_ascii() && piece.last() == Some(&b';'));
        let result = writer.write(clock, piece);
        assert_eq!(result.is_ok(), valid, "write of {piece:?}: {result:?}");
        if result.is_ok() {
            expected.extend_from_slice(piece);
        }
        assert_eq!(writer.stream_len(), expected.len() as u64, "stream length");
    }
    let Ok(file) = writer.finish() else {
        panic!("finishing a recording in memory failed");
    };

    // The finished file reads back exactly, from the start and from every keyframe.
    let reader = match RecordingReader::open(Cursor::new(file.as_slice())) {
        Ok(reader) => reader,
        Err(e) => panic!("a written recording does not open: {e}"),
    };
    let index = reader.index().clone();
    assert!(index.finished);
    assert_eq!(
        index.stream_len,
        expected.len() as u64,
        "index stream length"
    );
    assert!(
        index.keyframes.len() <= keyframes_asked,
        "more keyframes than asked"
    );
    assert_eq!(read_stream(reader.stream()), expected, "stream read back");
    for keyframe in index.keyframes.iter().take(8) {
        let reader = RecordingReader::open(Cursor::new(file.as_slice()));
        let Ok(stream) = reader.and_then(|r| r.stream_from(keyframe.timestamp_ms)) else {
            panic!("no stream from keyframe {keyframe:?}");
        };
        let start = stream.start();
        assert_eq!(start, index.keyframe_at(keyframe.timestamp_ms));
        let from = start.map_or(0, |k| k.stream_offset as usize);
        assert_eq!(
            read_stream(Ok(stream)),
            expected[from..],
            "stream from {keyframe:?}"
        );
    }

    // Read as unfinished, the same file gives the same index (rebuilt from the chunks) and
    // stream; cut short anywhere after the header, it gives a prefix of the stream.
    let unfinished = match RecordingReader::open_unfinished(Cursor::new(file.as_slice())) {
        Ok(reader) => reader,
        Err(e) => panic!("a written recording does not open as unfinished: {e}"),
    };
    assert_eq!(
        unfinished.index().keyframes,
        index.keyframes,
        "rebuilt keyframes"
    );
    assert_eq!(
        unfinished.index().stream_len,
        index.stream_len,
        "rebuilt stream length"
    );
    assert_eq!(
        read_stream(unfinished.stream()),
        expected,
        "unfinished stream"
    );
    let spot = body.len().wrapping_mul(7919) ^ usize::from(control);
    let cut = FILE_HEADER_LEN + spot % (file.len() - FILE_HEADER_LEN + 1);
    let cut_file = &file[..cut];
    match RecordingReader::open_unfinished(Cursor::new(cut_file)) {
        Ok(reader) => {
            let prefix = read_stream(reader.stream());
            assert!(
                expected.starts_with(&prefix),
                "a cut file read back other bytes"
            );
        }
        Err(e) => panic!(
            "a recording cut at {cut} of {} does not open: {e}",
            file.len()
        ),
    }

    // One byte changed: the reader may refuse it, but must never hand out other instructions.
    let mut changed = file.clone();
    let at = spot % changed.len();
    changed[at] ^= 1 << (body.len() % 8);
    let seek_to = index.keyframes.last().map_or(0, |k| k.timestamp_ms);
    read_any(&changed, seek_to, Some(&expected));
}

fn read_stream<R: Read>(stream: Result<R, hoshu_guac::RecordingError>) -> Vec<u8> {
    let mut out = Vec::new();
    match stream {
        Ok(mut stream) => {
            if let Err(e) = stream.read_to_end(&mut out) {
                panic!("a written recording does not read back: {e}");
            }
        }
        Err(e) => panic!("a written recording has no stream: {e}"),
    }
    out
}
