//! Sans-IO tests of the RFB server: handshake bytes, input, updates, hostile input.

use super::*;
use crate::desktop::{
    DRAW_AREA, DRAW_INK, KEYSYM_BACKSPACE, KEYSYM_RETURN, SCREEN_HEIGHT, SCREEN_WIDTH, TEXT_AREA,
    TEXT_ROWS,
};
use flate2::{Decompress, FlushDecompress};
use proptest::prelude::*;

const CHALLENGE: [u8; 16] = *b"0123456789abcdef";

fn config(password: Option<&str>) -> ServerConfig {
    ServerConfig {
        name: "demo".into(),
        password: password.map(Into::into),
    }
}

/// The ServerInit every handshake ends with.
fn server_init() -> Vec<u8> {
    let mut b = vec![0x04, 0x00, 0x03, 0x00]; // 1024 × 768
    b.extend_from_slice(&[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    b.extend_from_slice(&[0, 0, 0, 4]);
    b.extend_from_slice(b"demo");
    b
}

/// RFC 6143 §7.2.2, written out independently of the server: DES-ECB of the challenge, keyed
/// by the password's bytes with each byte's bits mirrored.
fn vnc_auth_answer(password: &str, challenge: &[u8; 16]) -> [u8; 16] {
    use des::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
    let mut key = [0u8; 8];
    for (i, b) in password.bytes().take(8).enumerate() {
        let mut mirrored = 0u8;
        for bit in 0..8 {
            if b & (1 << bit) != 0 {
                mirrored |= 0x80 >> bit;
            }
        }
        key[i] = mirrored;
    }
    let des = des::Des::new(GenericArray::from_slice(&key));
    let mut out = *challenge;
    let (a, b) = out.split_at_mut(8);
    des.encrypt_block(GenericArray::from_mut_slice(a));
    des.encrypt_block(GenericArray::from_mut_slice(b));
    out
}

/// A connection through the 3.8 handshake with security None, its output drained.
fn connected(desktop: &mut Desktop) -> Connection {
    let mut c = Connection::new(config(None), CHALLENGE);
    c.receive(b"RFB 003.008\n\x01\x01", desktop).unwrap();
    let mut expected = b"RFB 003.008\n\x01\x01\0\0\0\0".to_vec();
    expected.extend(server_init());
    assert_eq!(c.take_output(desktop), expected);
    c
}

fn set_encodings(list: &[i32]) -> Vec<u8> {
    let mut m = vec![2, 0];
    m.extend_from_slice(&(list.len() as u16).to_be_bytes());
    for e in list {
        m.extend_from_slice(&e.to_be_bytes());
    }
    m
}

fn update_request(incremental: bool, r: Rect) -> Vec<u8> {
    let mut m = vec![3, u8::from(incremental)];
    for v in [r.x, r.y, r.width, r.height] {
        m.extend_from_slice(&v.to_be_bytes());
    }
    m
}

fn full_request(incremental: bool) -> Vec<u8> {
    update_request(incremental, Rect::new(0, 0, SCREEN_WIDTH, SCREEN_HEIGHT))
}

fn key(keysym: u32) -> Vec<u8> {
    let mut m = vec![4, 1, 0, 0];
    m.extend_from_slice(&keysym.to_be_bytes());
    m
}

fn pointer(mask: u8, x: u16, y: u16) -> Vec<u8> {
    let mut m = vec![5, mask];
    m.extend_from_slice(&x.to_be_bytes());
    m.extend_from_slice(&y.to_be_bytes());
    m
}

fn cut_text(text: &[u8]) -> Vec<u8> {
    let mut m = vec![6, 0, 0, 0];
    m.extend_from_slice(&(text.len() as u32).to_be_bytes());
    m.extend_from_slice(text);
    m
}

/// A minimal RFB viewer: applies FramebufferUpdates so tests compare what a client would show.
struct Viewer {
    format: PixelFormat,
    /// The picture as received: `bytes_per_pixel` bytes a pixel, row-major.
    pixels: Vec<u8>,
    zlib: Decompress,
}

impl Viewer {
    fn new(format: PixelFormat) -> Self {
        let n = usize::from(SCREEN_WIDTH) * usize::from(SCREEN_HEIGHT);
        Self {
            format,
            pixels: vec![0xee; n * format.bytes_per_pixel()],
            zlib: Decompress::new(true),
        }
    }

    fn index(&self, x: u16, y: u16) -> usize {
        (usize::from(y) * usize::from(SCREEN_WIDTH) + usize::from(x))
            * self.format.bytes_per_pixel()
    }

    fn get(&self, x: u16, y: u16) -> &[u8] {
        let i = self.index(x, y);
        &self.pixels[i..i + self.format.bytes_per_pixel()]
    }

    fn set(&mut self, x: u16, y: u16, px: &[u8]) {
        let i = self.index(x, y);
        self.pixels[i..i + px.len()].copy_from_slice(px);
    }

    fn inflate(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 * 1024);
        let start = self.zlib.total_in();
        loop {
            if out.capacity() - out.len() < 1024 {
                out.reserve(64 * 1024);
            }
            let done = (self.zlib.total_in() - start) as usize;
            self.zlib
                .decompress_vec(&data[done..], &mut out, FlushDecompress::Sync)
                .unwrap();
            if (self.zlib.total_in() - start) as usize == data.len() && out.len() < out.capacity() {
                return out;
            }
        }
    }

    /// Applies exactly one FramebufferUpdate; returns its rectangles' headers.
    fn apply(&mut self, bytes: &[u8]) -> Vec<(Rect, i32)> {
        assert_eq!(bytes[..2], [0, 0], "a FramebufferUpdate");
        let count = u16::from_be_bytes([bytes[2], bytes[3]]);
        let bpp = self.format.bytes_per_pixel();
        let u16_at = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
        let mut pos = 4;
        let mut seen = Vec::new();
        for _ in 0..count {
            let r = Rect::new(
                u16_at(pos),
                u16_at(pos + 2),
                u16_at(pos + 4),
                u16_at(pos + 6),
            );
            let enc = i32::from_be_bytes(bytes[pos + 8..pos + 12].try_into().unwrap());
            pos += 12;
            seen.push((r, enc));
            match enc {
                ENCODING_RAW => {
                    for y in r.y..r.y + r.height {
                        let len = usize::from(r.width) * bpp;
                        self.set(r.x, y, &bytes[pos..pos + len]);
                        pos += len;
                    }
                }
                ENCODING_COPY_RECT => {
                    let (sx, sy) = (u16_at(pos), u16_at(pos + 2));
                    pos += 4;
                    let rows: Vec<Vec<u8>> = (0..r.height)
                        .map(|dy| {
                            let i = self.index(sx, sy + dy);
                            self.pixels[i..i + usize::from(r.width) * bpp].to_vec()
                        })
                        .collect();
                    for (dy, row) in rows.iter().enumerate() {
                        self.set(r.x, r.y + dy as u16, row);
                    }
                }
                ENCODING_ZRLE => {
                    let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
                    let tiles = self.inflate(&bytes[pos + 4..pos + 4 + len]);
                    pos += 4 + len;
                    self.apply_zrle(r, &tiles);
                }
                ENCODING_CURSOR => {
                    pos += usize::from(r.width) * usize::from(r.height) * bpp
                        + usize::from(r.width.div_ceil(8)) * usize::from(r.height);
                }
                other => panic!("unexpected encoding {other}"),
            }
        }
        assert_eq!(pos, bytes.len(), "exactly one update, nothing after it");
        seen
    }

    fn apply_zrle(&mut self, r: Rect, tiles: &[u8]) {
        let range = self.format.compressed_pixel_bytes();
        let size = range.len();
        let mut pos = 0;
        let cpixel = |pos: &mut usize| {
            let mut px = [0u8; 4];
            px[range.clone()].copy_from_slice(&tiles[*pos..*pos + size]);
            *pos += size;
            px
        };
        for ty in (r.y..r.y + r.height).step_by(64) {
            let th = 64.min(r.y + r.height - ty);
            for tx in (r.x..r.x + r.width).step_by(64) {
                let tw = 64.min(r.x + r.width - tx);
                let sub = tiles[pos];
                pos += 1;
                let mut colours = Vec::new();
                match sub {
                    0 => (0..tw * th).for_each(|_| colours.push(cpixel(&mut pos))),
                    1 => colours = vec![cpixel(&mut pos); usize::from(tw * th)],
                    2..=16 => {
                        let palette: Vec<_> = (0..sub).map(|_| cpixel(&mut pos)).collect();
                        let bits = match sub {
                            2 => 1,
                            3 | 4 => 2,
                            _ => 4,
                        };
                        for _ in 0..th {
                            let row_bytes = (usize::from(tw) * bits).div_ceil(8);
                            let row = &tiles[pos..pos + row_bytes];
                            for x in 0..usize::from(tw) {
                                let bit = x * bits;
                                let idx =
                                    (row[bit / 8] >> (8 - bits - bit % 8)) & ((1 << bits) - 1);
                                colours.push(palette[usize::from(idx)]);
                            }
                            pos += row_bytes;
                        }
                    }
                    other => panic!("unexpected ZRLE subencoding {other}"),
                }
                let bpp = self.format.bytes_per_pixel();
                for (i, px) in colours.into_iter().enumerate() {
                    let i = i as u16;
                    self.set(tx + i % tw, ty + i / tw, &px[..bpp]);
                }
            }
        }
        assert_eq!(pos, tiles.len());
    }

    fn assert_shows(&self, desktop: &Desktop) {
        let bpp = self.format.bytes_per_pixel();
        let mut want = Vec::new();
        self.format.push_rgba_row(desktop.rgba(), &mut want);
        if self.pixels != want {
            let i = self
                .pixels
                .iter()
                .zip(&want)
                .position(|(a, b)| a != b)
                .unwrap()
                / bpp;
            panic!(
                "the viewer differs from the desktop first at ({}, {})",
                i % 1024,
                i / 1024
            );
        }
    }
}

/// A connected client with a viewer that already shows the first full picture.
fn viewing(desktop: &mut Desktop, encodings: &[i32]) -> (Connection, Viewer) {
    let mut c = connected(desktop);
    let mut msg = set_encodings(encodings);
    msg.extend(full_request(false));
    c.receive(&msg, desktop).unwrap();
    let mut v = Viewer::new(PixelFormat::SERVER);
    v.apply(&c.take_output(desktop));
    v.assert_shows(desktop);
    (c, v)
}

#[test]
fn handshake_3_3_and_3_7_without_security_result_for_none() {
    let mut desktop = Desktop::new();
    let mut c = Connection::new(config(None), CHALLENGE);
    c.receive(b"RFB 003.003\n\x00", &mut desktop).unwrap();
    let mut expected = b"RFB 003.008\n\0\0\0\x01".to_vec();
    expected.extend(server_init());
    assert_eq!(c.take_output(&desktop), expected);

    let mut c = Connection::new(config(None), CHALLENGE);
    c.receive(b"RFB 003.007\n\x01\x01", &mut desktop).unwrap();
    let mut expected = b"RFB 003.008\n\x01\x01".to_vec();
    expected.extend(server_init());
    assert_eq!(c.take_output(&desktop), expected);
    assert!(c.is_established());
}

#[test]
fn vnc_auth_accepts_the_right_answer() {
    let mut desktop = Desktop::new();
    let mut c = Connection::new(config(Some("s3cret!")), CHALLENGE);
    c.receive(b"RFB 003.008\n", &mut desktop).unwrap();
    assert_eq!(c.take_output(&desktop), b"RFB 003.008\n\x01\x02");
    c.receive(&[2], &mut desktop).unwrap();
    assert_eq!(c.take_output(&desktop), CHALLENGE);
    c.receive(&vnc_auth_answer("s3cret!", &CHALLENGE), &mut desktop)
        .unwrap();
    assert_eq!(c.take_output(&desktop), [0, 0, 0, 0]);
    c.receive(&[1], &mut desktop).unwrap();
    assert_eq!(c.take_output(&desktop), server_init());
}

#[test]
fn vnc_auth_with_3_3_uses_the_servers_choice_and_truncates_long_passwords() {
    let mut desktop = Desktop::new();
    let mut c = Connection::new(config(Some("longpassword")), CHALLENGE);
    c.receive(b"RFB 003.003\n", &mut desktop).unwrap();
    let mut expected = b"RFB 003.008\n\0\0\0\x02".to_vec();
    expected.extend(CHALLENGE);
    assert_eq!(c.take_output(&desktop), expected);
    c.receive(&vnc_auth_answer("longpass", &CHALLENGE), &mut desktop)
        .unwrap();
    assert_eq!(c.take_output(&desktop), [0, 0, 0, 0]);
}

#[test]
fn vnc_auth_refuses_a_wrong_answer_with_a_reason() {
    let mut desktop = Desktop::new();
    let mut c = Connection::new(config(Some("s3cret!")), CHALLENGE);
    c.receive(b"RFB 003.008\n\x02", &mut desktop).unwrap();
    c.take_output(&desktop);
    let err = c
        .receive(&vnc_auth_answer("guess", &CHALLENGE), &mut desktop)
        .unwrap_err();
    assert!(matches!(err, ServerError::AuthenticationFailed));
    let mut expected = vec![0, 0, 0, 1, 0, 0, 0, 21];
    expected.extend_from_slice(b"authentication failed");
    assert_eq!(c.take_output(&desktop), expected);
    assert!(matches!(
        c.receive(&[1], &mut desktop),
        Err(ServerError::Closed)
    ));
}

#[test]
fn bad_versions_and_security_choices_are_refused() {
    let mut desktop = Desktop::new();
    for reply in [
        &b"RFB 004.000\n"[..],
        b"RFB 003.009\n",
        b"RFB 003.00a\n",
        b"GET / HTTP/1.1\r\n",
        b"RFB 003.008\r",
    ] {
        let mut c = Connection::new(config(None), CHALLENGE);
        let err = c.receive(reply, &mut desktop).unwrap_err();
        assert!(
            matches!(err, ServerError::UnsupportedVersion(_)),
            "{reply:?}"
        );
    }
    let mut c = Connection::new(config(Some("pw")), CHALLENGE);
    let err = c.receive(b"RFB 003.008\n\x01", &mut desktop).unwrap_err();
    assert!(matches!(
        err,
        ServerError::SecurityTypeNotOffered {
            chosen: 1,
            offered: 2
        }
    ));
}

#[test]
fn a_non_incremental_request_sends_the_whole_screen() {
    let mut desktop = Desktop::new();
    let mut c = connected(&mut desktop);
    c.receive(&full_request(false), &mut desktop).unwrap();
    let out = c.take_output(&desktop);
    let full = Rect::new(0, 0, SCREEN_WIDTH, SCREEN_HEIGHT);
    assert_eq!(out.len(), 4 + 12 + 1024 * 768 * 4);
    let mut v = Viewer::new(PixelFormat::SERVER);
    assert_eq!(v.apply(&out), [(full, ENCODING_RAW)]);
    v.assert_shows(&desktop);
    // Asking again for the whole screen sends it again, although nothing changed.
    c.receive(&full_request(false), &mut desktop).unwrap();
    assert_eq!(v.apply(&c.take_output(&desktop)), [(full, ENCODING_RAW)]);
}

#[test]
fn an_incremental_request_waits_for_a_change() {
    let mut desktop = Desktop::new();
    let (mut c, mut v) = viewing(&mut desktop, &[ENCODING_RAW]);
    c.receive(&full_request(true), &mut desktop).unwrap();
    assert!(c.take_output(&desktop).is_empty());
    assert!(c.take_output(&desktop).is_empty());
    let (x, y) = (DRAW_AREA.x + 40, DRAW_AREA.y + 40);
    c.receive(&pointer(1, x, y), &mut desktop).unwrap();
    let rects = v.apply(&c.take_output(&desktop));
    assert!(
        rects.iter().all(|(r, _)| DRAW_AREA.contains(r)),
        "{rects:?}"
    );
    assert_eq!(v.get(x, y), PixelFormat::SERVER.encode(DRAW_INK));
    v.assert_shows(&desktop);
    // Answered: the next change waits for the next request (RFC 6143 §7.5.3).
    c.receive(&pointer(1, x + 50, y), &mut desktop).unwrap();
    assert!(c.take_output(&desktop).is_empty());
    c.receive(&full_request(true), &mut desktop).unwrap();
    v.apply(&c.take_output(&desktop));
    v.assert_shows(&desktop);
}

#[test]
fn typed_text_changes_the_text_area() {
    let mut desktop = Desktop::new();
    let before = desktop.rgba().to_vec();
    let (mut c, mut v) = viewing(&mut desktop, &[ENCODING_RAW]);
    let mut msg = Vec::new();
    for b in b"Hello" {
        msg.extend(key(u32::from(*b)));
        msg.extend([4, 0, 0, 0, 0, 0, 0, *b]); // key release: ignored
    }
    msg.extend(key(KEYSYM_RETURN));
    msg.extend(key(u32::from(b'x')));
    msg.extend(key(KEYSYM_BACKSPACE));
    msg.extend(cut_text(b"pasted\r\n"));
    msg.extend(full_request(true));
    c.receive(&msg, &mut desktop).unwrap();
    assert_eq!(desktop.text_lines(), ["Hello", "pasted", ""]);
    assert_ne!(desktop.rgba(), before);
    let rects = v.apply(&c.take_output(&desktop));
    assert!(
        rects.iter().all(|(r, _)| TEXT_AREA.contains(r)),
        "{rects:?}"
    );
    v.assert_shows(&desktop);
}

#[test]
fn two_connections_on_one_desktop_both_see_each_change() {
    let mut desktop = Desktop::new();
    let (mut a, mut va) = viewing(&mut desktop, &[ENCODING_RAW]);
    let (mut b, mut vb) = viewing(&mut desktop, &[ENCODING_ZRLE, ENCODING_RAW]);
    a.receive(&key(u32::from(b'A')), &mut desktop).unwrap();
    b.receive(&pointer(1, DRAW_AREA.x + 9, DRAW_AREA.y + 9), &mut desktop)
        .unwrap();
    for (c, v) in [(&mut a, &mut va), (&mut b, &mut vb)] {
        c.receive(&full_request(true), &mut desktop).unwrap();
        let rects = v.apply(&c.take_output(&desktop));
        assert_eq!(rects.len(), 2, "the key and the dot: {rects:?}");
        v.assert_shows(&desktop);
    }
}

#[test]
fn scrolling_uses_copy_rect_when_the_client_has_it() {
    let mut desktop = Desktop::new();
    let (mut c, mut v) = viewing(&mut desktop, &[ENCODING_COPY_RECT, ENCODING_RAW]);
    for i in 0..TEXT_ROWS + 2 {
        // A client that keeps up: the typed line is sent before Return scrolls it.
        let mut msg = cut_text(format!("line {i}").as_bytes());
        msg.extend(full_request(true));
        c.receive(&msg, &mut desktop).unwrap();
        v.apply(&c.take_output(&desktop));
        let mut msg = key(KEYSYM_RETURN);
        msg.extend(full_request(true));
        c.receive(&msg, &mut desktop).unwrap();
        let rects = v.apply(&c.take_output(&desktop));
        if i + 3 >= TEXT_ROWS {
            // Around and after the first scroll (comparing every step is slow in debug builds).
            v.assert_shows(&desktop);
        }
        let copies = rects
            .iter()
            .filter(|(_, e)| *e == ENCODING_COPY_RECT)
            .count();
        assert_eq!(
            copies,
            usize::from(i >= TEXT_ROWS - 1),
            "line {i}: {rects:?}"
        );
    }
}

#[test]
fn a_scroll_over_unsent_text_is_sent_as_pixels() {
    let mut desktop = Desktop::new();
    let (mut c, mut v) = viewing(&mut desktop, &[ENCODING_COPY_RECT, ENCODING_RAW]);
    let lines: String = (0..TEXT_ROWS - 2).map(|i| format!("{i}\n")).collect();
    let mut msg = cut_text(lines.as_bytes());
    msg.extend(full_request(true));
    c.receive(&msg, &mut desktop).unwrap();
    v.apply(&c.take_output(&desktop));
    // Without asking for updates: a character on the second-to-last row, then a new line,
    // then a new line that scrolls. The client never saw that character, so copying its old
    // picture of that row upwards would leave the row above stale.
    let mut msg = key(u32::from(b'X'));
    msg.extend(key(KEYSYM_RETURN));
    msg.extend(key(KEYSYM_RETURN));
    msg.extend(full_request(true));
    c.receive(&msg, &mut desktop).unwrap();
    let rects = v.apply(&c.take_output(&desktop));
    assert!(rects.iter().all(|(_, e)| *e == ENCODING_RAW), "{rects:?}");
    v.assert_shows(&desktop);
}

#[test]
fn a_client_without_copy_rect_gets_scrolls_as_pixels() {
    let mut desktop = Desktop::new();
    let (mut plain, mut vp) = viewing(&mut desktop, &[ENCODING_RAW]);
    desktop.paste(&[b'\n'; TEXT_ROWS + 1]);
    plain.receive(&full_request(true), &mut desktop).unwrap();
    let rects = vp.apply(&plain.take_output(&desktop));
    assert!(rects.iter().all(|(_, e)| *e == ENCODING_RAW));
    vp.assert_shows(&desktop);
}

#[test]
fn zrle_updates_decode_to_the_desktop_in_any_32_and_16_bit_format() {
    let formats: [[u8; 16]; 3] = [
        [32, 24, 1, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0], // big-endian BGR
        [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 24, 16, 8, 0, 0, 0], // colour in the high bytes
        [16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0],    // RGB565
    ];
    for bytes in formats {
        let mut desktop = Desktop::new();
        desktop.paste(b"some text to compress\nand more");
        let mut c = connected(&mut desktop);
        let mut msg = vec![0, 0, 0, 0];
        msg.extend_from_slice(&bytes);
        msg.extend(set_encodings(&[ENCODING_ZRLE, ENCODING_RAW]));
        msg.extend(full_request(false));
        c.receive(&msg, &mut desktop).unwrap();
        let format = PixelFormat::parse(&bytes).unwrap();
        let mut v = Viewer::new(format);
        let out = c.take_output(&desktop);
        assert!(
            out.len() < 100_000,
            "flat colours compress: {} bytes",
            out.len()
        );
        v.apply(&out);
        v.assert_shows(&desktop);
        // The zlib stream continues across updates.
        c.receive(
            &pointer(1, DRAW_AREA.x + 3, DRAW_AREA.y + 300),
            &mut desktop,
        )
        .unwrap();
        c.receive(
            &pointer(1, DRAW_AREA.x + 400, DRAW_AREA.y + 20),
            &mut desktop,
        )
        .unwrap();
        c.receive(&key(u32::from(b'!')), &mut desktop).unwrap();
        c.receive(&full_request(true), &mut desktop).unwrap();
        assert!(
            v.apply(&c.take_output(&desktop))
                .iter()
                .all(|(_, e)| *e == ENCODING_ZRLE)
        );
        v.assert_shows(&desktop);
    }
}

#[test]
fn the_cursor_shape_is_sent_once() {
    let mut desktop = Desktop::new();
    let (mut c, mut v) = viewing(&mut desktop, &[ENCODING_RAW]);
    c.receive(
        &set_encodings(&[ENCODING_RAW, ENCODING_CURSOR]),
        &mut desktop,
    )
    .unwrap();
    c.receive(&full_request(true), &mut desktop).unwrap();
    let rects = v.apply(&c.take_output(&desktop));
    assert_eq!(rects, [(Rect::new(0, 0, 11, 17), ENCODING_CURSOR)]);
    c.receive(&full_request(true), &mut desktop).unwrap();
    assert!(c.take_output(&desktop).is_empty());
}

#[test]
fn input_split_into_single_bytes_works_the_same() {
    let mut desktop = Desktop::new();
    let mut c = Connection::new(config(Some("pw")), CHALLENGE);
    let mut stream = b"RFB 003.008\n\x02".to_vec();
    stream.extend(vnc_auth_answer("pw", &CHALLENGE));
    stream.push(1);
    stream.extend(cut_text(b"byte by byte"));
    stream.extend(set_encodings(&[ENCODING_RAW]));
    stream.extend(full_request(false));
    for b in &stream {
        c.receive(std::slice::from_ref(b), &mut desktop).unwrap();
    }
    assert_eq!(desktop.text_lines(), ["byte by byte"]);
    let out = c.take_output(&desktop);
    let update = &out[out.len() - (16 + 1024 * 768 * 4)..];
    Viewer::new(PixelFormat::SERVER).apply(update);
}

#[test]
fn a_connection_that_fell_behind_the_damage_log_gets_the_whole_screen() {
    let mut desktop = Desktop::new();
    let (mut c, mut v) = viewing(&mut desktop, &[ENCODING_RAW]);
    for i in 0..400u16 {
        desktop.paint_line(
            (DRAW_AREA.x + i, DRAW_AREA.y + 2 * (i % 200)),
            (DRAW_AREA.x + i, DRAW_AREA.y),
        );
    }
    c.receive(&full_request(true), &mut desktop).unwrap();
    let rects = v.apply(&c.take_output(&desktop));
    assert_eq!(rects, [(Rect::new(0, 0, 1024, 768), ENCODING_RAW)]);
}

#[test]
fn malformed_messages_end_the_connection() {
    type IsExpected = fn(&ServerError) -> bool;
    let cases: Vec<(Vec<u8>, IsExpected)> = vec![
        (vec![1, 0, 0, 0, 0, 0], |e| {
            matches!(e, ServerError::UnknownMessageType(1))
        }),
        (vec![200], |e| {
            matches!(e, ServerError::UnknownMessageType(200))
        }),
        // Only the header of a 4 GiB cut text: refused before any text arrives.
        (vec![6, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], |e| {
            matches!(e, ServerError::CutTextTooLong { length: u32::MAX })
        }),
        (vec![6, 0, 0, 0, 0, 1, 0, 1], |e| {
            matches!(e, ServerError::CutTextTooLong { .. })
        }),
        (vec![2, 0, 0xff, 0xff], |e| {
            matches!(e, ServerError::TooManyEncodings { count: 0xffff })
        }),
        // SetPixelFormat: 8 bits per pixel with a colour map.
        (
            vec![0, 0, 0, 0, 8, 8, 0, 0, 0, 7, 0, 7, 0, 3, 0, 3, 6, 0, 0, 0],
            |e| matches!(e, ServerError::ColourMapNotSupported { bits_per_pixel: 8 }),
        ),
    ];
    for (msg, expected) in cases {
        let mut desktop = Desktop::new();
        let mut c = connected(&mut desktop);
        let err = c.receive(&msg, &mut desktop).unwrap_err();
        assert!(expected(&err), "{msg:?} gave {err}");
        assert!(c.take_output(&desktop).is_empty());
    }
    // The largest allowed cut text is fine.
    let mut desktop = Desktop::new();
    let mut c = connected(&mut desktop);
    c.receive(&cut_text(&[b'a'; MAX_CUT_TEXT_LEN as usize]), &mut desktop)
        .unwrap();
}

#[test]
fn error_messages_are_specific() {
    assert_eq!(
        ServerError::CutTextTooLong { length: 70000 }.to_string(),
        "client cut text of 70000 bytes exceeds the 65536-byte limit"
    );
    assert_eq!(
        format!("{:?}", config(Some("hunter2"))),
        r#"ServerConfig { name: "demo", password: Some("***") }"#
    );
}

/// Client messages with plausible types and arbitrary bodies.
fn messages() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0u8..8, prop::collection::vec(any::<u8>(), 0..24)), 0..40).prop_map(
        |msgs| {
            msgs.into_iter()
                .flat_map(|(kind, body)| std::iter::once(kind).chain(body))
                .collect()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_after_the_handshake_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
        chunk in 1usize..64,
    ) {
        let mut desktop = Desktop::new();
        let mut c = connected(&mut desktop);
        for part in bytes.chunks(chunk) {
            let failed = c.receive(part, &mut desktop).is_err();
            c.take_output(&desktop);
            if failed {
                break;
            }
        }
    }

    #[test]
    fn arbitrary_bytes_during_the_handshake_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        version in prop::sample::select(vec![&b"RFB 003.003\n"[..], b"RFB 003.007\n", b"RFB 003.008\n", b""]),
    ) {
        let mut desktop = Desktop::new();
        let mut c = Connection::new(config(Some("pw")), CHALLENGE);
        let _ = c.receive(version, &mut desktop);
        let _ = c.receive(&bytes, &mut desktop);
        c.take_output(&desktop);
    }

    #[test]
    fn plausible_messages_never_panic(bytes in messages(), chunk in 1usize..64) {
        let mut desktop = Desktop::new();
        let mut c = connected(&mut desktop);
        c.receive(&set_encodings(&[ENCODING_ZRLE, ENCODING_COPY_RECT, ENCODING_CURSOR]), &mut desktop).unwrap();
        for part in bytes.chunks(chunk) {
            let failed = c.receive(part, &mut desktop).is_err();
            c.take_output(&desktop);
            if failed {
                break;
            }
        }
    }
}
