//! Tight rectangles, well-formed and not.

use super::*;
use crate::encodings::test_support::Deflater;

const RED: [u8; 3] = [255, 0, 0];
const BLUE: [u8; 3] = [0, 0, 255];
pub(crate) const JPEG_RED_BLUE_16X8: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/red-blue-16x8.jpg"
));

/// The compact length encoding: 7 bits per byte, then 8.
pub(crate) fn compact(len: usize) -> Vec<u8> {
    let mut out = vec![(len & 0x7F) as u8];
    if len > 0x7F {
        out[0] |= 0x80;
        out.push(((len >> 7) & 0x7F) as u8);
        if len > 0x3FFF {
            out[1] |= 0x80;
            out.push((len >> 14) as u8);
        }
    }
    out
}

fn tight(x: u16, y: u16, w: u16, h: u16, body: &[u8]) -> Vec<u8> {
    rect(x, y, w, h, 7, body)
}

fn zlib_body(head: &[u8], deflater: &mut Deflater, data: &[u8]) -> Vec<u8> {
    let chunk = deflater.chunk(data);
    [head, &compact(chunk.len()), &chunk].concat()
}

#[test]
fn compact_lengths_of_one_two_and_three_bytes() {
    assert_eq!(compact(5), [5]);
    assert_eq!(compact(300), [0xAC, 0x02]);
    assert_eq!(compact(4_194_303), [0xFF, 0xFF, 0xFF]);
    // A 3-byte length over the limit fails on the length alone.
    let limits = Limits {
        max_compressed_len: 20_000,
        ..Limits::default()
    };
    let mut client = connected_with(with_limits(limits), 64, 64);
    let mut body = vec![0x00];
    body.extend_from_slice(&compact(20_001));
    let err = fails(&mut client, &update(&[tight(0, 0, 64, 64, &body)]));
    assert!(
        matches!(
            err,
            RfbError::LimitExceeded {
                value: 20_001,
                limit: 20_000,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn fill() {
    let mut client = connected(8, 8);
    client
        .receive(&update(&[tight(2, 2, 3, 3, &[0x80, 255, 0, 0])]))
        .unwrap();
    assert_eq!(rgb(&client, 4, 4), RED);
    assert_eq!(rgb(&client, 5, 5), [0, 0, 0]);
    assert_eq!(client.stats().tight_fill_rects, 1);
}

#[test]
fn basic_copy_small_and_compressed() {
    let mut client = connected(8, 8);
    // 1×3 = 9 bytes < 12: sent as is, no length.
    let small = [&[0x00][..], &RED, &BLUE, &[1, 2, 3]].concat();
    // 4×2 = 24 bytes: compressed on stream 1.
    let mut deflater = Deflater::new();
    let data: Vec<u8> = (0..24).collect();
    let big = zlib_body(&[0x10], &mut deflater, &data);
    client
        .receive(&update(&[
            tight(0, 0, 1, 3, &small),
            tight(4, 0, 4, 2, &big),
        ]))
        .unwrap();
    assert_eq!([rgb(&client, 0, 0), rgb(&client, 0, 2)], [RED, [1, 2, 3]]);
    assert_eq!(
        [rgb(&client, 4, 0), rgb(&client, 7, 1)],
        [[0, 1, 2], [21, 22, 23]]
    );
    // The stream carries on into the next rectangle…
    let more = zlib_body(&[0x10], &mut deflater, &[9; 24]);
    client
        .receive(&update(&[tight(4, 0, 4, 2, &more)]))
        .unwrap();
    assert_eq!(rgb(&client, 7, 1), [9, 9, 9]);
    // …until the server resets it (bit 1 resets stream 1).
    let mut fresh = Deflater::new();
    let reset = zlib_body(&[0x12], &mut fresh, &[7; 24]);
    client
        .receive(&update(&[tight(4, 0, 4, 2, &reset)]))
        .unwrap();
    assert_eq!(rgb(&client, 7, 1), [7, 7, 7]);
    // Without the reset, a fresh stream's header is garbage to the old one.
    let again = zlib_body(&[0x10], &mut Deflater::new(), &[6; 24]);
    let err = fails(&mut client, &update(&[tight(4, 0, 4, 2, &again)]));
    assert!(matches!(err, RfbError::Decode(_)), "{err}");
}

#[test]
fn palette_filter_two_colours_and_more() {
    let mut client = connected(16, 4);
    // Two colours: 1 bit per pixel, rows padded; 10×2 → 2 bytes a row, 4 < 12.
    let mono = [
        &[0x40, 1, 1][..],
        &RED,
        &BLUE,
        &[0b1000_0000, 0b1000_0000, 0xFF, 0xC0],
    ]
    .concat();
    // Three colours: a byte per pixel; 4×4 = 16 bytes, compressed.
    let mut deflater = Deflater::new();
    let indices = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 2];
    let head = [&[0x40, 1, 2][..], &RED, &BLUE, &[9, 9, 9]].concat();
    let three = zlib_body(&head, &mut deflater, &indices);
    client
        .receive(&update(&[
            tight(0, 0, 10, 2, &mono),
            tight(12, 0, 4, 4, &three),
        ]))
        .unwrap();
    assert_eq!(
        [rgb(&client, 0, 0), rgb(&client, 1, 0), rgb(&client, 9, 0)],
        [BLUE, RED, RED]
    );
    assert_eq!(
        [rgb(&client, 8, 0), rgb(&client, 9, 1), rgb(&client, 0, 1)],
        [BLUE, BLUE, BLUE]
    );
    assert_eq!(
        [
            rgb(&client, 12, 0),
            rgb(&client, 14, 0),
            rgb(&client, 15, 3)
        ],
        [RED, [9; 3], [9; 3]]
    );

    // An index past the palette is a lie.
    let bad = [&[0x40, 1, 1][..], &RED, &BLUE, &[0, 0, 0, 0]].concat();
    let mut client = connected(16, 4);
    client
        .receive(&update(&[tight(0, 0, 10, 2, &bad)]))
        .unwrap();
    let bad = [&[0x40, 1, 0][..], &RED, &[0x80, 0]].concat(); // 1 colour, bit 1 set
    let err = fails(&mut client, &update(&[tight(0, 0, 2, 2, &bad)]));
    assert!(
        err.to_string()
            .contains("palette index 1 in a palette of 1"),
        "{err}"
    );
}

#[test]
fn gradient_filter_predicts_from_left_and_above_with_clamping() {
    // Pixels (0,10,100) (200,15,90) / (200,12,110) (255,20,0): the last one's
    // red prediction is 200 + 200 − 0 = 400, clamped to 255.
    let residuals = [0, 10, 100, 200, 5, 246, 200, 2, 10, 0, 3, 156];
    let body = zlib_body(&[0x40, 2], &mut Deflater::new(), &residuals);
    let mut client = connected(2, 2);
    client
        .receive(&update(&[tight(0, 0, 2, 2, &body)]))
        .unwrap();
    assert_eq!(
        [
            rgb(&client, 0, 0),
            rgb(&client, 1, 0),
            rgb(&client, 0, 1),
            rgb(&client, 1, 1)
        ],
        [[0, 10, 100], [200, 15, 90], [200, 12, 110], [255, 20, 0]]
    );
}

#[test]
fn jpeg() {
    let mut client = connected(20, 10);
    let body = [
        &[0x90][..],
        &compact(JPEG_RED_BLUE_16X8.len()),
        JPEG_RED_BLUE_16X8,
    ]
    .concat();
    client
        .receive(&update(&[tight(2, 1, 16, 8, &body)]))
        .unwrap();
    let close = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) < 24);
    assert!(close(rgb(&client, 2, 1), RED), "{:?}", rgb(&client, 2, 1));
    assert!(
        close(rgb(&client, 17, 8), BLUE),
        "{:?}",
        rgb(&client, 17, 8)
    );
    assert_eq!(rgb(&client, 18, 9), [0, 0, 0]);
    assert_eq!(client.stats().tight_jpeg_rects, 1);

    // The same JPEG in a rectangle of another size is refused.
    let err = fails(&mut client, &update(&[tight(0, 0, 8, 8, &body)]));
    assert!(err.to_string().contains("JPEG"), "{err}");
}

#[test]
fn data_that_does_not_match_the_rectangle() {
    let mut deflater = Deflater::new();
    // Inflates to 23 bytes where 4×2 needs 24.
    let short = zlib_body(&[0x00], &mut deflater, &[1; 23]);
    let mut client = connected(8, 8);
    let err = fails(&mut client, &update(&[tight(0, 0, 4, 2, &short)]));
    assert!(
        err.to_string()
            .contains("inflates to 23 bytes; it needs 24"),
        "{err}"
    );
    // Inflates to 1 MiB where 24 bytes are needed.
    let long = zlib_body(&[0x00], &mut Deflater::new(), &vec![1; 1 << 20]);
    let mut client = connected(8, 8);
    let err = fails(&mut client, &update(&[tight(0, 0, 4, 2, &long)]));
    assert!(err.to_string().contains("more than the 24 bytes"), "{err}");
    // Filter 3 and compression type 10 (TightPNG) are not ours.
    let mut client = connected(8, 8);
    let err = fails(&mut client, &update(&[tight(0, 0, 4, 2, &[0x40, 3])]));
    assert!(err.to_string().contains("filter 3"), "{err}");
    let mut client = connected(8, 8);
    let err = fails(&mut client, &update(&[tight(0, 0, 4, 2, &[0xA0])]));
    assert!(err.to_string().contains("compression type 10"), "{err}");
}
