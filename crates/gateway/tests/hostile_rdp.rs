//! Hostile RDP servers: each scripted server (common/hostile_rdp.rs) breaks the connection
//! sequence or the active stage in its own way — bogus lengths, huge desktops and bitmaps,
//! endless updates — and must end only its own session, with an `error` instruction that
//! names the target and says what went wrong, while the gateway's memory stays bounded and a
//! concurrent session on the demo target keeps working. What IronRDP rightly ignores (a bitmap
//! outside the desktop, an update type it does not know) is absorbed: the session goes on and
//! ends only when the server hangs up.
//!
//! Every test runs its own gateway, so its memory is measured alone (as hostile_targets.rs
//! does for VNC servers).

mod common;

use std::future::Future;
use std::io;
use std::time::Duration;

use common::hostile_rdp::{
    self as rdp, BitmapRect, COMPRESSED, PROTOCOL_RDP, PROTOCOL_RDSTLS, PROTOCOL_SSL, RdpScript,
    Tls, connected, until_client_info, until_tls,
};
use common::tunnel::{Tunnel, end_session, ended_session, list_sessions, proc_status_kib};
use common::{Credential, Gateway, Session};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const DEMO: &str = "demo-desktop";
const MEMORY_HEADROOM_KIB: u64 = 200 * 1024;

/// Guacamole status codes (notes; hoshu_guac::Status).
const UPSTREAM_TIMEOUT: u16 = 514;
const UPSTREAM_ERROR: u16 = 515;
const SESSION_CLOSED: u16 = 523;

/// The desktop the honest part of each script draws.
const WIDTH: u16 = 320;
const HEIGHT: u16 = 240;
const BLUE: [u8; 3] = [0x20, 0x40, 0xC0];

/// A gateway with a healthy demo session and one RDP target served by a script; the hostile
/// session is opened by [`Stage::open`] and checked by [`Stage::finish`].
struct Stage {
    name: &'static str,
    gateway: Gateway,
    vendor: Session,
    healthy: Tunnel,
    _server: RdpScript,
    pid: u32,
    rss_before: u64,
    peak_before: u64,
}

impl Stage {
    async fn new<F, Fut>(name: &'static str, serve: F) -> Stage
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        let gateway = Gateway::demo();
        let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
        let mut healthy = Tunnel::open(&gateway, &vendor, DEMO).await;
        assert_eq!(healthy.first_frame().await, (1024, 768));

        let server = RdpScript::start(serve);
        let password = gateway.password_file(name, "hostile-pw");
        gateway.add_demo_target(
            name,
            "rdp",
            server.port,
            &[
                "--accept-certificate",
                &server.pin,
                "--username",
                "hoshu",
                "--password-file",
                &password,
            ],
        );
        let pid = gateway.pid();
        Stage {
            name,
            rss_before: proc_status_kib(pid, "VmRSS"),
            peak_before: proc_status_kib(pid, "VmHWM"),
            gateway,
            vendor,
            healthy,
            _server: server,
            pid,
        }
    }

    async fn open(&self) -> Tunnel {
        Tunnel::open(&self.gateway, &self.vendor, self.name).await
    }

    /// The hostile session ended with `status` and a message naming the target and saying
    /// every one of `says`; memory stayed bounded, only that session ended, and its row
    /// holds the message. Returns what its browser saw last.
    async fn finish(mut self, mut bad: Tunnel, status: u16, says: &[&str]) -> String {
        let name = self.name;
        let ending = bad.ending().await;
        assert_eq!(
            ending.status,
            status,
            "{name}: {ending:?}; lately: {}",
            bad.history()
        );
        for words in says {
            assert!(
                ending.message.contains(words),
                "{name}: the message says {words:?}: {ending:?}"
            );
        }
        ending.assert_close_reason();

        let peak = proc_status_kib(self.pid, "VmHWM");
        let rss_after = proc_status_kib(self.pid, "VmRSS");
        let ceiling = self.peak_before.max(self.rss_before + MEMORY_HEADROOM_KIB);
        assert!(
            peak <= ceiling,
            "{name}: the gateway's peak RSS grew to {peak} KiB from {} KiB (peak before {} KiB)",
            self.rss_before,
            self.peak_before
        );
        assert!(
            rss_after <= self.rss_before + MEMORY_HEADROOM_KIB,
            "{name}: the gateway's RSS is {rss_after} KiB after the session, {} KiB before",
            self.rss_before
        );

        assert!(self.gateway.is_running(), "{name}: the gateway died");
        self.healthy.fresh_frame().await;
        let live = list_sessions(&self.gateway, &self.vendor, "live").await;
        assert!(
            live.iter().any(|r| r["id"] == self.healthy.uuid.as_str()),
            "{name}: the healthy session is still live: {live:?}"
        );
        assert!(
            !live.iter().any(|r| r["id"] == bad.uuid.as_str()),
            "{name}: the hostile session is not live: {live:?}"
        );
        let row = ended_session(&self.gateway, &self.vendor, &bad.uuid).await;
        assert_eq!(
            row["outcome"].as_str(),
            Some(ending.message.as_str()),
            "{name}: {row}"
        );
        bad.history()
    }
}

