//! What a well-behaved server sends after the handshake.

use super::*;
use crate::Rect;
use crate::encodings::test_support::Deflater;

const RED: [u8; 3] = [255, 0, 0];
const GREEN: [u8; 3] = [0, 255, 0];

#[test]
fn raw_rectangles_are_applied_and_reported() {
    let mut client = connected(4, 3);
    let mut pixels = raw_pixels(2, RED);
    pixels.extend_from_slice(&[1, 2, 3, 99, 4, 5, 6, 99]);
    client
        .receive(&update(&[
            rect(1, 1, 2, 2, 0, &pixels),
            rect(0, 0, 0, 3, 0, &[]),
        ]))
        .unwrap();
    assert_eq!(
        drain(&mut client),
        [Event::Damage(Rect::new(1, 1, 2, 2)), Event::UpdateEnd],
        "an empty rectangle changes nothing"
    );
    assert_eq!(rgb(&client, 2, 1), RED);
    assert_eq!(rgb(&client, 1, 2), [1, 2, 3]);
    assert_eq!(
        client.framebuffer().unwrap().pixel(2, 2),
        [4, 5, 6, 255],
        "x byte is not alpha"
    );
    assert_eq!(rgb(&client, 0, 0), [0, 0, 0]);
    let stats = client.stats();
    assert_eq!((stats.updates, stats.raw_rects), (1, 2));
}

#[test]
fn empty_updates_still_end() {
    let mut client = connected(4, 3);
    client.receive(&update(&[])).unwrap();
    assert_eq!(drain(&mut client), [Event::UpdateEnd]);
}

#[test]
fn copy_rect_moves_pixels() {
    let mut client = connected(4, 4);
    client
        .receive(&update(&[
            rect(0, 0, 2, 2, 0, &raw_pixels(4, GREEN)),
            rect(1, 1, 2, 2, 1, &[0, 0, 0, 0]),
        ]))
        .unwrap();
    assert_eq!(
        drain(&mut client),
        [
            Event::Damage(Rect::new(0, 0, 2, 2)),
            Event::Copy {
                src_x: 0,
                src_y: 0,
                dst: Rect::new(1, 1, 2, 2)
            },
            Event::UpdateEnd
        ]
    );
    assert_eq!(rgb(&client, 2, 2), GREEN);
    assert_eq!(rgb(&client, 3, 3), [0, 0, 0]);
}

#[test]
fn zrle_uses_one_stream_for_the_connection() {
    let mut client = connected(4, 4);
    let mut deflater = Deflater::new();
    let mut body = |tiles: &[u8]| {
        let chunk = deflater.chunk(tiles);
        let mut body = (chunk.len() as u32).to_be_bytes().to_vec();
        body.extend_from_slice(&chunk);
        body
    };
    let first = body(&[1, 255, 0, 0]);
    let second = body(&[1, 0, 255, 0]);
    client
        .receive(&update(&[rect(0, 0, 4, 4, 16, &first)]))
        .unwrap();
    client
        .receive(&update(&[rect(2, 2, 2, 2, 16, &second)]))
        .unwrap();
    assert_eq!(rgb(&client, 0, 0), RED);
    assert_eq!(rgb(&client, 3, 3), GREEN);
    assert_eq!(client.stats().zrle_rects, 2);
}

#[test]
fn bell_cut_text_and_colour_map() {
    let mut client = connected(4, 4);
    let mut bytes = vec![2];
    bytes.extend_from_slice(&[1, 0, 0, 0, 0, 2]); // SetColourMapEntries: 2 colours
    bytes.extend_from_slice(&[0; 12]);
    bytes.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 4, b'c', 0xE9, b'\n', b'!']);
    client.receive(&bytes).unwrap();
    assert_eq!(
        drain(&mut client),
        [Event::Bell, Event::CutText("cé\n!".into())]
    );
}

#[test]
fn desktop_size_replaces_the_framebuffer() {
    let mut client = connected(4, 4);
    client
        .receive(&update(&[
            rect(0, 0, 4, 4, 0, &raw_pixels(16, RED)),
            rect(0, 0, 6, 2, -223, &[]),
            rect(5, 1, 1, 1, 0, &raw_pixels(1, GREEN)),
        ]))
        .unwrap();
    assert_eq!(
        drain(&mut client),
        [
            Event::Damage(Rect::new(0, 0, 4, 4)),
            Event::Resized {
                width: 6,
                height: 2
            },
            Event::Damage(Rect::new(5, 1, 1, 1)),
            Event::UpdateEnd
        ]
    );
    let fb = client.framebuffer().unwrap();
    assert_eq!((fb.width(), fb.height()), (6, 2));
    assert_eq!(rgb(&client, 0, 0), [0, 0, 0], "cleared to black");
    assert_eq!(rgb(&client, 5, 1), GREEN);
    client.request_update(true);
    assert_eq!(client.take_output(), [3, 1, 0, 0, 0, 0, 0, 6, 0, 2]);
}

