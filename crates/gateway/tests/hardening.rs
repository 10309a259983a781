//! What hostile testing found, each with the test that would have caught it, against the real
//! `hoshu` binary: the language switch's redirect stays on this gateway, a framework rejection
//! on the API is the API's JSON, the CSRF token changes at login, a graphical tunnel needs its
//! subprotocol, a recording window that ends before it starts is refused, and a second gateway
//! cannot take a data directory that one already runs on.

mod common;

use std::process::Command;
use std::time::Duration;

use common::tunnel::{Auth, open_session, websocket};
use common::{BIN, Credential, Gateway, said};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

/// The demo desktop, built into `hoshu demo`.
const DEMO: &str = "demo-desktop";

#[tokio::test]
async fn the_language_switch_goes_back_only_to_this_gateway() {
    let gateway = Gateway::demo();
    let client = gateway
        .client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (next, expected) in [
        ("/sessions%3Fstate%3Dended", "/sessions?state=ended"),
        ("/%09/evil.example", "/"),
        ("//evil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("/login%0d%0aSet-Cookie:%20x=1", "/"),
        ("https://evil.example/", "/"),
    ] {
        let response = client
            .get(gateway.url(&format!("/lang/en?next={next}")))
            .send()
            .await
            .expect("language switch");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(location, expected, "{next}");
    }
}

#[tokio::test]
async fn a_request_the_api_cannot_read_is_answered_as_json() {
    let gateway = Gateway::demo();
    let response = gateway
        .bare_client()
        .post(gateway.url("/api/v1/login/challenge"))
        .header("Content-Type", "application/json")
        .body("{ not json")
        .send()
        .await
        .expect("request");
    assert!(response.status().is_client_error(), "{}", response.status());
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_eq!(body["code"], "bad-request", "{body}");
    assert!(
        body["error"].is_string() && body["error_ja"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn logging_in_changes_the_csrf_token() {
    let gateway = Gateway::demo();
    let before = gateway
        .bare_client()
        .get(gateway.url("/login"))
        .send()
        .await
        .expect("login page");
    let cookie_value = |response: &reqwest::Response| {
        response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("__Host-hoshu_csrf="))
            .map(|v| v.split(';').next().unwrap_or("").to_owned())
    };
    let old = cookie_value(&before).expect("the login page sets the CSRF cookie");
    let login = gateway.login_ok(&Credential::demo_vendor()).await;
    let new = login
        .reply
        .set_cookie("__Host-hoshu_csrf")
        .expect("the login answer sets a new CSRF cookie");
    let new = new
        .strip_prefix("__Host-hoshu_csrf=")
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .to_owned();
    assert_eq!(new.len(), old.len());
    assert_ne!(new, old, "the token from before the login is not kept");
}

#[tokio::test]
async fn a_graphical_tunnel_without_the_guacamole_subprotocol_is_refused() {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let reply = open_session(&gateway, &vendor, DEMO).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let path = reply.json()["tunnel"]
        .as_str()
        .expect("a tunnel path")
        .to_owned();
    let refused = websocket(&gateway, &path, None, Auth::Cookie(&vendor.token)).await;
    assert_eq!(refused.err(), Some(400));
    // The session is still there for a proper client.
    let accepted = websocket(
        &gateway,
        &path,
        Some("guacamole"),
        Auth::Cookie(&vendor.token),
    )
    .await;
    assert!(accepted.is_ok());
}

#[tokio::test]
async fn a_recording_window_that_ends_before_it_starts_is_refused() {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let reply = open_session(&gateway, &vendor, DEMO).await;
    let id = reply.json()["id"].as_str().expect("id").to_owned();
    let response = vendor
        .client
        .get(gateway.url(&format!(
            "/api/v1/sessions/{id}/recording?from=2000&until=1000"
        )))
        .send()
        .await
        .expect("recording");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["code"], "recording-window", "{body}");
}

#[test]
fn a_second_gateway_on_the_same_data_directory_is_refused() {
    let gateway = Gateway::demo();
    let second = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(gateway.data())
        .output()
        .expect("hoshu runs");
    assert_eq!(second.status.code(), Some(1), "{}", said(&second));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another gateway is already running on"),
        "{}",
        said(&second)
    );
    // The first one is untouched: its demo target still answers from the portal's list.
    let admin_cli = gateway.admin(&["target", "list", "--json"]);
    assert!(admin_cli.status.success(), "{}", said(&admin_cli));
}

#[tokio::test]
async fn logging_out_ends_the_remote_sessions_of_that_login() {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let mut tunnel = common::tunnel::Tunnel::open(&gateway, &vendor, DEMO).await;
    tunnel.first_frame().await;
    let started = std::time::Instant::now();
    let response = vendor
        .client
        .post(gateway.url("/api/v1/logout"))
        .header("Origin", gateway.origin())
        .send()
        .await
        .expect("logout");
    assert!(response.status().is_success(), "{}", response.status());
    let ending = tunnel.ending().await;
    assert_eq!(
        ending.message, "your login session ended; log in again",
        "{ending:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// The gateway's `host:port`.
fn address(gateway: &Gateway) -> std::net::SocketAddr {
    gateway
        .origin()
        .strip_prefix("https://")
        .expect("https")
        .parse()
        .expect("an address")
}

/// A TCP connection to the gateway from `source` (any port).
async fn connect_from(gateway: &Gateway, source: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{source}:0").parse().expect("source"))
        .expect("bind a loopback source");
    socket
        .connect(address(gateway))
        .await
        .expect("the kernel accepts")
}

/// Whether the gateway closes `stream` within `within` (it sends nothing first).
async fn closed_within(stream: &mut tokio::net::TcpStream, within: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1];
    matches!(
        tokio::time::timeout(within, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn silent_connections_are_bounded_per_source_and_closed_and_the_gateway_still_answers() {
    let gateway = Gateway::demo();
    // A flood of silent connections from one source (127.0.0.2: all of 127/8 is loopback).
    let mut flood = Vec::new();
    for _ in 0..256 {
        flood.push(connect_from(&gateway, "127.0.0.2").await);
    }
    // Let the gateway accept them all, then one more is closed at once.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut over = connect_from(&gateway, "127.0.0.2").await;
    assert!(
        closed_within(&mut over, std::time::Duration::from_secs(3)).await,
        "the source's 257th connection is refused"
    );
    // Others are still served, at once.
    let started = std::time::Instant::now();
    let health = gateway
        .bare_client()
        .get(gateway.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // A connection that finishes TLS and then says nothing is closed (10 s for the request).
    let tcp = connect_from(&gateway, "127.0.0.3").await;
    let tls = tokio_rustls::TlsConnector::from(common::tunnel::tls_config(&gateway))
        .connect(
            rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name"),
            tcp,
        )
        .await
        .expect("TLS handshake");
    let mut silent = tls;
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 64];
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(20), silent.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "a silent TLS connection is closed: {read:?}"
    );
    // And the flood's connections, which never shook hands, are gone after the handshake
    // timeout (10 s).
    for stream in &mut flood[..4] {
        assert!(closed_within(stream, std::time::Duration::from_secs(15)).await);
    }
}

#[tokio::test]
async fn repeated_challenges_from_one_source_are_audited_as_one_summary_that_names_the_logins() {
    let mut gateway = Gateway::demo();
    let client = gateway.bare_client();
    // Under the throttle's burst (20 a source): what is measured is the audit log, not 429s.
    let asked = ["demo-vendor", "nobody-1", "nobody-2"];
    for i in 0..15 {
        gateway.challenge(&client, asked[i % 3]).await;
    }
    // The summary is written when the source's minute ends, or at shutdown, as here.
    let stopped = gateway.terminate(Duration::from_secs(20));
    assert!(
        stopped.is_some_and(|(status, _)| status.success()),
        "{stopped:?}"
    );
    let rows = common::audit_rows(gateway.data());
    let challenges: Vec<_> = rows
        .iter()
        .filter(|r| r["kind"] == "login.challenge")
        .collect();
    assert_eq!(
        challenges.len(),
        1,
        "one event for the first: {challenges:?}"
    );
    assert_eq!(challenges[0]["subject"], "demo-vendor");
    let repeated: Vec<_> = rows
        .iter()
        .filter(|r| r["kind"] == "login.challenge_repeated")
        .collect();
    assert_eq!(repeated.len(), 1, "{repeated:?}");
    let detail = &repeated[0]["detail"];
    assert_eq!(detail["count"], 14, "{detail}");
    assert_eq!(
        detail["logins"],
        serde_json::json!({"demo-vendor": 4, "nobody-1": 5, "nobody-2": 5}),
        "who was asked for, and how often: {detail}"
    );
    let verify = common::hoshu(&[
        "audit",
        "verify",
        "--data",
        gateway.data().to_str().expect("a UTF-8 path"),
    ]);
    assert!(verify.status.success(), "{}", said(&verify));
}
