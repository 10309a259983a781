//! `receive` on arbitrary bytes after a valid handshake never panics, never
//! holds more than one bounded protocol unit, and never asks for memory the
//! limits do not allow.
//!
//! The allocation half is checked from outside: the property runs again in
//! a child process under `prlimit --as` (an address-space cap far below the
//! 4 GiB a hostile u32 length asks for, far above what the small limits
//! below need). An allocation of an unchecked length aborts the child.

use proptest::prelude::*;

use super::tight::{JPEG_RED_BLUE_16X8, compact};
use super::*;

const CHILD_ENV: &str = "HOSHU_RFB_MEMORY_CHILD";
/// 1.5 GiB of address space for the child.
const ADDRESS_SPACE_CAP: u64 = 3 << 29;

fn small_limits() -> Limits {
    Limits {
        max_width: 64,
        max_height: 64,
        max_pixels: 64 * 64,
        max_name_len: 256,
        max_cut_text: 4096,
        max_cursor_side: 32,
        max_rects_per_update: 1024,
        max_compressed_len: 64 << 10,
    }
}

/// Pieces of server messages: pure noise, headers that reach deep into
/// each decoder with random sizes and random bodies, and damaged JPEGs.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let encodings = prop::sample::select(vec![0, 1, 7, 16, -239, -223, -224, -308, 5, 0x7fff_ffff]);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        (
            any::<u16>(),
            0..80u16,
            0..80u16,
            0..80u16,
            0..80u16,
            encodings,
            prop::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(count, x, y, w, h, enc, body)| {
                let mut bytes = update_counted(count % 4, &[rect(x, y, w, h, enc, &body)]);
                if count & 0x8000 != 0 {
                    bytes[2..4].copy_from_slice(&[0xFF, 0xFF]);
                }
                bytes
            }),
        (any::<u32>(), prop::collection::vec(any::<u8>(), 0..32)).prop_map(|(len, text)| [
            &[3, 0, 0, 0][..],
            &len.to_be_bytes(),
            &text
        ]
        .concat()),
        (
            any::<u8>(),
            any::<[u8; 3]>(),
            prop::collection::vec(any::<u8>(), 0..64)
        )
            .prop_map(|(control, len, data)| {
                let body = [&[control][..], &len, &data].concat();
                update(&[rect(0, 0, 16, 16, 7, &body)])
            }),
        // A real JPEG with a few bytes changed, in a Tight rectangle.
        prop::collection::vec((0..JPEG_RED_BLUE_16X8.len(), any::<u8>()), 1..4).prop_map(|flips| {
            let mut jpeg = JPEG_RED_BLUE_16X8.to_vec();
            for (at, byte) in flips {
                jpeg[at] = byte;
            }
            let body = [&[0x90][..], &compact(jpeg.len()), &jpeg].concat();
            update(&[rect(0, 0, 16, 8, 7, &body)])
        }),
    ]
}

fn feed(pieces: &[Vec<u8>], chunk: usize) -> Result<(), TestCaseError> {
    let limits = small_limits();
    let mut client = connected_with(with_limits(limits), 48, 32);
    let stream = pieces.concat();
    for bytes in stream.chunks(chunk) {
        let result = client.receive(bytes);
        for event in drain(&mut client) {
            if let Event::Cursor {
                width,
                height,
                rgba,
                ..
            } = event
            {
                prop_assert!(width <= limits.max_cursor_side && height <= limits.max_cursor_side);
                prop_assert_eq!(rgba.len(), usize::from(width) * usize::from(height) * 4);
            }
        }
        if let Some(fb) = client.framebuffer() {
            prop_assert!(fb.width() <= limits.max_width && fb.height() <= limits.max_height);
        }
        // The largest unit these limits allow is a SetColourMapEntries
        // (6 + 65535 × 6 bytes); everything else is smaller.
        prop_assert!(client.pending_len() <= 6 + 65535 * 6 + chunk);
        if result.is_err() {
            prop_assert_eq!(client.receive(&[0]), Err(RfbError::Closed));
            break;
        }
    }
    Ok(())
}

fn property() {
    let config = ProptestConfig {
        cases: 1000,
        ..ProptestConfig::default()
    };
    proptest!(config, |(pieces in prop::collection::vec(piece(), 1..12), chunk in 1usize..400)| {
        feed(&pieces, chunk)?;
    });
}

#[test]
fn arbitrary_bytes_after_the_handshake_stay_within_the_limits() {
    if std::env::var_os(CHILD_ENV).is_some() {
        property();
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        property();
        return;
    };
    let child = std::process::Command::new("prlimit")
        .arg(format!("--as={ADDRESS_SPACE_CAP}"))
        .arg("--")
        .arg(exe)
        .args([
            "tests::memory::arbitrary_bytes_after_the_handshake_stay_within_the_limits",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .output();
    match child {
        Ok(out) => assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "the property failed under a {ADDRESS_SPACE_CAP}-byte address-space cap:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            println!("prlimit is not available ({e}); checking without an address-space cap");
            property();
        }
    }
}
