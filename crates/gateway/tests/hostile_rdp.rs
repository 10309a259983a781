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

use std::io;

use common::hostile_rdp::{
    self as rdp, PROTOCOL_RDP, PROTOCOL_RDSTLS, PROTOCOL_SSL, until_client_info, until_tls,
};
use common::rdp_stage::{Stage, UPSTREAM_ERROR, UPSTREAM_TIMEOUT, drawn, hostile};
use common::tunnel::ended_session;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

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

/// Connected up to the client's Info PDU, then a licensing message of `msg_size` (wMsgSize)
/// with `body`: IronRDP waits for a licensing exchange that never comes, and the log-on's
/// 20 s end it.
async fn bogus_licensing(name: &'static str, msg_size: u16, body: &'static [u8]) {
    hostile(
        name,
        move |tcp| async move {
            let mut s = until_tls(tcp).await?;
            until_client_info(&mut s, &rdp::connect_response_ber()).await?;
            s.write_all(&rdp::license_pdu(0xFF, msg_size, body)).await?;
            rdp::drain(s).await
        },
        UPSTREAM_TIMEOUT,
        &["did not complete the RDP log-on within 20 s"],
    )
    .await;
}

#[tokio::test]
async fn a_licensing_message_larger_than_its_packet() {
    // wMsgSize says 64 KiB; 16 bytes follow.
    bogus_licensing(
        "license-size",
        0xFFFF,
        &[7, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0],
    )
    .await;
}

#[tokio::test]
async fn a_licensing_blob_larger_than_its_packet() {
    // The error blob (MS-RDPELE 2.2.2.7.1) claims 65535 bytes.
    bogus_licensing(
        "license-blob",
        16,
        &[7, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0xFF, 0xFF],
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
