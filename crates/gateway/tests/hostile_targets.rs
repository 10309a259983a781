//! Hostile VNC servers (issue 3): each malformed RFB server, written here, must end only its own
//! session — with an `error` instruction saying what went wrong — while the gateway's memory
//! stays bounded and a concurrent session on the demo target keeps working.
//!
//! Every test runs its own gateway, so its memory is measured alone: the peak resident set
//! (`VmHWM`) after the hostile session may not exceed the resident set before it by more than
//! [`MEMORY_HEADROOM_KIB`].

mod common;

use std::future::Future;
use std::io::{self, Write};
use std::time::Duration;

use common::rfb_server::{
    self, RfbServer, Security, connected, handshake_until_init, rect_header, server_init,
    update_header,
};
use common::tunnel::{Tunnel, add_vnc_target, ended_session, list_sessions, proc_status_kib};
use common::{Credential, Gateway};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const DEMO: &str = "demo-desktop";
const MEMORY_HEADROOM_KIB: u64 = 200 * 1024;

/// Guacamole status codes (notes; hoshu_guac::Status).
const UPSTREAM_TIMEOUT: u16 = 514;
const UPSTREAM_ERROR: u16 = 515;

/// Encodings (RFC 6143 §7.7, §7.8).
const ZRLE: i32 = 16;
const DESKTOP_SIZE: i32 = -223;

/// Writes `chunk` again and again, up to `total` bytes, until the gateway stops reading
/// (closes the connection); then waits for it to go away.
async fn flood(s: &mut TcpStream, chunk: &[u8], total: u64) -> io::Result<()> {
    let mut sent = 0u64;
    while sent < total {
        if s.write_all(chunk).await.is_err() {
            return Ok(());
        }
        sent += chunk.len() as u64;
    }
    rfb_server::drain(s).await
}

/// Opens a healthy demo session, then one on a target served by `serve`, and checks that the
/// hostile one ends with `status` and a message naming the target and containing every one
/// of `says`, within bounded memory, while the healthy one keeps drawing. Returns what the
/// hostile session's browser saw last.
async fn hostile<F, Fut>(name: &str, serve: F, status: u16, says: &[&str]) -> String
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = io::Result<()>> + Send + 'static,
{
    let mut gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let mut healthy = Tunnel::open(&gateway, &vendor, DEMO).await;
    assert_eq!(healthy.first_frame().await, (1024, 768));

    let server = RfbServer::start(serve).await;
    add_vnc_target(&gateway, name, server.port, None);
    let pid = gateway.pid();
    let rss_before = proc_status_kib(pid, "VmRSS");
    let peak_before = proc_status_kib(pid, "VmHWM");

    let mut bad = Tunnel::open(&gateway, &vendor, name).await;
    let ending = bad.ending().await;
    assert_eq!(
        ending.status,
        status,
        "{name}: {ending:?}; lately: {}",
        bad.history()
    );
    assert!(
        ending.message.contains(name),
        "{name}: the message names the target: {ending:?}"
    );
    for words in says {
        assert!(
            ending.message.contains(words),
            "{name}: the message says {words:?}: {ending:?}"
        );
    }
    ending.assert_close_reason();

    // Bounded memory: the peak during the hostile session, and what is left after it.
    let peak = proc_status_kib(pid, "VmHWM");
    let rss_after = proc_status_kib(pid, "VmRSS");
    let ceiling = peak_before.max(rss_before + MEMORY_HEADROOM_KIB);
    assert!(
        peak <= ceiling,
        "{name}: the gateway's peak RSS grew to {peak} KiB from {rss_before} KiB (peak before {peak_before} KiB)"
    );
    assert!(
        rss_after <= rss_before + MEMORY_HEADROOM_KIB,
        "{name}: the gateway's RSS is {rss_after} KiB after the session, {rss_before} KiB before"
    );

    // Only that session ended: the gateway runs, the other session still answers input.
    assert!(gateway.is_running(), "{name}: the gateway died");
    healthy.fresh_frame().await;
    let live = list_sessions(&gateway, &vendor, "live").await;
    assert!(
        live.iter().any(|r| r["id"] == healthy.uuid.as_str()),
        "{name}: the healthy session is still live: {live:?}"
    );
    assert!(
        !live.iter().any(|r| r["id"] == bad.uuid.as_str()),
        "{name}: the hostile session is not live: {live:?}"
    );
    let row = ended_session(&gateway, &vendor, &bad.uuid).await;
    assert_eq!(
        row["outcome"].as_str(),
        Some(ending.message.as_str()),
        "{name}: {row}"
    );
    bad.history()
}

#[tokio::test]
async fn garbage_instead_of_a_version_string() {
    hostile(
        "garbage-version",
        |mut s| async move {
            s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
                .await?;
            rfb_server::drain(s).await
        },
        UPSTREAM_ERROR,
        &["did not answer like a VNC server", "SSH-2.0"],
    )
    .await;
}

