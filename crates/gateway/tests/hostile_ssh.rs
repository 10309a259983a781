//! Hostile SSH servers before and around the key exchange: each scripted server
//! (common/hostile_ssh.rs) breaks the version exchange (RFC 4253 §4.2) or the binary packet
//! protocol (§6) in its own way and must end only its own session, with an `end` message whose
//! code says what went wrong and whose text names the target, while the gateway's memory stays
//! bounded, `/healthz` answers and a concurrent session on a real sshd keeps echoing.
//! hostile_ssh_output.rs has the servers that misbehave after the log-in.
//!
//! Every test runs its own gateway, so its memory is measured alone.

mod common;

use std::time::Duration;

use common::hostile_ssh::{
    self as ssh, Options, Stage, UPSTREAM_ERROR, UPSTREAM_TIMEOUT, VERSION, drain, flood, kexinit,
    packet, versions,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const NOT_SSH: &[&str] = &["ssh-not-ssh"];
const CLOSED: &[&str] = &["ssh-closed-in-handshake"];
const TOO_LARGE: &[&str] = &["ssh-packet-too-large"];

/// A session on a target served by `serve` ends with `status`, one of `codes`, and a message
/// naming the target and saying each of `says`; the rest as [`Stage::finish`].
async fn hostile<F, Fut>(
    name: &'static str,
    serve: F,
    status: u64,
    codes: &[&str],
    says: &[&str],
) -> ssh::End
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    let stage = Stage::new(name, &[], serve).await;
    let (id, mut bad) = stage.open().await;
    let mut says = says.to_vec();
    says.push(name);
    stage.finish(&id, &mut bad, status, codes, &says).await
}

// ---- The script itself ----

#[tokio::test]
async fn an_honest_scripted_server_runs_a_shell() {
    let mut stage = Stage::new("honest", &[], ssh::shell(Options::default(), ssh::echo)).await;
    let (id, mut term) = stage.shell().await;
    term.keys("echo hoshu-honest\r").await;
    term.wait_line("hoshu-honest").await;
    stage.assert_healthy().await;
    drop(term);
    let row = common::tunnel::ended_session(&stage.gateway, &stage.vendor, &id).await;
    assert_eq!(row["outcome"], "browser closed the session", "{row}");
}

// ---- The version exchange (RFC 4253 §4.2) ----

#[tokio::test]
async fn an_endless_version_line_without_a_line_feed() {
    hostile(
        "endless-banner",
        |mut tcp| async move {
            tcp.write_all(b"SSH-2.0-").await?;
            flood(&mut tcp, &[b'A'; 16 * 1024], 256 << 20).await?;
            drain(tcp).await
        },
        UPSTREAM_ERROR,
        NOT_SSH,
        &["did not identify itself as an SSH-2.0 server"],
    )
    .await;
}

#[tokio::test]
async fn a_megabyte_of_lines_before_the_version() {
    // RFC 4253 §4.2 lets a server send other lines first; a megabyte of them is no server.
    hostile(
        "pre-banner-flood",
        |mut tcp| async move {
            let lines = "Welcome to a very chatty server\r\n".repeat(32 * 1024);
            flood(&mut tcp, lines.as_bytes(), lines.len() as u64).await?;
            tcp.write_all(VERSION).await?;
            drain(tcp).await
        },
        UPSTREAM_ERROR,
        NOT_SSH,
        &["check that the target's port is an SSH server"],
    )
    .await;
}

#[tokio::test]
async fn a_server_speaking_only_ssh_1() {
    // An SSH-1 server answers a version-2 client with its own line and hangs up.
    hostile(
        "ssh-1.5",
        |mut tcp| async move {
            tcp.write_all(b"SSH-1.5-OpenSSH_1.2.3\r\nProtocol major versions differ.\r\n")
                .await?;
            tcp.shutdown().await
        },
        UPSTREAM_ERROR,
        CLOSED,
        &["closed the connection during the SSH handshake"],
    )
    .await;
}

#[tokio::test]
async fn a_hang_up_after_the_version_line() {
    hostile(
        "hang-up-banner",
        |mut tcp| async move {
            versions(&mut tcp).await?;
            tcp.shutdown().await
        },
        UPSTREAM_ERROR,
        CLOSED,
        &["closed the connection during the SSH handshake"],
    )
    .await;
}