/// A session on a target served by `serve` ends with `status` and a message that names the
/// target and says each of `says`; the rest as [`Stage::finish`].
async fn hostile<F, Fut>(name: &'static str, serve: F, status: u16, says: &[&str]) -> String
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = io::Result<()>> + Send + 'static,
{
    let stage = Stage::new(name, serve).await;
    let bad = stage.open().await;
    let mut says = says.to_vec();
    says.push(name);
    stage.finish(bad, status, &says).await
}

/// Connected, with the desktop drawn blue.
async fn drawn(tcp: TcpStream) -> io::Result<Tls> {
    let mut s = connected(tcp, WIDTH, HEIGHT).await?;
    s.write_all(&rdp::solid(0, 0, WIDTH, HEIGHT, BLUE)).await?;
    Ok(s)
}

/// Lets what was sent reach the browser, then hangs up. What the gateway sends meanwhile is
/// read, so closing does not reset the connection (a reset would discard what the gateway has
/// not read yet).
async fn hang_up(s: Tls) -> io::Result<()> {
    let (read, mut write) = tokio::io::split(s);
    let reading = tokio::spawn(rdp::drain(read));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    write.shutdown().await?;
    let _ = tokio::time::timeout(Duration::from_secs(60), reading).await;
    Ok(())
}

/// The desktop's colour after what the server did wrong, when the session goes on.
const AFTER: [u8; 3] = [200, 30, 30];

/// The session went on after the server's fault: the desktop turned [`AFTER`].
fn assert_drawn_after(name: &str, seen: &str) {
    let drawn = format!("cfill(14,0,{},{},{},255)", AFTER[0], AFTER[1], AFTER[2]);
    assert!(seen.contains(&drawn), "{name}: no {drawn}: {seen}");
}

/// The blue desktop drawn (as fills: single-colour areas) and synced, lately.
fn assert_blue_desktop(name: &str, seen: &str) {
    for drawn in [
        format!("cfill(14,0,{},{},{},255)", BLUE[0], BLUE[1], BLUE[2]),
        "sync(".to_owned(),
    ] {
        assert!(seen.contains(&drawn), "{name}: no {drawn}: {seen}");
    }
}

// ---- The script itself ----

#[tokio::test]
async fn an_honest_scripted_server_draws_its_desktop() {
    // Every frame from the gateway (its input) is answered with a square of a new shade, as
    // a desktop answers a key: `fresh_frame` sees it.
    let stage = Stage::new("honest", |tcp| async move {
        let mut s = drawn(tcp).await?;
        let mut shade = 0u8;
        while rdp::read_frame(&mut s).await.is_ok() {
            shade = shade.wrapping_add(40);
            s.write_all(&rdp::solid(0, 0, 16, 16, [shade, shade, 0]))
                .await?;
        }
        Ok(())
    })
    .await;
    let mut tunnel = stage.open().await;
    assert_eq!(tunnel.first_frame().await, (320, 240));
    tunnel.wait_opcode("cfill").await;
    tunnel.fresh_frame().await;
    tunnel.disconnect();
    let row = ended_session(&stage.gateway, &stage.vendor, &tunnel.uuid).await;
    assert_eq!(row["outcome"], "disconnected by the user", "{row}");
}

// ---- X.224 negotiation (MS-RDPBCGR 1.3.1.1 phase 1) ----

#[tokio::test]
async fn a_tpkt_length_of_zero() {
    hostile(
        "tpkt-zero",
        |mut tcp| async move {
            rdp::read_frame(&mut tcp).await?;
            tcp.write_all(&[3, 0, 0, 0]).await?;
            rdp::drain(tcp).await
        },
        UPSTREAM_ERROR,
        &["failed during log-on"],
    )
    .await;
}

#[tokio::test]
async fn a_tpkt_length_of_three() {
    hostile(
        "tpkt-three",
        |mut tcp| async move {
            rdp::read_frame(&mut tcp).await?;
            tcp.write_all(&[3, 0, 0, 3]).await?;
            rdp::drain(tcp).await
        },
        UPSTREAM_ERROR,
        &["failed during log-on"],
    )
    .await;
}

#[tokio::test]
async fn a_connection_confirm_with_the_wrong_tpdu_code() {
    hostile(
        "wrong-x224-code",
        |mut tcp| async move {
            rdp::read_frame(&mut tcp).await?;
            // 0xE0 is a Connection Request, not the Confirm (0xD0).
            tcp.write_all(&rdp::connection_confirm_raw(0xE0, 2, PROTOCOL_SSL))
                .await?;
            rdp::drain(tcp).await
        },
        UPSTREAM_ERROR,
        &["failed during log-on"],
    )
    .await;
}

#[tokio::test]
async fn a_negotiation_failure() {
    hostile(
        "nego-failure",
        |mut tcp| async move {
            rdp::read_frame(&mut tcp).await?;
            // SSL_CERT_NOT_ON_SERVER (MS-RDPBCGR 2.2.1.2.2).
            tcp.write_all(&rdp::connection_confirm_raw(0xD0, 3, 3))
                .await?;
            rdp::drain(tcp).await
        },
        UPSTREAM_ERROR,
        &["refused the connection"],
    )
    .await;
}

#[tokio::test]
async fn a_protocol_that_was_not_offered() {
    hostile(
        "not-offered",
        |mut tcp| async move {
            rdp::read_frame(&mut tcp).await?;
            tcp.write_all(&rdp::connection_confirm(PROTOCOL_RDSTLS))
                .await?;
            rdp::drain(tcp).await
        },
        UPSTREAM_ERROR,
        &["RDSTLS"],
    )
    .await;
}

#[tokio::test]
async fn standard_rdp_security_chosen_against_the_offer() {
    hostile(
        "standard-security",
        |mut tcp| async move {
            rdp::read_frame(&mut tcp).await?;
            tcp.write_all(&rdp::connection_confirm(PROTOCOL_RDP))
                .await?;
            rdp::drain(tcp).await
        },
        UPSTREAM_ERROR,
        &["server selected STANDARD_RDP_SECURITY"],
    )
    .await;
}

#[tokio::test]
async fn garbage_instead_of_tls() {
    hostile(
        "garbage-tls",
        |mut tcp| async move {
            rdp::negotiate(&mut tcp).await?;
            tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await?;
            rdp::drain(tcp).await
        },
        UPSTREAM_ERROR,
        &["TLS"],
    )
    .await;
}

#[tokio::test]
async fn a_hang_up_after_the_connection_confirm() {
    hostile(
        "hang-up-confirm",
        |mut tcp| async move {
            rdp::negotiate(&mut tcp).await?;
            tcp.shutdown().await
        },
        UPSTREAM_ERROR,
        &["closed the connection"],
    )
    .await;
}

#[tokio::test]
async fn a_handshake_that_never_finishes() {
    // A TPKT announcing more than is sent, then silence: the log-on timeout (20 s) ends it.
    hostile(
        "silent-server",
        |mut tcp| async move {
            rdp::read_frame(&mut tcp).await?;
            tcp.write_all(&[3, 0, 0x40, 0x00, 14, 0xD0]).await?;
            rdp::drain(tcp).await
        },
        UPSTREAM_TIMEOUT,
        &["did not complete the RDP log-on within 20 s"],
    )
    .await;
}

// ---- MCS, GCC, channels, licensing (phases 2 to 7) ----

#[tokio::test]
async fn a_four_gib_ber_length_then_endless_bytes() {
    hostile(
        "huge-ber",
        |tcp| async move {
            let mut s = until_tls(tcp).await?;
            rdp::read_frame(&mut s).await?;
            // A full TPKT whose MCS Connect-Response (T.125, BER tag 0x7F66) claims 4 GiB.
            let mut head = vec![3, 0, 0xFF, 0xFF, 2, 0xF0, 0x80, 0x7F, 0x66, 0x84];
            head.extend_from_slice(&[0xFF; 4]);
            s.write_all(&head).await?;
            rdp::flood(&mut s, &[0xA5; 64 * 1024], 1 << 30).await?;
            rdp::drain(s).await
        },
        UPSTREAM_ERROR,
        &["failed during log-on"],
    )
    .await;
}

#[tokio::test]
async fn a_gcc_block_with_a_huge_length() {
    hostile(
        "huge-gcc-block",
        |tcp| async move {
            let mut s = until_tls(tcp).await?;
            let mut response = rdp::connect_response_ber();
            // The Server Core Data block (SC_CORE 0x0C01, MS-RDPBCGR 2.2.1.4.2) claims 64 KiB.
            let at = response
                .windows(2)
                .position(|w| w == [0x01, 0x0C])
                .expect("the response holds SC_CORE");
            response[at + 2..at + 4].copy_from_slice(&[0xFF, 0xFF]);
            until_client_info(&mut s, &response).await?;
            rdp::drain(s).await
        },
        UPSTREAM_ERROR,
        &["failed during log-on"],
    )
    .await;
}

#[tokio::test]
async fn a_hang_up_in_the_middle_of_the_channel_joins() {
    hostile(
        "hang-up-mcs",
        |tcp| async move {
            let mut s = until_tls(tcp).await?;
            rdp::read_frame(&mut s).await?;
            s.write_all(&rdp::x224_data(&rdp::connect_response_ber()))
                .await?;
            rdp::read_frame(&mut s).await?; // Erect Domain
            rdp::read_frame(&mut s).await?; // Attach User
            s.shutdown().await
        },
        UPSTREAM_ERROR,
        &["closed the connection"],
    )
    .await;
}

#[tokio::test]
async fn a_licensing_message_larger_than_its_packet() {
    hostile(
        "license-size",
        |tcp| async move {
            let mut s = until_tls(tcp).await?;
            until_client_info(&mut s, &rdp::connect_response_ber()).await?;
            // wMsgSize says 64 KiB; 16 bytes follow.
            s.write_all(&rdp::license_pdu(
                0xFF,
                0xFFFF,
                &[7, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0],
            ))
            .await?;
            rdp::drain(s).await
        },
        UPSTREAM_TIMEOUT,
        &["did not complete the RDP log-on within 20 s"],
    )
    .await;
}

#[tokio::test]
async fn a_licensing_blob_larger_than_its_packet() {
    hostile(
        "license-blob",
        |tcp| async move {
            let mut s = until_tls(tcp).await?;
            until_client_info(&mut s, &rdp::connect_response_ber()).await?;
            // The error blob (MS-RDPELE 2.2.2.7.1) claims 65535 bytes.
            s.write_all(&rdp::license_pdu(
                0xFF,
                16,
                &[7, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0xFF, 0xFF],
            ))
            .await?;
            rdp::drain(s).await
        },
        UPSTREAM_TIMEOUT,
        &["did not complete the RDP log-on within 20 s"],
    )
    .await;
}

// ---- Capabilities (phase 9) ----

async fn demand(tcp: TcpStream, width: u16, height: u16) -> io::Result<()> {
    let mut s = until_tls(tcp).await?;
    until_client_info(&mut s, &rdp::connect_response_ber()).await?;
    rdp::activate(&mut s, width, height).await?;
    rdp::drain(s).await
}

#[tokio::test]
async fn a_65535_by_65535_desktop() {
    hostile(
        "huge-desktop",
        |tcp| demand(tcp, 65535, 65535),
        UPSTREAM_ERROR,
        &["65535×65535 desktop", "16 million pixels"],
    )
    .await;
}

#[tokio::test]
async fn a_desktop_of_more_pixels_than_a_session_may_hold() {
    hostile(
        "many-pixels",
        |tcp| demand(tcp, 8192, 8192),
        UPSTREAM_ERROR,
        &["8192×8192 desktop", "16 million pixels"],
    )
    .await;
}

#[tokio::test]
async fn a_redirection_instead_of_capabilities() {
    hostile(
        "redirection",
        |tcp| async move {
            let mut s = until_tls(tcp).await?;
            until_client_info(&mut s, &rdp::connect_response_ber()).await?;
            s.write_all(&rdp::license_valid_client()).await?;
            s.write_all(&rdp::redirection(7)).await?;
            rdp::drain(s).await
        },
        UPSTREAM_ERROR,
        &["redirect"],
    )
    .await;
}

#[tokio::test]
async fn an_unknown_share_control_pdu_instead_of_capabilities() {
    hostile(
        "unknown-share-control",
        |tcp| async move {
            let mut s = until_tls(tcp).await?;
            until_client_info(&mut s, &rdp::connect_response_ber()).await?;
            s.write_all(&rdp::license_valid_client()).await?;
            s.write_all(&rdp::share_control_raw(0x1E, &[0x55; 32]))
                .await?;
            rdp::drain(s).await
        },
        UPSTREAM_ERROR,
        &["failed during log-on"],
    )
    .await;
}

// ---- The active stage ----

#[tokio::test]
async fn a_reactivation_to_65535_by_65535() {
    hostile(
        "huge-reactivation",
        |tcp| async move {
            let mut s = drawn(tcp).await?;
            s.write_all(&rdp::deactivate_all()).await?;
            s.write_all(&rdp::demand_active(65535, 65535)).await?;
            rdp::until_font_list(&mut s).await?;
            s.write_all(&rdp::finalization()).await?;
            rdp::drain(s).await
        },
        UPSTREAM_ERROR,
        &["65535×65535 desktop", "16 million pixels"],
    )
    .await;
}

#[tokio::test]
async fn deactivate_all_again_and_again() {
    // Each Deactivate All and Demand Active is a new desktop (of two large sizes in turn);
    // the session ends at the 31st within 10 s.
    hostile(
        "reactivation-churn",
        |tcp| async move {
            let mut s = drawn(tcp).await?;
            for i in 0..1000u16 {
                let side = 1024 - (i % 2) * 96;
                s.write_all(&rdp::deactivate_all()).await?;
                s.write_all(&rdp::demand_active(side, side)).await?;
                rdp::until_font_list(&mut s).await?;
                s.write_all(&rdp::finalization()).await?;
            }
            rdp::drain(s).await
        },
        UPSTREAM_ERROR,
        &["31 times within 10 s"],
    )
    .await;
}

#[tokio::test]
async fn a_bitmap_outside_the_desktop_is_ignored() {
    let seen = hostile(
        "outside-bitmap",
        |tcp| async move {
            let mut s = connected(tcp, WIDTH, HEIGHT).await?;
            let red = [0, 0, 0xFF, 0xFF].repeat(10 * 10);
            s.write_all(&rdp::bitmap_update(&[BitmapRect {
                left: WIDTH - 4,
                top: HEIGHT - 4,
                right: WIDTH + 5,
                bottom: HEIGHT + 5,
                width: 10,
                height: 10,
                bpp: 32,
                flags: 0,
                data: &red,
            }]))
            .await?;
            s.write_all(&rdp::solid(0, 0, WIDTH, HEIGHT, BLUE)).await?;
            hang_up(s).await
        },
        UPSTREAM_ERROR,
        &["closed the connection"],
    )
    .await;
    assert_blue_desktop("outside-bitmap", &seen);
}

#[tokio::test]
async fn a_bitmap_claiming_a_huge_size_with_little_data_is_ignored() {
    let seen = hostile(
        "huge-bitmap",
        |tcp| async move {
            let mut s = connected(tcp, WIDTH, HEIGHT).await?;
            let little = [0x77; 64];
            let huge = |width, height, bpp, flags| BitmapRect {
                left: 0,
                top: 0,
                right: WIDTH - 1,
                bottom: height - 1,
                width,
                height,
                bpp,
                flags,
                data: &little,
            };
            for _ in 0..64 {
                s.write_all(&rdp::bitmap_update(&[
                    huge(65535, HEIGHT, 32, 0),
                    huge(65535, HEIGHT, 24, 0),
                    huge(8192, HEIGHT, 16, 0),
                ]))
                .await?;
            }
            s.write_all(&rdp::solid(0, 0, WIDTH, HEIGHT, BLUE)).await?;
            hang_up(s).await
        },
        UPSTREAM_ERROR,
        &["closed the connection"],
    )
    .await;
    assert_blue_desktop("huge-bitmap", &seen);
}

/// Connected, then `times` compressed bitmaps of `bpp` as wide as IronRDP decodes (8192
/// columns) over the whole desktop, each of `data`; then the desktop drawn blue, and a hang-up.
async fn wide_bitmaps_then_blue(
    tcp: TcpStream,
    bpp: u16,
    data: Vec<u8>,
    times: usize,
) -> io::Result<()> {
    let mut s = connected(tcp, WIDTH, HEIGHT).await?;
    let update = rdp::bitmap_update(&[BitmapRect {
        left: 0,
        top: 0,
        right: WIDTH - 1,
        bottom: HEIGHT - 1,
        width: 8192,
        height: HEIGHT,
        bpp,
        flags: COMPRESSED,
        data: &data,
    }]);
    for _ in 0..times {
        s.write_all(&update).await?;
    }
    s.write_all(&rdp::solid(0, 0, WIDTH, HEIGHT, BLUE)).await?;
    hang_up(s).await
}

#[tokio::test]
async fn an_interleaved_rle_bomb_is_bounded() {
    // MS-RDPBCGR 2.2.9.1.1.3.1.2.4: MEGA_MEGA_COLOR_RUN (0xF3) orders of 65535 pixels each;
    // 64 of them fill a bitmap of 8192 columns (the most IronRDP decodes) by the desktop's
    // height from 320 bytes, again and again.
    let seen = hostile(
        "rle-bomb",
        |tcp| wide_bitmaps_then_blue(tcp, 16, [0xF3, 0xFF, 0xFF, 0x1F, 0x00].repeat(64), 256),
        UPSTREAM_ERROR,
        &["closed the connection"],
    )
    .await;
    assert_blue_desktop("rle-bomb", &seen);
}

#[tokio::test]
async fn a_planar_bitmap_of_garbage_is_ignored() {
    // 32 bpp compressed bitmaps are RDP 6.0 planar streams (MS-RDPEGDI 2.2.2.5.1): a format
    // header asking for RLE planes, then garbage.
    let seen = hostile(
        "planar-garbage",
        |tcp| {
            let mut planar = vec![0x30];
            planar.extend_from_slice(&[0xFE; 4000]);
            wide_bitmaps_then_blue(tcp, 32, planar, 64)
        },
        UPSTREAM_ERROR,
        &["closed the connection"],
    )
    .await;
    assert_blue_desktop("planar-garbage", &seen);
}

#[tokio::test]
async fn a_fast_path_length_larger_than_sent_then_a_hang_up() {
    hostile(
        "fast-path-short",
        |tcp| async move {
            let mut s = drawn(tcp).await?;
            let update = rdp::fast_path_update(1, &[1, 0, 1, 0]);
            s.write_all(&rdp::fast_path_with_length(&update, 0x7FFF))
                .await?;
            hang_up(s).await
        },
        UPSTREAM_ERROR,
        &["closed the connection"],
    )
    .await;
}

#[tokio::test]
async fn a_pointer_of_65535_by_65535() {
    let seen = hostile(
        "huge-pointer",
        |tcp| async move {
            let mut s = drawn(tcp).await?;
            // TS_FP_POINTERATTRIBUTE (MS-RDPBCGR 2.2.9.1.2.1.7): xorBpp 32, then a colour
            // pointer (2.2.9.1.1.4.4) of 65535×65535 whose masks are a few bytes.
            let mut pointer = vec![32, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
            pointer.extend_from_slice(&[16, 0, 16, 0]);
            pointer.extend_from_slice(&[0xCC; 32]);
            s.write_all(&rdp::fast_path(&rdp::fast_path_update(
                rdp::FASTPATH_POINTER_NEW,
                &pointer,
            )))
            .await?;
            s.write_all(&rdp::solid(0, 0, WIDTH, HEIGHT, AFTER)).await?;
            hang_up(s).await
        },
        UPSTREAM_ERROR,
        &["closed the connection"],
    )
    .await;
    assert_drawn_after("huge-pointer", &seen);
}

#[tokio::test]
async fn a_large_pointer_with_bogus_mask_lengths() {
    let seen = hostile(
        "bogus-pointer",
        |tcp| async move {
            let mut s = drawn(tcp).await?;
            // TS_FP_LARGEPOINTERATTRIBUTE (MS-RDPBCGR 2.2.9.1.2.1.11): 384×384, masks that
            // claim 4 GiB each.
            let mut pointer = vec![32, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x01, 0x80, 0x01];
            pointer.extend_from_slice(&[0xFF; 8]);
            pointer.extend_from_slice(&[0xCC; 64]);
            s.write_all(&rdp::fast_path(&rdp::fast_path_update(
                rdp::FASTPATH_POINTER_LARGE,
                &pointer,
            )))
            .await?;
            s.write_all(&rdp::solid(0, 0, WIDTH, HEIGHT, AFTER)).await?;
            hang_up(s).await
        },
        UPSTREAM_ERROR,
        &["closed the connection"],
    )
    .await;
    assert_drawn_after("bogus-pointer", &seen);
}

#[tokio::test]
async fn an_update_type_nobody_defined_ends_the_session() {
    hostile(
        "unknown-updates",
        |tcp| async move {
            let mut s = connected(tcp, WIDTH, HEIGHT).await?;
            // A fast-path updateCode nobody defined, and a slow-path pduType2 nobody did.
            s.write_all(&rdp::fast_path(&rdp::fast_path_update(0xE, &[0x42; 40])))
                .await?;
            s.write_all(&rdp::share_data(0xEE, &[0x42; 40])).await?;
            s.write_all(&rdp::solid(0, 0, WIDTH, HEIGHT, BLUE)).await?;
            hang_up(s).await
        },
        UPSTREAM_ERROR,
        &["does not allow", "Invalid update code"],
    )
    .await;
}

#[tokio::test]
async fn save_session_info_of_garbage() {
    hostile(
        "session-info",
        |tcp| async move {
            let mut s = drawn(tcp).await?;
            // INFOTYPE_LOGON_LONG (MS-RDPBCGR 2.2.10.1.1) whose lengths claim far more than
            // the PDU holds.
            let mut info = 1u32.to_le_bytes().to_vec();
            info.extend_from_slice(&[0xFF; 12]);
            s.write_all(&rdp::share_data(rdp::PDUTYPE2_SAVE_SESSION_INFO, &info))
                .await?;
            rdp::drain(s).await
        },
        UPSTREAM_ERROR,
        &["session"],
    )
    .await;
}

#[tokio::test]
async fn an_endless_stream_of_updates_stays_killable() {
    let stage = Stage::new("update-flood", |tcp| async move {
        let s = drawn(tcp).await?;
        let (read, mut write) = tokio::io::split(s);
        tokio::spawn(rdp::drain(read));
        let mut colour = 0u8;
        loop {
            colour = colour.wrapping_add(17);
            let update = rdp::solid(0, 0, WIDTH, 32, [colour, 0x80, 0xFF - colour]);
            if write.write_all(&update).await.is_err() {
                return Ok(());
            }
        }
    })
    .await;
    let mut bad = stage.open().await;
    bad.first_frame().await;
    // Flooding for a while must neither grow the gateway nor starve the other session.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let admin = stage.gateway.login_ok(&Credential::demo_admin()).await;
    let ended = end_session(&stage.gateway, &admin, &bad.uuid).await;
    assert_eq!(
        ended.status,
        reqwest::StatusCode::NO_CONTENT,
        "{}",
        ended.body
    );
    stage
        .finish(bad, SESSION_CLOSED, &["ended by administrator demo-admin"])
        .await;
}