#[tokio::test]
async fn a_65535_by_65535_desktop() {
    hostile(
        "huge-desktop",
        |mut s| async move {
            rfb_server::handshake(&mut s, &Security::None, 65535, 65535, "huge").await?;
            rfb_server::drain(s).await
        },
        UPSTREAM_ERROR,
        &["65535×65535 desktop", "limit"],
    )
    .await;
}

#[tokio::test]
async fn a_desktop_of_more_pixels_than_a_session_may_hold() {
    // 8192×8192 is within the width and height limits, but 256 MiB of framebuffer.
    hostile(
        "many-pixels",
        |mut s| async move {
            rfb_server::handshake(&mut s, &Security::None, 8192, 8192, "wide").await?;
            rfb_server::drain(s).await
        },
        UPSTREAM_ERROR,
        &["8192×8192 desktop", "16 million pixels"],
    )
    .await;
}

#[tokio::test]
async fn a_desktop_resized_again_and_again() {
    // A drawn desktop, then one update of 4096 size changes between two large sizes: each a
    // new framebuffer. The session ends at the 31st change in 10 s.
    hostile(
        "resize-churn",
        |mut s| async move {
            connected(&mut s, 64, 48).await?;
            s.write_all(&rfb_server::full_update(64, 48, [0, 0, 255]))
                .await?;
            let mut update = update_header(4096);
            for i in 0..4096u16 {
                let side = 4096 - (i % 2) * 96;
                update.extend_from_slice(&rect_header(0, 0, side, side, DESKTOP_SIZE));
            }
            s.write_all(&update).await?;
            rfb_server::drain(s).await
        },
        UPSTREAM_ERROR,
        &["changed the screen size 31 times within 10 s"],
    )
    .await;
}

#[tokio::test]
async fn a_four_gib_desktop_name() {
    hostile(
        "huge-name",
        |mut s| async move {
            handshake_until_init(&mut s, &Security::None).await?;
            s.write_all(&server_init(800, 600, u32::MAX, b"")).await?;
            flood(&mut s, &[b'N'; 64 * 1024], 1 << 30).await
        },
        UPSTREAM_ERROR,
        &["desktop name length of 4294967295", "limit is 4096"],
    )
    .await;
}

#[tokio::test]
async fn a_desktop_resize_to_65535_by_65535() {
    hostile(
        "huge-resize",
        |mut s| async move {
            connected(&mut s, 64, 48).await?;
            let mut update = update_header(1);
            update.extend_from_slice(&rect_header(0, 0, 65535, 65535, DESKTOP_SIZE));
            s.write_all(&update).await?;
            rfb_server::drain(s).await
        },
        UPSTREAM_ERROR,
        &["65535×65535 desktop", "limit"],
    )
    .await;
}

#[tokio::test]
async fn a_rectangle_outside_the_framebuffer() {
    hostile(
        "outside-rect",
        |mut s| async move {
            connected(&mut s, 64, 48).await?;
            let mut update = update_header(1);
            update.extend_from_slice(&rfb_server::raw_rect(60, 40, 10, 10, [255, 0, 0]));
            s.write_all(&update).await?;
            rfb_server::drain(s).await
        },
        UPSTREAM_ERROR,
        &["10×10 rectangle at (60, 40)", "outside the 64×48 desktop"],
    )
    .await;
}

#[tokio::test]
async fn an_endless_number_of_rectangles() {
    hostile(
        "endless-rects",
        |mut s| async move {
            connected(&mut s, 64, 48).await?;
            // 0xFFFF rectangles means "until LastRect" (which the gateway offers); none comes.
            s.write_all(&update_header(u16::MAX)).await?;
            let empty = rect_header(0, 0, 0, 0, 0);
            flood(&mut s, &empty.repeat(4096), 64 << 20).await
        },
        UPSTREAM_ERROR,
        &["rectangle count of 65537", "limit is 65536"],
    )
    .await;
}

#[tokio::test]
async fn an_encoding_nobody_asked_for() {
    hostile(
        "unknown-encoding",
        |mut s| async move {
            connected(&mut s, 64, 48).await?;
            let mut update = update_header(1);
            // 6 is zlib, which the gateway does not offer.
            update.extend_from_slice(&rect_header(0, 0, 16, 16, 6));
            update.extend_from_slice(&[0x55; 1024]);
            s.write_all(&update).await?;
            rfb_server::drain(s).await
        },
        UPSTREAM_ERROR,
        &["encoding 6", "did not ask for"],
    )
    .await;
}

