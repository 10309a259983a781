//! Every way a hostile server can lie ends the session with an error that
//! says what happened — before anything is allocated for the lie.

use super::*;
use crate::Rect;
use crate::encodings::test_support::Deflater;

#[test]
fn absurd_desktop_size() {
    let mut client = Client::new(ClientConfig::default());
    let mut bytes = handshake(8, 8);
    let init = bytes.len() - server_init(8, 8, b"test desktop").len();
    bytes[init..init + 4].copy_from_slice(&[0xFF, 0xFF, 0x27, 0x10]);
    let err = fails(&mut client, &bytes);
    assert_eq!(
        err.to_string(),
        "server asked for a 65535×10000 desktop; the limit is 8192×8192"
    );

    let mut client = Client::new(ClientConfig::default());
    let mut bytes = handshake(8, 8);
    bytes[init..init + 4].copy_from_slice(&[0, 0, 0, 8]);
    assert!(matches!(fails(&mut client, &bytes), RfbError::Malformed(m) if m.contains("0×8")));
}

#[test]
fn name_length_of_4_gb_fails_before_waiting_for_the_name() {
    let mut client = Client::new(ClientConfig::default());
    let mut bytes = handshake(8, 8);
    let name_at = bytes.len() - b"test desktop".len() - 4;
    bytes.truncate(name_at);
    bytes.extend_from_slice(&u32::MAX.to_be_bytes());
    // No name bytes follow: the length alone is enough to end the session.
    let err = fails(&mut client, &bytes);
    assert_eq!(
        err,
        RfbError::LimitExceeded {
            what: "a desktop name length",
            value: u64::from(u32::MAX),
            limit: 4096
        }
    );
    assert_eq!(
        err.to_string(),
        "server sent a desktop name length of 4294967295; the limit is 4096"
    );
}

#[test]
fn rect_outside_the_framebuffer() {
    for (x, y, w, h) in [(0, 0, 11, 1), (10, 0, 1, 1), (0, 9, 1, 2), (65535, 0, 2, 1)] {
        let mut client = connected(10, 10);
        let err = fails(&mut client, &update(&[rect(x, y, w, h, 0, &[])]));
        assert_eq!(
            err,
            RfbError::RectOutsideFramebuffer {
                rect: Rect::new(x, y, w, h),
                width: 10,
                height: 10
            }
        );
    }
    let mut client = connected(10, 10);
    let err = fails(&mut client, &update(&[rect(5, 5, 10, 2, 16, &[])]));
    assert_eq!(
        err.to_string(),
        "server drew a 10×2 rectangle at (5, 5), outside the 10×10 desktop"
    );
    // CopyRect from outside.
    let mut client = connected(10, 10);
    let err = fails(&mut client, &update(&[rect(0, 0, 4, 4, 1, &[0, 7, 0, 0])]));
    assert!(matches!(err, RfbError::RectOutsideFramebuffer { rect, .. } if rect.x == 7));
}

#[test]
fn huge_rect_counts() {
    let limits = Limits {
        max_rects_per_update: 10,
        ..Limits::default()
    };
    let mut client = connected_with(with_limits(limits), 8, 8);
    // Only the 4-byte header: the count alone ends the session.
    let err = fails(&mut client, &[0, 0, 0, 11]);
    assert!(
        matches!(
            err,
            RfbError::LimitExceeded {
                value: 11,
                limit: 10,
                ..
            }
        ),
        "{err}"
    );

    // With LastRect the count is open-ended; the limit still holds.
    let mut client = connected_with(with_limits(limits), 8, 8);
    let rects: Vec<Vec<u8>> = (0..11).map(|_| rect(0, 0, 0, 0, 0, &[])).collect();
    let err = fails(&mut client, &update_counted(0xFFFF, &rects));
    assert!(
        matches!(err, RfbError::LimitExceeded { value: 11, .. }),
        "{err}"
    );
}

#[test]
fn unknown_or_unrequested_encodings() {
    let mut client = connected(8, 8);
    let err = fails(&mut client, &update(&[rect(0, 0, 1, 1, 5, &[])]));
    assert_eq!(err, RfbError::UnknownEncoding(5));
    assert_eq!(
        err.to_string(),
        "server sent a rectangle in encoding 5, which Hoshu did not ask for"
    );
    // Tight is known, but a Raw-only client did not offer it.
    let raw_only = ClientConfig {
        encodings: vec![crate::Encoding::Raw],
        ..ClientConfig::default()
    };
    let mut client = connected_with(raw_only, 8, 8);
    assert_eq!(
        fails(
            &mut client,
            &update(&[rect(0, 0, 1, 1, 7, &[0x80, 1, 2, 3])])
        ),
        RfbError::UnknownEncoding(7)
    );
}

