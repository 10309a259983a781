//! The recording reader on arbitrary files: errors are fine, panics and
//! unbounded allocations are not (libFuzzer's -rss_limit_mb catches those).
#![no_main]

use std::io::{Cursor, Read};

use hoshu_guac::{RecordingReader, RecordingWriter, WriterConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    // Half the time start from a valid file header, so the fuzzer spends its
    // time past the magic.
    let mut file = Vec::new();
    if control & 1 != 0
        && let Ok(writer) = RecordingWriter::new(Vec::new(), WriterConfig::default())
    {
        file.extend_from_slice(writer.get_ref());
    }
    file.extend_from_slice(body);

    let seek_to = u64::from(control) * 1000;
    for unfinished in [false, true] {
        let open = |file: &[u8]| {
            let cursor = Cursor::new(file.to_vec());
            if unfinished {
                RecordingReader::open_unfinished(cursor)
            } else {
                RecordingReader::open(cursor)
            }
        };
        let Ok(reader) = open(&file) else {
            continue;
        };
        let stream_len = reader.index().stream_len;
        if let Ok(mut stream) = reader.stream() {
            let mut out = Vec::new();
            if stream.read_to_end(&mut out).is_ok() {
                assert_eq!(out.len() as u64, stream_len);
            }
        }
        if let Ok(reader) = open(&file)
            && let Ok(mut stream) = reader.stream_from(seek_to)
        {
            let _ = std::io::copy(&mut stream, &mut std::io::sink());
        }
    }
});
