//! A live session always ends sealed (DESIGN §10 "Shutdown"), against the real `hoshu` binary
//! with live VNC (the demo desktop), SSH (a real sshd) and RDP (a real xrdp) sessions:
//! - SIGTERM: every client is told the gateway is shutting down, every recording is sealed
//!   (`x-hoshu-integrity: verified` after a restart), and the process exits 0 within 10 s;
//! - kill -9: the next start seals every orphaned recording with "the gateway stopped
//!   unexpectedly", the audit chain verifies, and each recording plays up to at most a second
//!   before the kill.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::rdp_server::RdpServer;
use common::sshd::{self, Sshd};
use common::terminal::Terminal;
use common::tunnel::{Tunnel, list_sessions};
use common::{Credential, Gateway, Session, hoshu, said};
use reqwest::StatusCode;

/// The demo desktop, built into `hoshu demo`.
const DEMO: &str = "demo-desktop";

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The live sessions of one test: graphical tunnels and terminals, and every session's id.
struct Live {
    tunnels: Vec<Tunnel>,
    terminals: Vec<Terminal>,
    ids: Vec<(String, &'static str)>,
}

/// A gateway with an SSH target on `sshd` and an RDP target on each xrdp server, the demo
/// vendor logged in, and as many live sessions on the demo desktop, on the SSH target and on the
/// RDP targets as there are xrdp servers (xrdp gives one user one desktop, so each RDP session
/// has its own server). All of them show something that changes: the demo desktop gets a key
/// every 100 ms (from `keep_busy`), the shells and the xterms print the time ten times a second.
async fn live_sessions(gateway: &Gateway, sshd: &Sshd, xrdps: &[RdpServer]) -> Live {
    let file = gateway.password_file("linux", sshd::PASSWORD);
    gateway.add_demo_target(
        "linux",
        "ssh",
        sshd.port,
        &[
            "--accept-host-key",
            sshd.fingerprint.as_str(),
            "--username",
            sshd::USER,
            "--password-file",
            &file,
        ],
    );
    for (i, xrdp) in xrdps.iter().enumerate() {
        let name = format!("windows-{i}");
        let file = gateway.password_file(&name, &xrdp.password);
        gateway.add_demo_target(
            &name,
            "rdp",
            xrdp.port,
            &[
                "--accept-certificate",
                xrdp.cert_sha256.as_str(),
                "--username",
                &xrdp.user,
                "--password-file",
                &file,
            ],
        );
    }
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let mut live = Live {
        tunnels: Vec::new(),
        terminals: Vec::new(),
        ids: Vec::new(),
    };
    for i in 0..xrdps.len() {
        let mut tunnel = Tunnel::open(gateway, &vendor, DEMO).await;
        tunnel.first_frame().await;
        live.ids.push((tunnel.uuid.clone(), "vnc"));
        live.tunnels.push(tunnel);

        let (id, mut terminal) = Terminal::open(gateway, &vendor, "linux").await;
        terminal.start(100, 30).await;
        terminal
            .keys("while :; do date +%s%3N; sleep 0.1; done\r")
            .await;
        terminal.wait_output("\n1").await;
        live.ids.push((id, "ssh"));
        live.terminals.push(terminal);

        let mut tunnel = Tunnel::open(gateway, &vendor, &format!("windows-{i}")).await;
        tunnel.first_frame().await;
        // Into the xterm (at +0+0), a clock that redraws its screen ten times a second.
        tunnel.send("5.mouse,2.40,2.40,1.1;5.mouse,2.40,2.40,1.0;");
        tunnel.type_line("while :; do date +%s%N; sleep 0.1; done");
        live.ids.push((tunnel.uuid.clone(), "rdp"));
        live.tunnels.push(tunnel);
    }
    live
}

/// Keeps every session busy for `duration`: the demo desktop's tunnels get a key every
/// 100 ms, every tunnel and terminal is read.
async fn keep_busy(live: &mut Live, duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        for tunnel in &mut live.tunnels {
            tunnel.key(u32::from(b'x'));
            while tunnel.next(Duration::from_millis(1)).await.is_some() {}
        }
        for terminal in &mut live.terminals {
            while terminal.read_one(Duration::from_millis(1)).await {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `GET /api/v1/sessions/<id>/recording`: status, the integrity header, the body.
async fn recording(gateway: &Gateway, session: &Session, id: &str) -> (StatusCode, String, String) {
    let response = session
        .client
        .get(gateway.url(&format!("/api/v1/sessions/{id}/recording")))
        .send()
        .await
        .expect("recording request");
    let status = response.status();
    let integrity = response
        .headers()
        .get("x-hoshu-integrity")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.text().await.expect("a body");
    (status, integrity, body)
}

/// The latest moment a recording shows, in Unix ms: the last `sync` of a Guacamole stream, or
/// the last clock a terminal printed (`date +%s%3N`: the asciicast's only 13-digit numbers).
fn last_moment(protocol: &str, body: &str) -> i64 {
    let runs = body
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() == 13)
        .filter_map(|run| run.parse::<i64>().ok());
    if protocol == "ssh" {
        runs.max().unwrap_or(0)
    } else {
        body.split("4.sync,13.")
            .skip(1)
            .filter_map(|rest| rest.get(..13)?.parse::<i64>().ok())
            .max()
            .unwrap_or(0)
    }
}

#[tokio::test]
async fn sigterm_tells_every_user_seals_every_recording_and_exits_0_within_10_s() {
    let sshd = Sshd::start();
    let xrdp = [RdpServer::xrdp()];
    let mut gateway = Gateway::demo();
    let mut live = live_sessions(&gateway, &sshd, &xrdp).await;
    keep_busy(&mut live, Duration::from_secs(2)).await;

    let (status, took) = gateway
        .terminate(Duration::from_secs(15))
        .unwrap_or_else(|| panic!("the gateway did not exit; it said:\n{}", gateway.log()));
    assert_eq!(status.code(), Some(0), "{}", gateway.log());
    assert!(took <= Duration::from_secs(10), "shutdown took {took:?}");
    println!(
        "SIGTERM to exit with 3 live sessions: {} ms",
        took.as_millis()
    );
    for tunnel in &mut live.tunnels {
        let ending = tunnel.ending().await;
        assert_eq!(ending.message, "the gateway is shutting down", "{ending:?}");
    }
    for terminal in &mut live.terminals {
        let (reason, _) = terminal.ending().await;
        assert_eq!(reason, "the gateway is shutting down");
    }

    gateway.restart();
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    for (id, protocol) in &live.ids {
        let (status, integrity, _) = recording(&gateway, &admin, id).await;
        assert_eq!(status, StatusCode::OK, "{protocol} {id}");
        assert_eq!(integrity, "verified", "{protocol} {id}");
    }
    let ended = list_sessions(&gateway, &admin, "ended").await;
    for (id, protocol) in &live.ids {
        let row = ended
            .iter()
            .find(|s| s["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{protocol} session {id} is not listed as ended"));
        assert_eq!(row["outcome"], "the gateway is shutting down", "{row}");
    }
    let data = gateway.data().to_str().expect("UTF-8 path").to_owned();
    let verify = hoshu(&["audit", "verify", "--data", &data]);
    assert_eq!(verify.status.code(), Some(0), "{}", said(&verify));
}

#[tokio::test]
async fn after_kill_9_the_next_start_seals_every_session_up_to_the_kill() {
    let sshd = Sshd::start();
    let xrdp = [RdpServer::xrdp(), RdpServer::xrdp()];
    let mut gateway = Gateway::demo_with(&["--live-sessions-per-user", "6"]);
    let mut live = live_sessions(&gateway, &sshd, &xrdp).await;
    assert_eq!(live.ids.len(), 6);
    keep_busy(&mut live, Duration::from_secs(3)).await;
    let killed_ms = unix_ms();
    gateway.stop();
    drop(live.tunnels);
    drop(live.terminals);

    gateway.restart();
    let data = gateway.data().to_str().expect("UTF-8 path").to_owned();
    let verify = hoshu(&["audit", "verify", "--data", &data]);
    assert_eq!(verify.status.code(), Some(0), "{}", said(&verify));
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let ended = list_sessions(&gateway, &admin, "ended").await;
    for (id, protocol) in &live.ids {
        let row = ended
            .iter()
            .find(|s| s["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{protocol} session {id} is not listed as ended"));
        assert_eq!(row["outcome"], "the gateway stopped unexpectedly", "{row}");
        let (status, integrity, body) = recording(&gateway, &admin, id).await;
        assert_eq!(status, StatusCode::OK, "{protocol} {id}");
        assert_eq!(integrity, "verified", "{protocol} {id} is sealed");
        let last = last_moment(protocol, &body);
        let lost = killed_ms - last;
        println!("{protocol} {id}: the recording plays to {lost} ms before the kill");
        assert!(
            lost <= 1_000,
            "{protocol} {id}: the recording ends {lost} ms before the kill"
        );
    }
}

#[tokio::test]
async fn keys_typed_without_enter_reach_the_log_before_a_kill() {
    let mut gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, DEMO).await;
    tunnel.first_frame().await;
    let id = tunnel.uuid.clone();
    // A key every 200 ms, no Enter: one line in progress.
    for c in "hoshu-typed".bytes() {
        tunnel.key(u32::from(c));
        tokio::time::sleep(Duration::from_millis(200)).await;
        while tunnel.next(Duration::from_millis(1)).await.is_some() {}
    }
    // The log is stored at least every second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    gateway.stop();
    drop(tunnel);

    gateway.restart();
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let lines: Vec<serde_json::Value> = admin
        .client
        .get(gateway.url(&format!("/api/v1/sessions/{id}/keystrokes")))
        .send()
        .await
        .expect("keystrokes")
        .json()
        .await
        .expect("JSON");
    let text: String = lines.iter().filter_map(|l| l["text"].as_str()).collect();
    assert_eq!(text, "hoshu-typed", "{lines:?}");
}

#[tokio::test]
async fn a_command_typed_without_enter_reaches_the_log_before_a_kill() {
    let sshd = Sshd::start();
    let mut gateway = Gateway::demo();
    let live = live_sessions(&gateway, &sshd, &[]).await;
    assert!(live.ids.is_empty());
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let (id, mut terminal) = Terminal::open(&gateway, &vendor, "linux").await;
    terminal.start(100, 30).await;
    terminal.keys("echo ready\r").await;
    terminal.wait_line("ready").await;
    // A key every 200 ms, no Enter: the command in progress, as the shell echoed it.
    for c in "echo hoshu-unfinished".chars() {
        terminal.keys(&c.to_string()).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        while terminal.read_one(Duration::from_millis(1)).await {}
    }
    terminal.wait_output("hoshu-unfinished").await;
    // The line in progress is stored at least every second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    gateway.stop();
    drop(terminal);

    gateway.restart();
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let commands: Vec<serde_json::Value> = admin
        .client
        .get(gateway.url(&format!("/api/v1/sessions/{id}/commands")))
        .send()
        .await
        .expect("commands")
        .json()
        .await
        .expect("JSON");
    let texts: Vec<&str> = commands
        .iter()
        .filter_map(|c| c["command"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["echo ready", "echo hoshu-unfinished"],
        "{commands:?}"
    );
}
