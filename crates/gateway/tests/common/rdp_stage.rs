//! What every hostile-RDP case shares: a gateway with a healthy session on the demo target
//! beside the session on a scripted server ([`Stage`]), and the checks after it ended.

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::hostile_rdp::{self as rdp, RdpScript, Tls, connected};
use super::script::MemoryMark;
use super::tunnel::{Tunnel, ended_session, list_sessions};
use super::{Credential, Gateway, Session};

pub const DEMO: &str = "demo-desktop";
pub const MEMORY_HEADROOM_KIB: u64 = 200 * 1024;

/// Guacamole status codes (notes; hoshu_guac::Status).
pub const UPSTREAM_TIMEOUT: u16 = 514;
pub const UPSTREAM_ERROR: u16 = 515;
pub const SESSION_CLOSED: u16 = 523;

/// The desktop the honest part of each script draws.
pub const WIDTH: u16 = 320;
pub const HEIGHT: u16 = 240;
pub const BLUE: [u8; 3] = [0x20, 0x40, 0xC0];

/// A gateway with a healthy demo session and one RDP target served by a script; the hostile
/// session is opened by [`Stage::open`] and checked by [`Stage::finish`].
pub struct Stage {
    pub name: &'static str,
    pub gateway: Gateway,
    pub vendor: Session,
    pub healthy: Tunnel,
    _server: RdpScript,
    memory: MemoryMark,
}

impl Stage {
    pub async fn new<F, Fut>(name: &'static str, serve: F) -> Stage
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
        Stage {
            name,
            memory: MemoryMark::of(gateway.pid()),
            gateway,
            vendor,
            healthy,
            _server: server,
        }
    }

    pub async fn open(&self) -> Tunnel {
        Tunnel::open(&self.gateway, &self.vendor, self.name).await
    }

    /// The hostile session ended with `status` and a message naming the target and saying
    /// every one of `says`; memory stayed bounded, only that session ended, and its row
    /// holds the message. Returns what its browser saw last.
    pub async fn finish(mut self, mut bad: Tunnel, status: u16, says: &[&str]) -> String {
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

        self.memory.assert_bounded(name, MEMORY_HEADROOM_KIB);

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
pub async fn hostile<F, Fut>(name: &'static str, serve: F, status: u16, says: &[&str]) -> String
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
pub async fn drawn(tcp: TcpStream) -> io::Result<Tls> {
    let mut s = connected(tcp, WIDTH, HEIGHT).await?;
    s.write_all(&rdp::solid(0, 0, WIDTH, HEIGHT, BLUE)).await?;
    Ok(s)
}

/// Lets what was sent reach the browser, then hangs up. What the gateway sends meanwhile is
/// read, so closing does not reset the connection (a reset would discard what the gateway has
/// not read yet).
pub async fn hang_up(s: Tls) -> io::Result<()> {
    let (read, mut write) = tokio::io::split(s);
    let reading = tokio::spawn(rdp::drain(read));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    write.shutdown().await?;
    let _ = tokio::time::timeout(Duration::from_secs(60), reading).await;
    Ok(())
}

/// The desktop's colour after what the server did wrong, when the session goes on.
pub const AFTER: [u8; 3] = [200, 30, 30];

/// The session went on after the server's fault: the desktop turned [`AFTER`].
pub fn assert_drawn_after(name: &str, seen: &str) {
    let drawn = format!("cfill(14,0,{},{},{},255)", AFTER[0], AFTER[1], AFTER[2]);
    assert!(seen.contains(&drawn), "{name}: no {drawn}: {seen}");
}

/// The blue desktop drawn (as fills: single-colour areas) and synced, lately.
pub fn assert_blue_desktop(name: &str, seen: &str) {
    for drawn in [
        format!("cfill(14,0,{},{},{},255)", BLUE[0], BLUE[1], BLUE[2]),
        "sync(".to_owned(),
    ] {
        assert!(seen.contains(&drawn), "{name}: no {drawn}: {seen}");
    }
}
