//! The RDP test servers (common::rdp_server) checked with a real RDP client, FreeRDP's
//! `xfreerdp` (Debian freerdp2-x11), so that a failing RDP test points at the gateway and not at
//! its fixtures. `xfreerdp` opens an X display even for `/auth-only`, so each check runs it on
//! a private Xvfb.
//!
//! What `/auth-only` proves differs between the servers: against NLA it is the CredSSP
//! exchange, so a wrong password fails it; against xrdp's TLS security it only proves the TLS
//! handshake and the connection sequence (xrdp checks the password later, in the session, and
//! `/auth-only` succeeds with a wrong one too).

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::rdp_server::{NLA_PASSWORD, NLA_USER, RdpServer, XRDP_PASSWORD, XRDP_USER};

/// An Xvfb for the client on a display it picks itself (`-displayfd`); killed when dropped.
struct ClientDisplay {
    child: Child,
    display: String,
}

impl ClientDisplay {
    fn start() -> ClientDisplay {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "640x480x24",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts (Debian package xvfb)");
        // Xvfb writes the display number once it accepts clients.
        let mut number = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout is piped")),
            &mut number,
        )
        .expect("Xvfb reports its display");
        assert!(!number.trim().is_empty(), "Xvfb did not start");
        ClientDisplay {
            child,
            display: format!(":{}", number.trim()),
        }
    }

    /// `xfreerdp /auth-only` against 127.0.0.1:`port`, trusting the first certificate it sees
    /// (`/cert:tofu`) and remembering it in `home`.
    fn auth_only(&self, home: &Path, port: u16, user: &str, password: &str) -> Output {
        let mut child = Command::new("xfreerdp")
            .args([
                "/auth-only",
                "/cert:tofu",
                &format!("/v:127.0.0.1:{port}"),
                &format!("/u:{user}"),
                &format!("/p:{password}"),
            ])
            .env("HOME", home)
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("xfreerdp starts (Debian package freerdp2-x11)");
        let deadline = Instant::now() + Duration::from_secs(60);
        while matches!(child.try_wait(), Ok(None)) {
            if Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("xfreerdp's output")
    }
}

impl Drop for ClientDisplay {
    fn drop(&mut self) {
        // SIGTERM, not Child::kill: Xvfb then removes its socket and lock file in /tmp.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// The SHA-256 fingerprint `xfreerdp /cert:tofu` stored for 127.0.0.1:`port` in `home`
/// (FreeRDP 2's known_hosts2: `host port aa:bb:… subject issuer`), without colons.
fn remembered_fingerprint(home: &Path, port: u16) -> String {
    let path = home.join(".config/freerdp/known_hosts2");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("xfreerdp remembered no certificate ({e})"));
    text.lines()
        .find_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next()? == "127.0.0.1" && fields.next()? == port.to_string())
                .then(|| fields.next().map(|f| f.replace(':', "")))?
        })
        .unwrap_or_else(|| panic!("no entry for port {port} in {text}"))
}

fn said(output: &Output) -> String {
    common::said(output)
}

#[test]
fn shadow_server_checks_the_password_with_nla() {
    let server = RdpServer::shadow_nla();
    assert_eq!(
        (server.user.as_str(), server.password.as_str()),
        (NLA_USER, NLA_PASSWORD)
    );
    let display = ClientDisplay::start();
    let home = tempfile::tempdir().expect("a temporary HOME for xfreerdp");

    let right = display.auth_only(home.path(), server.port, &server.user, &server.password);
    assert!(right.status.success(), "right password: {}", said(&right));
    assert_eq!(
        remembered_fingerprint(home.path(), server.port),
        server.cert_sha256
    );

    let wrong = display.auth_only(home.path(), server.port, &server.user, "not-the-password");
    assert!(!wrong.status.success(), "wrong password: {}", said(&wrong));
}

#[test]
fn xrdp_presents_the_certificate_it_reports_and_a_new_one_after_restart() {
    let mut server = RdpServer::xrdp();
    assert_eq!(
        (server.user.as_str(), server.password.as_str()),
        (XRDP_USER, XRDP_PASSWORD)
    );
    let display = ClientDisplay::start();

    let home = tempfile::tempdir().expect("a temporary HOME for xfreerdp");
    let first = display.auth_only(home.path(), server.port, &server.user, &server.password);
    assert!(first.status.success(), "TLS connection: {}", said(&first));
    assert_eq!(
        remembered_fingerprint(home.path(), server.port),
        server.cert_sha256
    );

    let (port, old) = (server.port, server.cert_sha256.clone());
    server.restart_with_new_certificate();
    assert_eq!(server.port, port, "the same address");
    assert_ne!(server.cert_sha256, old, "a new certificate");
    let home = tempfile::tempdir().expect("a temporary HOME for xfreerdp");
    let again = display.auth_only(home.path(), server.port, &server.user, &server.password);
    assert!(
        again.status.success(),
        "after the restart: {}",
        said(&again)
    );
    assert_eq!(
        remembered_fingerprint(home.path(), server.port),
        server.cert_sha256
    );
}