#[test]
fn receive_some_stops_after_each_resize() {
    let mut client = connected(4, 4);
    let bytes = update(&[
        rect(0, 0, 8, 8, -223, &[]),
        rect(0, 0, 2, 2, -223, &[]),
        rect(0, 0, 1, 1, 0, &raw_pixels(1, GREEN)),
    ]);
    client.receive_some(&bytes).unwrap();
    assert!(client.has_input_left());
    assert_eq!(
        drain(&mut client),
        [Event::Resized {
            width: 8,
            height: 8
        }]
    );
    client.receive_some(&[]).unwrap();
    assert!(client.has_input_left());
    assert_eq!(
        drain(&mut client),
        [Event::Resized {
            width: 2,
            height: 2
        }]
    );
    client.receive_some(&[]).unwrap();
    assert!(!client.has_input_left());
    assert_eq!(
        drain(&mut client),
        [Event::Damage(Rect::new(0, 0, 1, 1)), Event::UpdateEnd]
    );
}

#[test]
fn a_desktop_of_more_pixels_than_the_budget_is_refused() {
    let limits = Limits {
        max_pixels: 16 * 16,
        ..Limits::default()
    };
    let mut client = connected_with(with_limits(limits), 4, 4);
    let err = fails(&mut client, &update(&[rect(0, 0, 32, 16, -223, &[])]));
    assert_eq!(
        err,
        RfbError::DesktopTooManyPixels {
            width: 32,
            height: 16,
            max_pixels: 256
        }
    );
}

#[test]
fn extended_desktop_size() {
    let mut client = connected(4, 4);
    let one_screen = |w: u16, h: u16| {
        let mut body = vec![1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        body.extend_from_slice(&w.to_be_bytes());
        body.extend_from_slice(&h.to_be_bytes());
        body.extend_from_slice(&[0, 0, 0, 0]);
        body
    };
    client
        .receive(&update(&[
            rect(0, 0, 4, 4, -308, &one_screen(4, 4)), // same size: nothing
            rect(1, 3, 9, 9, -308, &one_screen(9, 9)), // status 3: refused, nothing
            rect(0, 0, 7, 5, -308, &one_screen(7, 5)),
        ]))
        .unwrap();
    assert_eq!(
        drain(&mut client),
        [
            Event::Resized {
                width: 7,
                height: 5
            },
            Event::UpdateEnd
        ]
    );
}

#[test]
fn rich_cursor_uses_the_mask_as_alpha() {
    let mut client = connected(4, 4);
    let mut body = raw_pixels(3, RED);
    body.extend_from_slice(&raw_pixels(3, GREEN));
    body.extend_from_slice(&[0b1010_0000, 0b0110_0000]);
    client
        .receive(&update(&[rect(1, 0, 3, 2, -239, &body)]))
        .unwrap();
    let Some(Event::Cursor {
        hotspot_x,
        hotspot_y,
        width,
        height,
        rgba,
    }) = client.next_event()
    else {
        panic!("no cursor")
    };
    assert_eq!((hotspot_x, hotspot_y, width, height), (1, 0, 3, 2));
    let alpha: Vec<u8> = rgba.chunks(4).map(|p| p[3]).collect();
    assert_eq!(alpha, [255, 0, 255, 0, 255, 255]);
    assert_eq!(&rgba[..3], &RED);
    assert_eq!(&rgba[12..15], &GREEN);
    assert_eq!(client.next_event(), Some(Event::UpdateEnd));
}

#[test]
fn last_rect_ends_an_open_update() {
    let mut client = connected(4, 4);
    client
        .receive(&update_counted(
            0xFFFF,
            &[
                rect(0, 0, 1, 1, 0, &raw_pixels(1, RED)),
                rect(0, 0, 0, 0, -224, &[]),
            ],
        ))
        .unwrap();
    assert_eq!(
        drain(&mut client),
        [Event::Damage(Rect::new(0, 0, 1, 1)), Event::UpdateEnd]
    );
    // And the stream goes on normally.
    client.receive(&[2]).unwrap();
    assert_eq!(drain(&mut client), [Event::Bell]);
}

#[test]
fn input_events_after_connect() {
    let mut client = connected(100, 50);
    client.key_event(0xFF0D, true);
    client.pointer_event(500, 20, 0b101);
    client.client_cut_text("a€");
    assert_eq!(
        client.take_output(),
        [
            &[4, 1, 0, 0, 0, 0, 0xFF, 0x0D][..],
            &[5, 0b101, 0, 99, 0, 20],
            &[6, 0, 0, 0, 0, 0, 0, 2, b'a', b'?'],
        ]
        .concat()
    );
    assert!(client.take_output().is_empty());
}
