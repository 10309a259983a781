//! Hostile RDP servers in the active stage (the first part, hostile_rdp.rs, breaks the
//! connection sequence): reactivations, bitmaps, pointers and updates that are bogus, huge or
//! endless. Each ends only its own session, with a message naming the target, or is absorbed
//! and the session draws on; the gateway's memory stays bounded and the session on the demo
//! target keeps working.

mod common;

use std::io;
use std::time::Duration;

use common::Credential;
use common::hostile_rdp::{self as rdp, BitmapRect, COMPRESSED, connected};
use common::rdp_stage::{
    AFTER, BLUE, HEIGHT, SESSION_CLOSED, Stage, UPSTREAM_ERROR, WIDTH, assert_blue_desktop,
    assert_drawn_after, drawn, hang_up, hostile,
};
use common::tunnel::end_session;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

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
