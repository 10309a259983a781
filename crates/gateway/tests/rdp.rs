//! RDP targets through the gateway (issue 4) against the real `hoshu` binary and real RDP
//! servers (common/rdp_server.rs): xrdp with TLS security and FreeRDP's shadow server with
//! NLA. Each test logs on, sees the first picture, types into the target's xterm and finds the
//! output in the xterm's log; the failures a user meets get sentences that say what to do.

mod common;

use std::time::{Duration, Instant};

use common::rdp_server::RdpServer;
use common::tunnel::{Tunnel, ended_session, list_sessions};
use common::{Credential, Gateway, Session, said};

/// Guacamole status codes (notes/guacamole-protocol.md).
const UPSTREAM_ERROR: u16 = 0x0203;
const UPSTREAM_NOT_FOUND: u16 = 0x0207;

/// `hoshu admin target add --protocol rdp` for `server`, pinning its certificate; `extra`
/// adds credentials and options. The output.
fn add_rdp_target(gateway: &Gateway, server: &RdpServer, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["--accept-certificate", server.cert_sha256.as_str()];
    args.extend(extra);
    gateway.add_demo_target(name, "rdp", server.port, &args)
}

/// A target that logs on as the server's user with `password` (from a file), with `extra`
/// options.
fn add_with_password_and(
    gateway: &Gateway,
    server: &RdpServer,
    name: &str,
    password: &str,
    extra: &[&str],
) {
    let file = gateway.password_file(name, password);
    let mut args = vec!["--username", &server.user, "--password-file", &file];
    args.extend(extra);
    add_rdp_target(gateway, server, name, &args);
}

fn add_with_password(gateway: &Gateway, server: &RdpServer, name: &str, password: &str) {
    add_with_password_and(gateway, server, name, password, &[]);
}

async fn demo_vendor(gateway: &Gateway) -> Session {
    gateway.login_ok(&Credential::demo_vendor()).await
}

/// Waits until the server's xterm has shown `needle` (its log file), keeping the tunnel read.
async fn xterm_shows(tunnel: &mut Tunnel, server: &RdpServer, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.xterm_output().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "the target's xterm never showed {needle:?}; it shows:\n{}\nthe tunnel lately: {}",
            server.xterm_output(),
            tunnel.history()
        );
        tunnel.next(Duration::from_millis(100)).await;
    }
}

/// Logs on, sees the desktop, types a command into the xterm and sees its output there, ends
/// the session, and finds it sealed with its recording.
async fn works_end_to_end(server: RdpServer, name: &str) {
    let gateway = Gateway::demo();
    add_with_password(&gateway, &server, name, &server.password);
    let vendor = demo_vendor(&gateway).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, name).await;
    let (width, height) = tunnel.first_frame().await;
    assert!(width >= 640 && height >= 480, "desktop {width}x{height}");
    // Click into the xterm (it sits at +0+0) so it has the focus, then type.
    tunnel.send("5.mouse,2.40,2.40,1.1;5.mouse,2.40,2.40,1.0;");
    tunnel.type_line("echo hoshu-$((6*7))");
    xterm_shows(&mut tunnel, &server, "hoshu-42").await;
    let id = tunnel.uuid.clone();
    let live = list_sessions(&gateway, &vendor, "live").await;
    assert!(
        live.iter()
            .any(|s| s["id"] == id.as_str() && s["protocol"] == "rdp"),
        "{live:?}"
    );
    tunnel.disconnect();
    let row = ended_session(&gateway, &vendor, &id).await;
    assert_eq!(row["outcome"], "disconnected by the user", "{row}");
    let recording = gateway
        .data()
        .join("recordings")
        .join(format!("{id}.guac.zst"));
    let bytes = zstd::decode_all(std::fs::File::open(&recording).expect("recording file"))
        .expect("recording decompresses");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("3.img,"), "the recording holds the pictures");
    // Sealed: the chain holds the recording's SHA-256, and verifies.
    let data = gateway.data().to_str().expect("UTF-8 path");
    let verify = common::hoshu(&["audit", "verify", "--data", data]);
    assert!(verify.status.success(), "{}", said(&verify));
}

#[tokio::test]
async fn an_xrdp_desktop_over_tls_is_used_and_recorded() {
    works_end_to_end(RdpServer::xrdp(), "xrdp-tls").await;
}

#[tokio::test]
async fn a_freerdp_desktop_over_nla_is_used_and_recorded() {
    works_end_to_end(RdpServer::shadow_nla(), "shadow-nla").await;
}

#[tokio::test]
async fn a_wrong_password_over_nla_says_so() {
    let server = RdpServer::shadow_nla();
    let gateway = Gateway::demo();
    add_with_password(&gateway, &server, "nla-wrong", "not-the-password");
    let vendor = demo_vendor(&gateway).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, "nla-wrong").await;
    let ending = tunnel.ending().await;
    assert_eq!(ending.status, UPSTREAM_ERROR, "{ending:?}");
    assert!(
        ending
            .message
            .contains("nla-wrong refused the user name or password"),
        "{ending:?}"
    );
}

#[tokio::test]
async fn a_server_that_requires_nla_refuses_a_tls_only_target_with_advice() {
    let server = RdpServer::shadow_nla();
    let gateway = Gateway::demo();
    add_with_password_and(
        &gateway,
        &server,
        "tls-only",
        &server.password,
        &["--security", "tls"],
    );
    let vendor = demo_vendor(&gateway).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, "tls-only").await;
    let ending = tunnel.ending().await;
    assert!(
        ending
            .message
            .contains("requires network level authentication")
            && ending.message.contains("nla or any"),
        "{ending:?}"
    );
}