#[test]
fn unknown_message_type() {
    let mut client = connected(8, 8);
    assert_eq!(fails(&mut client, &[150]), RfbError::UnknownMessage(150));
}

#[test]
fn cut_text_over_the_limit() {
    let limits = Limits {
        max_cut_text: 16,
        ..Limits::default()
    };
    let mut client = connected_with(with_limits(limits), 8, 8);
    let mut ok = vec![3, 0, 0, 0, 0, 0, 0, 16];
    ok.extend_from_slice(&[b'x'; 16]);
    client.receive(&ok).unwrap();
    assert_eq!(drain(&mut client), [Event::CutText("x".repeat(16))]);
    let err = fails(&mut client, &[3, 0, 0, 0, 0, 0, 0, 17]);
    assert_eq!(
        err.to_string(),
        "server sent a clipboard text length of 17; the limit is 16"
    );
}

#[test]
fn zrle_bomb_and_oversized_lengths() {
    // 16 MiB of zeros deflate to ~16 KiB; an 8×8 rectangle can use < 1 KiB.
    let bomb = Deflater::new().chunk(&vec![0; 16 << 20]);
    let mut body = (bomb.len() as u32).to_be_bytes().to_vec();
    body.extend_from_slice(&bomb);
    let mut client = connected(8, 8);
    let err = fails(&mut client, &update(&[rect(0, 0, 8, 8, 16, &body)]));
    assert!(
        matches!(err, RfbError::Decode(ref m) if m.contains("inflates to more")),
        "{err}"
    );

    // A length over the limit fails as soon as the length is read.
    let limits = Limits {
        max_compressed_len: 1000,
        ..Limits::default()
    };
    let mut client = connected_with(with_limits(limits), 8, 8);
    let err = fails(
        &mut client,
        &update(&[rect(0, 0, 8, 8, 16, &[0, 0, 3, 233])]),
    );
    assert!(
        matches!(
            err,
            RfbError::LimitExceeded {
                value: 1001,
                limit: 1000,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn cursor_larger_than_the_limit() {
    let mut client = connected(8, 8);
    // A 300×1 cursor: refused on the header alone.
    let err = fails(&mut client, &update(&[rect(0, 0, 300, 1, -239, &[])]));
    assert!(
        matches!(
            err,
            RfbError::LimitExceeded {
                what: "a cursor side",
                value: 300,
                limit: 256
            }
        ),
        "{err}"
    );
}

#[test]
fn desktop_resize_past_the_limit() {
    let mut client = connected(8, 8);
    let err = fails(&mut client, &update(&[rect(0, 0, 9000, 100, -223, &[])]));
    assert!(
        matches!(err, RfbError::DesktopTooLarge { width: 9000, .. }),
        "{err}"
    );
}

#[test]
fn a_lowered_pixel_limit_refuses_the_next_framebuffer_before_it_is_allocated() {
    let mut client = connected(8, 8);
    client.set_max_pixels(100);
    let err = fails(&mut client, &update(&[rect(0, 0, 20, 20, -223, &[])]));
    assert_eq!(
        err,
        RfbError::DesktopTooManyPixels {
            width: 20,
            height: 20,
            max_pixels: 100
        }
    );
    // Before the handshake the lowered limit applies to ServerInit.
    let mut client = Client::new(ClientConfig::default());
    client.set_max_pixels(63);
    let err = fails(&mut client, &handshake(8, 8));
    assert!(
        matches!(err, RfbError::DesktopTooManyPixels { max_pixels: 63, .. }),
        "{err}"
    );
}

#[test]
fn garbage_after_the_handshake() {
    let mut client = connected(8, 8);
    // FramebufferUpdate with one Tight rect whose control byte is type 15.
    let err = fails(&mut client, &update(&[rect(0, 0, 2, 2, 7, &[0xF0])]));
    assert!(
        matches!(err, RfbError::Decode(ref m) if m.contains("compression type 15")),
        "{err}"
    );
}
