//! SSH targets through the gateway (issue 8) against the real `hoshu` binary and a real OpenSSH
//! server (common/sshd.rs): host-key pinning at registration, the terminal tunnel of DESIGN §8
//! (binary frames = terminal bytes, text frames = JSON control), resizing, the asciicast
//! recording sealed in the audit chain, the command log, a changed host key, a wrong password,
//! credentials asked from the user, and memory under an output flood.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::sshd::{self, Sshd};
use common::terminal::Terminal;
use common::tunnel::{Auth, end_session, ended_session, proc_status_kib, websocket};
use common::{Credential, Gateway, Session, said, stdout};
use rand::Rng;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Guacamole status codes the terminal's end message reports too.
const SUCCESS: u64 = 0;
const UPSTREAM_ERROR: u64 = 515;
const CLIENT_UNAUTHORIZED: u64 = 769;
const SESSION_TIMEOUT: u64 = 522;
const SESSION_CLOSED: u64 = 523;

/// `hoshu admin target add --protocol ssh` for `sshd`, pinning its key; `extra` adds
/// credentials and policy flags.
fn add_ssh_target(gateway: &Gateway, sshd: &Sshd, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["--accept-host-key", sshd.fingerprint.as_str()];
    args.extend(extra);
    gateway.add_demo_target(name, "ssh", sshd.port, &args)
}

/// A target logging in as the test user with its password (from a file).
fn add_password_target(gateway: &Gateway, sshd: &Sshd, name: &str, password: &str) {
    let file = gateway.password_file(name, password);
    add_ssh_target(
        gateway,
        sshd,
        name,
        &["--username", sshd::USER, "--password-file", &file],
    );
}

/// A real sshd, a demo gateway with an SSH target `name` that logs in as the test user with
/// `password`, and the demo vendor logged in.
async fn with_target(name: &str, password: &str) -> (Sshd, Gateway, Session) {
    let sshd = Sshd::start();
    let gateway = Gateway::demo();
    add_password_target(&gateway, &sshd, name, password);
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    (sshd, gateway, vendor)
}

async fn get(gateway: &Gateway, session: &Session, path: &str) -> (StatusCode, Vec<u8>) {
    let response = session
        .client
        .get(gateway.url(path))
        .send()
        .await
        .expect("GET request");
    let status = response.status();
    (status, response.bytes().await.expect("a body").to_vec())
}

/// The `session.close` audit event of session `id`, read with the sqlite3 tool.
fn close_event(gateway: &Gateway, id: &str) -> Value {
    let output = Command::new("sqlite3")
        .arg("-json")
        .arg(gateway.data().join("hoshu.db"))
        .arg("select detail from audit_events where kind = 'session.close'")
        .output()
        .expect("the sqlite3 command-line tool is installed (Debian package sqlite3)");
    assert!(output.status.success(), "sqlite3: {}", said(&output));
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap_or_default();
    rows.iter()
        .filter_map(|row| serde_json::from_str::<Value>(row["detail"].as_str()?).ok())
        .find(|detail| detail["session"] == id)
        .unwrap_or_else(|| panic!("no session.close event for {id}"))
}