#[tokio::test]
async fn a_server_that_is_down_says_so() {
    let mut server = RdpServer::shadow_nla();
    let gateway = Gateway::demo();
    add_with_password(&gateway, &server, "gone", &server.password);
    server.stop();
    let vendor = demo_vendor(&gateway).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, "gone").await;
    let ending = tunnel.ending().await;
    assert_eq!(ending.status, UPSTREAM_NOT_FOUND, "{ending:?}");
    assert!(ending.message.contains("cannot reach gone"), "{ending:?}");
}

#[tokio::test]
async fn a_changed_certificate_refuses_the_session_until_an_admin_accepts_it() {
    let mut server = RdpServer::shadow_nla();
    let gateway = Gateway::demo();
    add_with_password(&gateway, &server, "moved", &server.password);
    let old = server.cert_sha256.clone();
    server.restart_with_new_certificate();
    assert_ne!(
        old, server.cert_sha256,
        "the fixture made a new certificate"
    );
    let vendor = demo_vendor(&gateway).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, "moved").await;
    let ending = tunnel.ending().await;
    assert!(
        ending.message.contains("certificate of moved has changed")
            && ending.message.contains(&server.cert_sha256)
            && ending.message.contains("accept the new certificate")
            && !ending.message.contains("hoshu admin"),
        "{ending:?}"
    );
    // A wrong fingerprint pins nothing; the right one lets the session through.
    let wrong = gateway.admin(&[
        "target",
        "accept-certificate",
        "--name",
        "moved",
        "--fingerprint",
        &old,
    ]);
    assert!(!wrong.status.success(), "{}", said(&wrong));
    assert!(
        said(&wrong).contains(&format!(
            "the server presents SHA256:{}, not",
            server.cert_sha256
        )),
        "{}",
        said(&wrong)
    );
    gateway.admin_ok(&[
        "target",
        "accept-certificate",
        "--name",
        "moved",
        "--fingerprint",
        &server.cert_sha256,
    ]);
    let mut tunnel = Tunnel::open(&gateway, &vendor, "moved").await;
    tunnel.first_frame().await;
    tunnel.disconnect();
}

#[tokio::test]
async fn credentials_are_asked_from_the_user_when_none_are_stored() {
    let server = RdpServer::shadow_nla();
    let gateway = Gateway::demo();
    add_rdp_target(&gateway, &server, "ask", &[]);
    let vendor = demo_vendor(&gateway).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, "ask").await;
    let required = tunnel.wait_opcode("required").await;
    assert_eq!(required.args, ["username", "password"]);
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let (user, password) = (b64(&server.user), b64(&server.password));
    tunnel.send(&format!(
        "4.argv,1.1,10.text/plain,8.username;4.blob,1.1,{}.{user};3.end,1.1;\
         4.argv,1.2,10.text/plain,8.password;4.blob,1.2,{}.{password};3.end,1.2;",
        user.len(),
        password.len()
    ));
    tunnel.first_frame().await;
    tunnel.disconnect();
    let recording = gateway
        .data()
        .join("recordings")
        .join(format!("{}.guac.zst", tunnel.uuid));
    // The recording is sealed at the close; wait for it, then check the password is not in it.
    let _ = ended_session(&gateway, &vendor, &tunnel.uuid).await;
    let bytes = zstd::decode_all(std::fs::File::open(recording).expect("recording"))
        .expect("recording decompresses");
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("required") && !text.contains(&server.password));
}

#[tokio::test]
async fn the_clipboard_is_not_offered_for_rdp_targets() {
    let server = RdpServer::shadow_nla();
    let gateway = Gateway::demo();
    let port = server.port.to_string();
    let refused = gateway.admin(&[
        "target",
        "add",
        "--name",
        "clip",
        "--protocol",
        "rdp",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--accept-certificate",
        &server.cert_sha256,
        "--clipboard",
        "both",
    ]);
    assert!(!refused.status.success());
    assert!(
        said(&refused).contains("use --clipboard off"),
        "{}",
        said(&refused)
    );
    // With the policy off, a paste from the browser is refused at the gateway.
    add_with_password(&gateway, &server, "noclip", &server.password);
    let vendor = demo_vendor(&gateway).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, "noclip").await;
    tunnel.first_frame().await;
    tunnel.send("9.clipboard,1.5,10.text/plain;");
    let ack = tunnel.wait_opcode("ack").await;
    assert_eq!(ack.args[0], "5");
    assert_eq!(ack.args[2], "771", "CLIENT_FORBIDDEN: {ack:?}");
    tunnel.disconnect();
}

/// With `--keyboard jis` the server is told it has a Japanese 106/109-key keyboard, and keys
/// that sit elsewhere on it than on a US keyboard type what their JIS legends say: `@` (the key
/// right of P, which types `[` on a US keyboard) and `:` (right of ;, `'` on US), unshifted, as
/// a browser on a JIS keyboard sends them.
#[tokio::test]
async fn a_jis_keyboard_types_its_own_legends() {
    let server = RdpServer::xrdp();
    let gateway = Gateway::demo();
    add_with_password_and(
        &gateway,
        &server,
        "jis",
        &server.password,
        &["--keyboard", "jis"],
    );
    let vendor = demo_vendor(&gateway).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, "jis").await;
    tunnel.first_frame().await;
    tunnel.send("5.mouse,2.40,2.40,1.1;5.mouse,2.40,2.40,1.0;");
    for b in "echo jis@key:ok".bytes() {
        tunnel.key(u32::from(b));
    }
    tunnel.key(0xff0d);
    xterm_shows(&mut tunnel, &server, "jis@key:ok").await;
    tunnel.disconnect();
}
