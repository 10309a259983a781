//! Any chunking of the server's bytes gives the same result, and a stream
//! cut anywhere is just "waiting for more", never an error.

use super::tight::{JPEG_RED_BLUE_16X8, compact};
use super::*;
use crate::encodings::test_support::Deflater;
use crate::{Framebuffer, Stats};

/// A session that uses every message and encoding: 3.8 with VncAuth,
/// ServerInit, then updates in Raw, CopyRect, ZRLE (twice, one stream),
/// Tight (fill, small copy, zlib palette, gradient, JPEG), Cursor,
/// DesktopSize, LastRect, and Bell, ServerCutText, SetColourMapEntries.
fn whole_session() -> Vec<u8> {
    let mut s = b"RFB 003.008\n".to_vec();
    s.extend_from_slice(&[1, 2]);
    s.extend_from_slice(&[0x55; 16]); // challenge
    s.extend_from_slice(&[0, 0, 0, 0]);
    s.extend_from_slice(&server_init(24, 12, b"chunked"));

    let mut zrle = Deflater::new();
    let mut zrle_body = |tiles: &[u8]| {
        let chunk = zrle.chunk(tiles);
        [&(chunk.len() as u32).to_be_bytes()[..], &chunk].concat()
    };
    let mut tight_z = Deflater::new();
    let palette_indices: Vec<u8> = (0..24).map(|i| i % 3).collect();
    let palette = tight_z.chunk(&palette_indices);
    let gradient = Deflater::new().chunk(&[0, 10, 100, 200, 5, 246, 200, 2, 10, 0, 3, 156]);
    let mut cursor = raw_pixels(4, [1, 2, 3]);
    cursor.extend_from_slice(&[0b1000_0000, 0b0100_0000]);

    let first = update(&[
        rect(0, 0, 3, 2, 0, &(0..24).collect::<Vec<u8>>()),
        rect(3, 0, 3, 2, 1, &[0, 0, 0, 0]),
        rect(0, 2, 8, 2, 16, &zrle_body(&[128, 9, 8, 7, 5, 6, 6, 6, 9])),
        rect(
            8,
            2,
            4,
            4,
            16,
            &zrle_body(&[130, 1, 1, 1, 2, 2, 2, 0x80, 7, 1, 0x80, 6]),
        ),
        rect(12, 0, 4, 4, 7, &[0x83, 40, 50, 60]),
        rect(16, 0, 1, 2, 7, &[0x00, 1, 2, 3, 4, 5, 6]),
        rect(
            16,
            4,
            8,
            3,
            7,
            &[
                &[0x61, 1, 2, 9, 9, 9, 8, 8, 8, 7, 7, 7][..],
                &compact(palette.len()),
                &palette,
            ]
            .concat(),
        ),
        rect(
            0,
            6,
            2,
            2,
            7,
            &[&[0x40, 2][..], &compact(gradient.len()), &gradient].concat(),
        ),
        rect(
            4,
            4,
            16,
            8,
            7,
            &[
                &[0x90][..],
                &compact(JPEG_RED_BLUE_16X8.len()),
                JPEG_RED_BLUE_16X8,
            ]
            .concat(),
        ),
        rect(1, 1, 2, 2, -239, &cursor),
    ]);
    s.extend_from_slice(&first);
    s.push(2); // Bell
    s.extend_from_slice(&[1, 0, 0, 5, 0, 1, 1, 2, 3, 4, 5, 6]); // SetColourMapEntries
    s.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 5, b'h', b'e', b'l', b'l', 0xF6]);
    s.extend_from_slice(&update_counted(
        0xFFFF,
        &[
            rect(0, 0, 30, 14, -223, &[]),
            rect(29, 13, 1, 1, 0, &[4, 5, 6, 0]),
            rect(0, 0, 0, 0, -224, &[]),
        ],
    ));
    s
}

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    output: Vec<u8>,
    framebuffer: Option<Framebuffer>,
    stats: Stats,
    result: Result<(), RfbError>,
}

fn run(chunks: &mut dyn Iterator<Item = &[u8]>) -> Outcome {
    let mut client = Client::new(ClientConfig {
        password: Some("chunky".into()),
        ..ClientConfig::default()
    });
    let mut output = Vec::new();
    let mut events = Vec::new();
    let mut result = Ok(());
    for chunk in chunks {
        result = client.receive(chunk);
        output.extend(client.take_output());
        events.extend(drain(&mut client));
        if result.is_err() {
            break;
        }
    }
    Outcome {
        events,
        output,
        framebuffer: client.framebuffer().cloned(),
        stats: client.stats(),
        result,
    }
}

#[test]
fn the_session_decodes_as_intended() {
    let session = whole_session();
    let whole = run(&mut std::iter::once(&session[..]));
    assert_eq!(whole.result, Ok(()));
    let stats = whole.stats;
    assert_eq!(
        (
            stats.updates,
            stats.raw_rects,
            stats.copy_rects,
            stats.zrle_rects
        ),
        (2, 2, 1, 2)
    );
    assert_eq!(
        (
            stats.tight_fill_rects,
            stats.tight_basic_rects,
            stats.tight_jpeg_rects
        ),
        (1, 3, 1)
    );
    assert_eq!((stats.cursor_rects, stats.resizes), (1, 1));
    assert!(whole.events.contains(&Event::CutText("hellö".into())));
    assert!(whole.events.contains(&Event::Bell));
    assert!(whole.events.ends_with(&[
        Event::Resized {
            width: 30,
            height: 14
        },
        Event::Damage(crate::Rect::new(29, 13, 1, 1)),
        Event::UpdateEnd
    ]));
    assert_eq!(whole.framebuffer.unwrap().pixel(29, 13), [4, 5, 6, 255]);
}

#[test]
fn byte_by_byte_equals_one_chunk() {
    let session = whole_session();
    let whole = run(&mut std::iter::once(&session[..]));
    let bytewise = run(&mut session.chunks(1));
    assert_eq!(bytewise, whole);
    let odd = run(&mut session.chunks(7));
    assert_eq!(odd, whole);
}

#[test]
fn every_two_way_split_equals_one_chunk() {
    let session = whole_session();
    let whole = run(&mut std::iter::once(&session[..]));
    for at in 0..=session.len() {
        let (a, b) = session.split_at(at);
        let split = run(&mut [a, b].into_iter());
        assert!(split == whole, "split at {at} differs");
    }
}

#[test]
fn a_stream_cut_anywhere_is_waiting_not_failing() {
    let session = whole_session();
    let whole = run(&mut std::iter::once(&session[..]));
    for at in 0..session.len() {
        let cut = run(&mut std::iter::once(&session[..at]));
        assert_eq!(cut.result, Ok(()), "cut at {at}");
        assert!(whole.events.starts_with(&cut.events), "cut at {at}");
        assert!(whole.output.starts_with(&cut.output), "cut at {at}");
    }
}