#[tokio::test]
async fn a_server_that_never_says_anything() {
    // The handshake's deadline (15 s) ends it.
    let started = std::time::Instant::now();
    hostile(
        "silent",
        drain::<TcpStream>,
        UPSTREAM_TIMEOUT,
        &["handshake-timeout"],
        &["did not complete the SSH handshake within 15 s"],
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[tokio::test]
async fn a_version_line_trickled_a_byte_at_a_time() {
    // One byte every 200 ms: each is progress, but the one deadline for the whole handshake
    // still ends it.
    hostile(
        "trickle",
        |mut tcp| async move {
            for &b in b"SSH-2.0-".iter().cycle().take(10_000) {
                if tcp.write_all(&[b]).await.is_err() {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(())
        },
        UPSTREAM_TIMEOUT,
        &["handshake-timeout"],
        &["within 15 s"],
    )
    .await;
}

// ---- Binary packets in the clear (RFC 4253 §6) ----

#[tokio::test]
async fn garbage_after_the_version_line() {
    // "HTTP" read as a packet length is 1.2 GB.
    hostile(
        "garbage",
        |mut tcp| async move {
            versions(&mut tcp).await?;
            tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await?;
            drain(tcp).await
        },
        UPSTREAM_ERROR,
        TOO_LARGE,
        &["sent an SSH packet of 1213486160 bytes"],
    )
    .await;
}

#[tokio::test]
async fn a_packet_length_of_four_gib() {
    hostile(
        "length-ffffffff",
        |mut tcp| async move {
            versions(&mut tcp).await?;
            tcp.write_all(&[0xFF; 4]).await?;
            flood(&mut tcp, &[0xA5; 16 * 1024], 64 << 20).await?;
            drain(tcp).await
        },
        UPSTREAM_ERROR,
        TOO_LARGE,
        &["4294967295 bytes"],
    )
    .await;
}

#[tokio::test]
async fn a_packet_length_of_a_megabyte() {
    // RFC 4253 §6.1: 35000 bytes must be accepted; far more is refused before it is read.
    hostile(
        "length-1m",
        |mut tcp| async move {
            versions(&mut tcp).await?;
            tcp.write_all(&(1u32 << 20).to_be_bytes()).await?;
            flood(&mut tcp, &[0; 16 * 1024], 1 << 20).await?;
            drain(tcp).await
        },
        UPSTREAM_ERROR,
        TOO_LARGE,
        &["1048576 bytes"],
    )
    .await;
}

#[tokio::test]
async fn a_packet_of_more_than_35000_bytes_that_never_ends() {
    // Within what the gateway accepts, announced, partly sent, then the server hangs up.
    hostile(
        "length-40000",
        |mut tcp| async move {
            versions(&mut tcp).await?;
            tcp.write_all(&40_000u32.to_be_bytes()).await?;
            tcp.write_all(&[4; 20_000]).await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            tcp.shutdown().await
        },
        UPSTREAM_ERROR,
        CLOSED,
        &["closed the connection"],
    )
    .await;
}

#[tokio::test]
async fn a_packet_length_of_zero() {
    hostile(
        "length-zero",
        |mut tcp| async move {
            versions(&mut tcp).await?;
            for _ in 0..1000 {
                tcp.write_all(&[0; 4]).await?;
            }
            tcp.shutdown().await?;
            drain(tcp).await
        },
        UPSTREAM_ERROR,
        // Empty packets are read and ignored; the hang-up ends it.
        CLOSED,
        &["closed the connection during the SSH handshake"],
    )
    .await;
}

#[tokio::test]
async fn a_packet_whose_length_is_not_a_multiple_of_the_block_size() {
    // RFC 4253 §6: packet_length + 4 must be a multiple of 8 in the clear; 3 bytes too many.
    hostile(
        "odd-length",
        |mut tcp| async move {
            versions(&mut tcp).await?;
            let mut kex = packet(&kexinit("curve25519-sha256"));
            let length = u32::from_be_bytes([kex[0], kex[1], kex[2], kex[3]]) + 3;
            kex[..4].copy_from_slice(&length.to_be_bytes());
            kex.extend_from_slice(&[0; 3]);
            tcp.write_all(&kex).await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            tcp.shutdown().await?;
            drain(tcp).await
        },
        UPSTREAM_ERROR,
        // Read as a packet all the same (russh does not check the multiple in the clear); its
        // KEXINIT names one key exchange the gateway has and no host-key algorithm.
        &["ssh-no-common-algorithm"],
        &["offers no host-key algorithm"],
    )
    .await;
}

// ---- The key exchange (RFC 4253 §7) ----

#[tokio::test]
async fn a_kexinit_with_no_common_algorithm() {
    hostile(
        "no-common-algorithm",
        |mut tcp| async move {
            versions(&mut tcp).await?;
            tcp.write_all(&packet(&kexinit(
                "diffie-hellman-group0-md4@hostile.example",
            )))
            .await?;
            drain(tcp).await
        },
        UPSTREAM_ERROR,
        &["ssh-no-common-algorithm"],
        &["offers no key-exchange algorithm the gateway accepts"],
    )
    .await;
}

#[tokio::test]
async fn a_kexinit_with_huge_name_lists() {
    // Ten name-lists of 20 000 bytes each (a 200 KB packet, within what the gateway reads):
    // the refusal must not carry them into the session's outcome.
    let end = hostile(
        "huge-name-lists",
        |mut tcp| async move {
            versions(&mut tcp).await?;
            // Names of 40 characters: RFC 4251 §6 allows up to 64, russh reads up to 48.
            let names = vec!["x".repeat(40); 480].join(",");
            tcp.write_all(&packet(&kexinit(&names))).await?;
            drain(tcp).await
        },
        UPSTREAM_ERROR,
        // russh refuses the packet while decoding its lists; the message stays short.
        &["ssh-protocol"],
        &["length invalid"],
    )
    .await;
    assert!(end.reason.len() < 1000, "{} bytes", end.reason.len());
}

#[tokio::test]
async fn a_hang_up_in_the_middle_of_the_key_exchange() {
    hostile(
        "hang-up-kex",
        |mut tcp| async move {
            versions(&mut tcp).await?;
            let kex = packet(&kexinit("curve25519-sha256"));
            tcp.write_all(&kex[..kex.len() / 2]).await?;
            tcp.shutdown().await?;
            drain(tcp).await
        },
        UPSTREAM_ERROR,
        CLOSED,
        &["closed the connection during the SSH handshake"],
    )
    .await;
}