#[tokio::test]
async fn a_terminal_session_echoes_resizes_is_recorded_and_logs_its_commands() {
    let (_sshd, gateway, vendor) = with_target("linux-box", sshd::PASSWORD).await;

    let (id, mut term) = Terminal::open(&gateway, &vendor, "linux-box").await;
    term.start(100, 30).await;
    let token = format!("hoshu-{}", rand::thread_rng().gen_range(100_000..1_000_000));
    term.keys(&format!("echo {token}\r")).await;
    // The echo of the command, then its output on a line of its own.
    term.wait_line(&token).await;

    term.resize(120, 40).await;
    // A control message of a type the gateway does not know is ignored (a newer page).
    term.send_json(serde_json::json!({ "type": "something-new" }))
        .await;
    term.keys("stty size\r").await;
    term.wait_line("40 120").await;

    // Japanese goes through as UTF-8 both ways.
    term.keys("echo 日本語テキスト\r").await;
    term.wait_line("日本語テキスト").await;

    // Clipboard policy off (the default): a paste is refused at the gateway, typing is not.
    term.keys("\x1b[200~echo pasted\x1b[201~").await;
    let notice = term.wait_control("notice").await;
    assert_eq!(notice["message"], "pasting is disabled for this target");
    term.keys("echo still-here\r").await;
    term.wait_line("still-here").await;
    assert!(!term.output.contains("pasted"), "{}", term.tail());

    term.keys("exit\r").await;
    let (reason, status) = term.ending().await;
    assert_eq!(status, SUCCESS, "{reason}");
    assert_eq!(reason, "the shell on linux-box ended (exit status 0)");

    let row = ended_session(&gateway, &vendor, &id).await;
    assert_eq!(row["protocol"], "ssh");
    assert_eq!(row["outcome"], reason.as_str());
    let bytes_to_browser = row["bytes_to_browser"].as_u64().expect("a count");
    assert!(bytes_to_browser >= term.bytes as u64, "{row}");
    eprintln!(
        "figure: {bytes_to_browser} bytes to the browser for this scripted session ({} bytes of terminal output)",
        term.bytes
    );

    // The recording: asciicast v2, served decompressed.
    let (status, cast) = get(
        &gateway,
        &vendor,
        &format!("/api/v1/sessions/{id}/recording"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let cast = String::from_utf8(cast).expect("asciicast is UTF-8");
    let lines: Vec<Value> = cast
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    assert_eq!(lines[0]["version"], 2, "{}", lines[0]);
    assert_eq!(
        (lines[0]["width"].as_u64(), lines[0]["height"].as_u64()),
        (Some(100), Some(30))
    );
    let output: String = lines[1..]
        .iter()
        .filter(|e| e[1] == "o")
        .map(|e| e[2].as_str().expect("output is text"))
        .collect();
    assert!(
        output.matches(&token).count() >= 2,
        "the command and its output: {output}"
    );
    assert!(output.contains("日本語テキスト"));
    assert!(lines.iter().any(|e| e[1] == "r" && e[2] == "120x40"));
    let times: Vec<f64> = lines[1..].iter().filter_map(|e| e[0].as_f64()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "times only grow");

    // Sealed: the audit event holds the SHA-256 of the file as stored.
    let stored = std::fs::read(
        gateway
            .data()
            .join("recordings")
            .join(format!("{id}.cast.zst")),
    )
    .expect("the recording is stored as <id>.cast.zst");
    let event = close_event(&gateway, &id);
    assert_eq!(
        event["recording_sha256"],
        hex::encode(Sha256::digest(&stored))
    );

    // The command log: what was typed at the prompt, with times; not the refused paste.
    let (status, body) = get(
        &gateway,
        &vendor,
        &format!("/api/v1/sessions/{id}/commands"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let commands: Vec<Value> = serde_json::from_slice(&body).expect("commands are JSON");
    let texts: Vec<&str> = commands
        .iter()
        .filter_map(|c| c["command"].as_str())
        .collect();
    assert_eq!(
        texts,
        [
            format!("echo {token}").as_str(),
            "stty size",
            "echo 日本語テキスト",
            "echo still-here",
            "exit"
        ]
    );
    assert!(
        commands
            .iter()
            .all(|c| c["at_ms"].as_i64().is_some_and(|t| t > 0))
    );

    // Only those who may see the session see its log.
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let (status, _) = get(&gateway, &admin, &format!("/api/v1/sessions/{id}/commands")).await;
    assert_eq!(status, StatusCode::OK);
    let code = gateway.add_user("other-vendor", "Other", "vendor", Some("Other Co"));
    let other = Credential::new("other-vendor", &[5, 22, 39, 56, 12, 29, 46, 63], "", 0);
    gateway.register_ok(&code, &other).await;
    let other = gateway.login_ok(&other).await;
    let (status, _) = get(&gateway, &other, &format!("/api/v1/sessions/{id}/commands")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_host_key_is_pinned_and_a_changed_one_refuses_the_session() {
    let mut sshd = Sshd::start();
    let gateway = Gateway::demo();
    let port = sshd.port.to_string();
    let add = |extra: &[&str]| {
        let mut args = vec![
            "target",
            "add",
            "--demo",
            "--name",
            "box",
            "--protocol",
            "ssh",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--username",
            sshd::USER,
        ];
        args.extend(extra);
        gateway.admin(&args)
    };
    // Without a confirmed fingerprint nothing is added: the key is shown with what to do.
    let output = add(&[]);
    assert!(!output.status.success());
    assert!(
        stdout(&output).contains(&sshd.fingerprint),
        "{}",
        said(&output)
    );
    assert!(
        said(&output).contains("--accept-host-key"),
        "{}",
        said(&output)
    );
    let output = add(&[
        "--accept-host-key",
        "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]);
    assert!(!output.status.success());
    assert!(
        said(&output).contains("not SHA256:AAAA"),
        "{}",
        said(&output)
    );
    let listed = gateway.admin_ok(&["target", "list", "--json"]);
    assert!(!listed.contains("\"box\""), "{listed}");

    let password = gateway.data().join("box.password");
    std::fs::write(&password, format!("{}\n", sshd::PASSWORD)).expect("password file");
    let password = password.to_str().expect("UTF-8").to_owned();
    let printed = add(&[
        "--accept-host-key",
        &sshd.fingerprint,
        "--password-file",
        &password,
    ]);
    assert!(printed.status.success(), "{}", said(&printed));
    assert!(stdout(&printed).contains(&sshd.fingerprint));
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let (_, mut term) = Terminal::open(&gateway, &vendor, "box").await;
    term.start(80, 24).await;
    let _ = term.exit().await;

    // The server comes back with another key: the session is refused, naming both keys and
    // the command that accepts the new one.
    let old = sshd.fingerprint.clone();
    sshd.restart_with_new_host_key();
    assert_ne!(old, sshd.fingerprint);
    let (_, mut term) = Terminal::open(&gateway, &vendor, "box").await;
    term.resize(80, 24).await;
    let (reason, status) = term.ending().await;
    assert_eq!(status, UPSTREAM_ERROR, "{reason}");
    assert!(reason.contains("host key"), "{reason}");
    assert!(
        reason.contains(&sshd.fingerprint) && reason.contains(&old),
        "{reason}"
    );
    assert!(
        // What to do, in words: text for the web never quotes a command line.
        reason.contains("accept the new host key of target box") && !reason.contains("hoshu admin"),
        "{reason}"
    );
    assert!(!term.output.contains('$'), "no shell was opened");

    // The administrator checks and accepts it; sessions work again.
    let accepted = gateway.admin(&[
        "target",
        "accept-host-key",
        "--name",
        "box",
        "--fingerprint",
        &old,
    ]);
    assert!(
        !accepted.status.success(),
        "the old fingerprint is not the one presented"
    );
    gateway.admin_ok(&[
        "target",
        "accept-host-key",
        "--name",
        "box",
        "--fingerprint",
        &sshd.fingerprint,
    ]);
    let (_, mut term) = Terminal::open(&gateway, &vendor, "box").await;
    term.start(80, 24).await;
    assert_eq!(term.exit().await.1, SUCCESS);
}

#[tokio::test]
async fn a_wrong_password_ends_the_session_with_a_clear_message() {
    let (_sshd, gateway, vendor) = with_target("box", "not-the-password").await;
    let (id, mut term) = Terminal::open(&gateway, &vendor, "box").await;
    term.resize(80, 24).await;
    let (reason, status) = term.ending().await;
    assert_eq!(status, CLIENT_UNAUTHORIZED, "{reason}");
    assert!(
        reason.contains("refused the login") && reason.contains("check the target's credentials"),
        "{reason}"
    );
    let row = ended_session(&gateway, &vendor, &id).await;
    assert_eq!(row["outcome"], reason.as_str());
}

#[tokio::test]
async fn a_key_credential_or_a_password_typed_by_the_user_logs_in() {
    let sshd = Sshd::start();
    let gateway = Gateway::demo();
    let key = sshd.client_key.to_str().expect("UTF-8").to_owned();
    add_ssh_target(
        &gateway,
        &sshd,
        "by-key",
        &[
            "--username",
            sshd::USER,
            "--key-file",
            &key,
            "--clipboard",
            "paste-in",
        ],
    );
    add_ssh_target(&gateway, &sshd, "asks", &[]);
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;

    let (_, mut term) = Terminal::open(&gateway, &vendor, "by-key").await;
    term.start(80, 24).await;
    term.keys("whoami\r").await;
    term.wait_line(sshd::USER).await;
    // Clipboard paste-in: a paste goes through.
    term.keys("\x1b[200~echo pasted-in\x1b[201~\r").await;
    term.wait_line("pasted-in").await;
    assert_eq!(term.exit().await.1, SUCCESS);

    // No stored credentials and no user name: both are asked for.
    let (_, mut term) = Terminal::open(&gateway, &vendor, "asks").await;
    term.resize(80, 24).await;
    let ask = term.wait_control("credentials").await;
    assert_eq!(ask["username"], true);
    term.send_json(serde_json::json!({
        "type": "credentials", "username": sshd::USER, "password": sshd::PASSWORD,
    }))
    .await;
    term.wait_control("connected").await;
    term.wait_prompt().await;
    assert_eq!(term.exit().await.1, SUCCESS);
}

#[tokio::test]
async fn an_idle_terminal_session_ends_at_the_targets_idle_timeout() {
    let sshd = Sshd::start();
    let gateway = Gateway::demo();
    let password = gateway.data().join("box.password");
    std::fs::write(&password, format!("{}\n", sshd::PASSWORD)).expect("password file");
    let password = password.to_str().expect("UTF-8").to_owned();
    add_ssh_target(
        &gateway,
        &sshd,
        "box",
        &[
            "--username",
            sshd::USER,
            "--password-file",
            &password,
            "--idle-timeout",
            "10",
        ],
    );
    // Stored credentials without a user name are refused.
    let output = gateway.admin(&[
        "target",
        "add",
        "--demo",
        "--name",
        "nameless",
        "--protocol",
        "ssh",
        "--host",
        "127.0.0.1",
        "--port",
        &sshd.port.to_string(),
        "--password-file",
        &password,
        "--accept-host-key",
        &sshd.fingerprint,
    ]);
    assert!(!output.status.success());
    assert!(
        said(&output).contains("needs --username"),
        "{}",
        said(&output)
    );

    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let (_, mut term) = Terminal::open(&gateway, &vendor, "box").await;
    term.start(80, 24).await;
    // Output alone (a clock in the shell) is not input: the session still ends.
    term.keys("while sleep 1; do date; done\r").await;
    let started = Instant::now();
    let (reason, status) = term.ending().await;
    assert_eq!(status, SESSION_TIMEOUT, "{reason}");
    assert!(reason.contains("idle timeout"), "{reason}");
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_flood_of_output_is_paced_to_the_browser_with_memory_bounded() {
    let (_sshd, gateway, vendor) = with_target("box", sshd::PASSWORD).await;
    let (_, mut term) = Terminal::open(&gateway, &vendor, "box").await;
    term.start(80, 24).await;
    let before_kib = proc_status_kib(gateway.pid(), "VmRSS");

    term.keys("yes hoshu-flood-line\r").await;
    term.wait_output("hoshu-flood-line\r\nhoshu-flood-line\r\n")
        .await;
    // A browser that lags: read nothing for 4 s (under the gateway's 10 s send timeout), then
    // read for a while; repeatedly. The gateway must wait, not buffer.
    let mut peak_kib = before_kib;
    let started = Instant::now();
    for _ in 0..3 {
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            peak_kib = peak_kib.max(proc_status_kib(gateway.pid(), "VmRSS"));
        }
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            term.read_one(Duration::from_millis(100)).await;
            assert!(
                term.closed.is_none(),
                "the session ended: {:?}",
                term.controls
            );
        }
        peak_kib = peak_kib.max(proc_status_kib(gateway.pid(), "VmRSS"));
    }
    let delivered = term.bytes;
    eprintln!(
        "figure: flood for {:?}: {delivered} bytes delivered; gateway RSS {before_kib} KiB before, peak {peak_kib} KiB",
        started.elapsed()
    );
    // INVARIANT checked: memory stays bounded (generous for a debug build's allocator).
    assert!(
        peak_kib < before_kib + 32 * 1024,
        "gateway RSS grew from {before_kib} KiB to {peak_kib} KiB under a flood"
    );
    assert!(
        delivered > 1 << 20,
        "output kept flowing: {delivered} bytes"
    );

    // Ctrl-C reaches the shell through the flood; the prompt comes back.
    term.keys("\x03").await;
    term.output.clear();
    term.wait_prompt().await;
    assert_eq!(term.exit().await.1, SUCCESS);
}

/// Figures for the issue's note (printed, loosely bounded): bytes to the browser for a listing
/// of many files, and the gateway's memory per idle SSH session.
#[tokio::test]
async fn figures_listing_bytes_and_memory_per_idle_session() {
    // 10 by default; `HOSHU_SSH_IDLE_SESSIONS=200` for the issue's figure (slow in a debug build).
    let count: usize = std::env::var("HOSHU_SSH_IDLE_SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10)
        .max(1);
    let sshd = Sshd::start();
    let gateway = Gateway::demo_with(&["--live-sessions-per-user", &count.to_string()]);
    add_password_target(&gateway, &sshd, "box", sshd::PASSWORD);
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;

    let (id, mut term) = Terminal::open(&gateway, &vendor, "box").await;
    term.start(120, 40).await;
    let started = Instant::now();
    // Under 64 bytes: a longer frame would be taken for a paste (refused with policy off).
    term.keys("ls -lR /usr/share/doc; echo listing-done\r")
        .await;
    term.wait_line("listing-done").await;
    let elapsed = started.elapsed();
    let _ = term.exit().await;
    let row = ended_session(&gateway, &vendor, &id).await;
    eprintln!(
        "figure: `ls -lR /usr/share/doc`: {} bytes to the browser in {elapsed:?}",
        row["bytes_to_browser"]
    );

    let before_kib = proc_status_kib(gateway.pid(), "VmRSS");
    let mut idle = Vec::new();
    let opening = Instant::now();
    for _ in 0..count {
        let (id, mut term) = Terminal::open(&gateway, &vendor, "box").await;
        term.start(80, 24).await;
        idle.push((id, term));
    }
    let opening = opening.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_kib = proc_status_kib(gateway.pid(), "VmRSS");
    let per_session = after_kib.saturating_sub(before_kib) / count as u64;
    // CPU while idle: the gateway's user + system time over 10 s (answering our pings keeps
    // the test's side quiet; the gateway's own pings and SSH keepalives are the work).
    let cpu_ticks = |pid: u32| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        // After the command name: state is field 3, utime 14 and stime 15 (proc(5)).
        fields
            .get(11)
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(0)
            + fields
                .get(12)
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(0)
    };
    let ticks_before = cpu_ticks(gateway.pid());
    let sample = Duration::from_secs(10);
    let until = Instant::now() + sample;
    while Instant::now() < until {
        for (_, term) in &mut idle {
            term.read_one(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Clock ticks are 1/100 s on Linux.
    let cpu_share = (cpu_ticks(gateway.pid()) - ticks_before) as f64 / 100.0 / sample.as_secs_f64();
    eprintln!(
        "figure: {count} idle SSH sessions (opened in {opening:?}): gateway RSS {before_kib} KiB → \
         {after_kib} KiB, {per_session} KiB per session; CPU {:.2} % of a core while idle",
        cpu_share * 100.0
    );
    assert!(
        per_session < 4 * 1024,
        "an idle SSH session costs {per_session} KiB"
    );

    // The kill switch ends a terminal session as it ends a graphical one.
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let (first, mut term) = idle.remove(0);
    // Live watching is for graphical sessions only (for now): no watcher attaches here.
    let watch = websocket(
        &gateway,
        &format!("/api/v1/sessions/{first}/watch"),
        Some("guacamole"),
        Auth::Cookie(&admin.token),
    )
    .await;
    assert_eq!(watch.err(), Some(404));
    let reply = end_session(&gateway, &admin, &first).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let (reason, status) = term.ending().await;
    assert_eq!(status, SESSION_CLOSED);
    assert_eq!(reason, "ended by administrator demo-admin");
    for (_, term) in &mut idle {
        let _ = term.exit().await;
    }
}