#[tokio::test]
async fn an_unknown_server_message_type() {
    hostile(
        "unknown-message",
        |mut s| async move {
            connected(&mut s, 64, 48).await?;
            s.write_all(&[200, 1, 2, 3, 4, 5, 6, 7]).await?;
            rfb_server::drain(s).await
        },
        UPSTREAM_ERROR,
        &["message type 200"],
    )
    .await;
}

#[tokio::test]
async fn a_one_gib_zrle_length_then_endless_bytes() {
    hostile(
        "endless-zrle",
        |mut s| async move {
            connected(&mut s, 64, 48).await?;
            let mut update = update_header(1);
            update.extend_from_slice(&rect_header(0, 0, 64, 48, ZRLE));
            update.extend_from_slice(&(1u32 << 30).to_be_bytes());
            s.write_all(&update).await?;
            flood(&mut s, &[0xAB; 64 * 1024], 2 << 30).await
        },
        UPSTREAM_ERROR,
        &["ZRLE data length of 1073741824", "limit"],
    )
    .await;
}

#[tokio::test]
async fn a_one_gib_clipboard_then_endless_bytes() {
    hostile(
        "endless-clipboard",
        |mut s| async move {
            connected(&mut s, 64, 48).await?;
            let mut cut = vec![3, 0, 0, 0];
            cut.extend_from_slice(&(1u32 << 30).to_be_bytes());
            s.write_all(&cut).await?;
            flood(&mut s, &[b'c'; 64 * 1024], 2 << 30).await
        },
        UPSTREAM_ERROR,
        &["clipboard text length of 1073741824", "limit"],
    )
    .await;
}

#[tokio::test]
async fn the_largest_allowed_rectangle_of_junk() {
    // 64 MiB, the ZRLE length limit: accepted as a length, buffered, then refused as data.
    hostile(
        "junk-zrle",
        |mut s| async move {
            connected(&mut s, 64, 48).await?;
            let len: u32 = 64 << 20;
            let mut update = update_header(1);
            update.extend_from_slice(&rect_header(0, 0, 64, 48, ZRLE));
            update.extend_from_slice(&len.to_be_bytes());
            s.write_all(&update).await?;
            flood(&mut s, &[0xFF; 64 * 1024], u64::from(len)).await
        },
        UPSTREAM_ERROR,
        &["could not decode", "zlib"],
    )
    .await;
}

#[tokio::test]
async fn a_zlib_bomb_in_a_zrle_rectangle() {
    // 256 MiB of zeros compress to about 250 KiB; a 64×64 rectangle needs at most 17 KiB.
    let bomb = {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..256 {
            z.write_all(&zeros).expect("compressing in memory");
        }
        z.finish().expect("compressing in memory")
    };
    let bomb = std::sync::Arc::new(bomb);
    hostile(
        "zlib-bomb",
        move |mut s| {
            let bomb = bomb.clone();
            async move {
                connected(&mut s, 64, 64).await?;
                let mut update = update_header(1);
                update.extend_from_slice(&rect_header(0, 0, 64, 64, ZRLE));
                update.extend_from_slice(&(bomb.len() as u32).to_be_bytes());
                update.extend_from_slice(&bomb);
                s.write_all(&update).await?;
                rfb_server::drain(s).await
            }
        },
        UPSTREAM_ERROR,
        &["inflates to more than", "rectangle can hold"],
    )
    .await;
}

#[tokio::test]
async fn a_flood_of_colour_map_entries_is_absorbed_then_the_server_hangs_up() {
    // SetColourMapEntries means nothing for the true-colour format the gateway asks for; 128
    // of the largest (65535 entries, 384 KiB each) must pass without piling up, and the
    // desktop after them must still be drawn.
    let seen = hostile(
        "colour-flood",
        |mut s| async move {
            connected(&mut s, 64, 48).await?;
            let mut entries = vec![1, 0, 0, 0, 0xFF, 0xFF];
            entries.resize(6 + 65535 * 6, 0x7F);
            for _ in 0..128 {
                s.write_all(&entries).await?;
            }
            s.write_all(&rfb_server::full_update(64, 48, [10, 200, 10]))
                .await?;
            // Let the picture reach the browser before hanging up.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            s.shutdown().await
        },
        UPSTREAM_ERROR,
        &["closed the connection"],
    )
    .await;
    // The green desktop after the flood, drawn as a fill (a single-colour area).
    for drawn in ["size(0,64,48)", "cfill(14,0,10,200,10,255)", "sync("] {
        assert!(seen.contains(drawn), "no {drawn} after the flood: {seen}");
    }
}

#[tokio::test]
async fn a_handshake_that_never_finishes() {
    // The version, then silence: the gateway gives up on its own (15 s handshake timeout).
    hostile(
        "silent-server",
        |mut s| async move {
            s.write_all(b"RFB 003.008\n").await?;
            rfb_server::drain(s).await
        },
        UPSTREAM_TIMEOUT,
        &["did not complete the VNC handshake"],
    )
    .await;
}
