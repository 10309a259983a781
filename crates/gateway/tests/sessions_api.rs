//! The session API of DESIGN §8 against the real `hoshu` binary: opening targets, the
//! Guacamole tunnel (notes/guacamole-protocol.md), the session list, recordings, the audit
//! chain, who may end or attach what, and how failing targets end a session (issue 3: VncAuth
//! with right and wrong passwords, target down, target closes mid-session).

mod common;

use std::path::Path;
use std::time::Duration;

use common::rfb_server::{self, RfbServer, Security};
use common::tunnel::{
    Auth, Tunnel, WAIT, add_vnc_target, end_session, ended_session, list_sessions, open_session,
};
use common::{Credential, Gateway, hoshu, said};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

const DEMO: &str = "demo-desktop";

/// Guacamole status codes (notes; hoshu_guac::Status).
const SUCCESS: u16 = 0;
const UPSTREAM_ERROR: u16 = 515;
const UPSTREAM_NOT_FOUND: u16 = 519;
const SESSION_CLOSED: u16 = 523;

/// `(kind, detail)` of every audit event, oldest first.
fn audit_events(data: &Path) -> Vec<(String, Value)> {
    common::audit_rows(data)
        .into_iter()
        .map(|row| {
            let kind = row["kind"].as_str().expect("kind is text").to_owned();
            (kind, row["detail"].clone())
        })
        .collect()
}

/// The audit event of `kind` about session `id`, waiting for it to be written.
async fn audit_event(data: &Path, kind: &str, id: &str) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let found = audit_events(data)
            .into_iter()
            .find(|(k, detail)| k == kind && detail["session"] == id);
        if let Some((_, detail)) = found {
            return detail;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {kind} event for session {id}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A port on which nothing listens (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("its address").port()
}

#[tokio::test]
async fn a_demo_session_draws_answers_input_is_listed_recorded_and_audited() {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;

    let targets = vendor
        .client
        .get(gateway.url("/api/v1/targets"))
        .send()
        .await
        .expect("targets request");
    let targets: Value = targets.json().await.expect("targets are JSON");
    assert!(
        targets
            .as_array()
            .expect("an array")
            .iter()
            .any(|t| t["name"] == DEMO && t["protocol"] == "vnc"),
        "{targets}"
    );

    let reply = open_session(&gateway, &vendor, DEMO).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let body = reply.json();
    assert_eq!(common::keys(&body), ["id", "protocol", "tunnel"], "{body}");
    let id = body["id"].as_str().expect("id is a string").to_owned();
    assert_eq!(body["protocol"], "vnc");
    assert_eq!(body["tunnel"], format!("/api/v1/sessions/{id}/tunnel"));

    let mut tunnel = Tunnel::connect(
        &gateway,
        &format!("/api/v1/sessions/{id}/tunnel"),
        Auth::Cookie(&vendor.token),
    )
    .await
    .expect("the tunnel attaches");
    assert_eq!(tunnel.uuid, id, "the tunnel UUID is the session id");

    // The picture: name, size 1024×768, an image stream (img, blob, end), then sync.
    let name = tunnel.wait_opcode("name").await;
    assert_eq!(name.args, [DEMO]);
    assert_eq!(tunnel.first_frame().await, (1024, 768));
    let recent = tunnel.history();
    for opcode in ["img(", "blob(", "end(", "sync("] {
        assert!(recent.contains(opcode), "no {opcode}…) in {recent}");
    }

    // Input reaches the target and comes back as a new frame.
    tunnel.fresh_frame().await;

    // Pings are echoed verbatim.
    tunnel.send("0.,4.ping,7.4242424;");
    tunnel
        .wait_for("the ping echo", WAIT, |i| {
            i.opcode.is_empty() && i.args == ["ping", "4242424"]
        })
        .await;

    let live = list_sessions(&gateway, &vendor, "live").await;
    let row = live
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} is not live: {live:?}"));
    assert_eq!(
        common::keys(row),
        [
            "bytes_to_browser",
            "ended_at",
            "id",
            "outcome",
            "protocol",
            "started_at",
            "target",
            "user"
        ]
    );
    assert_eq!(row["user"], "demo-vendor");
    assert_eq!(row["target"], DEMO);
    assert_eq!(row["protocol"], "vnc");
    assert!(
        row["ended_at"].is_null() && row["outcome"].is_null(),
        "{row}"
    );
    assert!(row["bytes_to_browser"].as_u64().unwrap_or(0) > 0, "{row}");
    assert!(
        !list_sessions(&gateway, &vendor, "ended")
            .await
            .iter()
            .any(|r| r["id"] == id.as_str()),
        "a live session is not listed as ended"
    );

    // The user disconnects: the gateway says goodbye and closes with status 0.
    tunnel.disconnect();
    let reason = tunnel.closed().await;
    assert_eq!(reason.as_deref(), Some("0"), "{}", tunnel.history());
    assert!(
        !tunnel.history().contains("error("),
        "a disconnect is no error: {}",
        tunnel.history()
    );

    let ended = ended_session(&gateway, &vendor, &id).await;
    assert_eq!(ended["outcome"], "disconnected by the user", "{ended}");
    assert!(ended["ended_at"].is_string(), "{ended}");
    assert!(
        ended["bytes_to_browser"].as_u64().unwrap_or(0) > 0,
        "{ended}"
    );
    assert!(
        !list_sessions(&gateway, &vendor, "live")
            .await
            .iter()
            .any(|r| r["id"] == id.as_str()),
        "an ended session is not live"
    );

    // The recording, decompressed: the instruction stream the browser drew.
    let recording = vendor
        .client
        .get(gateway.url(&format!("/api/v1/sessions/{id}/recording")))
        .send()
        .await
        .expect("recording request");
    assert_eq!(recording.status(), StatusCode::OK);
    let text = recording.text().await.expect("the recording is text");
    assert!(text.contains("4.sync,"), "no sync in the recording");
    assert!(
        text.contains("4.size,1.0,4.1024,3.768;"),
        "no size in the recording"
    );
    assert!(text.contains("3.img,"), "no img in the recording");
    assert!(
        !text.contains(&id),
        "the tunnel UUID is internal and not recorded"
    );

    // The audit chain: opened, closed with the recording file's SHA-256, still intact.
    let opened = audit_event(gateway.data(), "session.open", &id).await;
    assert_eq!(opened["protocol"], "vnc", "{opened}");
    let closed = audit_event(gateway.data(), "session.close", &id).await;
    let sha = closed["recording_sha256"]
        .as_str()
        .unwrap_or_else(|| panic!("no recording_sha256: {closed}"));
    assert!(
        sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sha}"
    );
    let file = gateway
        .data()
        .join("recordings")
        .join(format!("{id}.guac.zst"));
    let bytes = std::fs::read(&file).expect("the recording file exists");
    assert_eq!(
        sha,
        sha256_hex(&bytes),
        "the audited hash is the file's SHA-256"
    );
    assert_eq!(closed["outcome"], "disconnected by the user", "{closed}");
    let data = gateway.data().to_str().expect("UTF-8 path");
    let verify = hoshu(&["audit", "verify", "--data", data]);
    assert_eq!(verify.status.code(), Some(0), "{}", said(&verify));
}

#[tokio::test]
async fn an_admin_ends_a_vendor_session_and_a_vendor_may_not_end_or_borrow_one() {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let admin = gateway.login_ok(&Credential::demo_admin()).await;

    // Unknown target: 404 with a reason.
    let unknown = open_session(&gateway, &vendor, "no-such-target").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    let body = unknown.json();
    assert!(
        body["error"].is_string() && body["reason"].is_string(),
        "{body}"
    );

    // The vendor's session, attached with a bearer token.
    let reply = open_session(&gateway, &vendor, DEMO).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.json()["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/sessions/{id}/tunnel");
    assert_eq!(
        Tunnel::connect(&gateway, &path, Auth::Anonymous)
            .await
            .map(|_| ())
            .expect_err("no tunnel without credentials"),
        401
    );
    let mut tunnel = Tunnel::connect(&gateway, &path, Auth::Bearer(&vendor.token))
        .await
        .expect("the owner attaches with a bearer token");
    tunnel.first_frame().await;

    // A tunnel is attached once.
    assert_eq!(
        Tunnel::connect(&gateway, &path, Auth::Cookie(&vendor.token))
            .await
            .map(|_| ())
            .expect_err("a second attach is refused"),
        404
    );

    // Another user's session: the vendor can neither attach it nor read its recording.
    let admins = open_session(&gateway, &admin, DEMO).await;
    assert_eq!(admins.status, StatusCode::CREATED, "{}", admins.body);
    let admins_id = admins.json()["id"].as_str().expect("id").to_owned();
    let admins_path = format!("/api/v1/sessions/{admins_id}/tunnel");
    assert_eq!(
        Tunnel::connect(&gateway, &admins_path, Auth::Bearer(&vendor.token))
            .await
            .map(|_| ())
            .expect_err("another user's tunnel is not found"),
        404
    );
    let foreign_recording = vendor
        .client
        .get(gateway.url(&format!("/api/v1/sessions/{admins_id}/recording")))
        .send()
        .await
        .expect("recording request");
    assert_eq!(foreign_recording.status(), StatusCode::NOT_FOUND);
    // The failed attempt did not use it up: its owner still attaches.
    let mut admins_tunnel = Tunnel::connect(&gateway, &admins_path, Auth::Cookie(&admin.token))
        .await
        .expect("the owner attaches after a stranger tried");
    admins_tunnel.first_frame().await;

    // A vendor may not end sessions, not even their own.
    let refused = end_session(&gateway, &vendor, &id).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    tunnel.fresh_frame().await;

    // An admin may: the vendor sees why, with status 523 on the wire and as the close reason.
    let ended = end_session(&gateway, &admin, &id).await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.body);
    let ending = tunnel.ending().await;
    assert_eq!(ending.status, SESSION_CLOSED, "{ending:?}");
    assert!(
        ending.message.contains("administrator") && ending.message.contains("demo-admin"),
        "{ending:?}"
    );
    ending.assert_close_reason();
    let row = ended_session(&gateway, &admin, &id).await;
    assert!(
        row["outcome"]
            .as_str()
            .is_some_and(|o| o.contains("administrator")),
        "{row}"
    );
    let again = end_session(&gateway, &admin, &id).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);

    // The admin's own session was not touched.
    admins_tunnel.fresh_frame().await;
    admins_tunnel.disconnect();
    assert_eq!(admins_tunnel.closed().await.as_deref(), Some("0"));
}

#[tokio::test]
async fn without_sync_replies_at_most_two_frames_are_in_flight() {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let reply = open_session(&gateway, &vendor, DEMO).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let path = reply.json()["tunnel"].as_str().expect("tunnel").to_owned();
    let mut tunnel = Tunnel::connect_with(&gateway, &path, Auth::Cookie(&vendor.token), false)
        .await
        .expect("the tunnel attaches");
    tunnel.first_frame().await;
    let mut syncs = 1;
    // Keep the desktop changing; unanswered, the gateway must hold further frames back.
    for round in 0..10 {
        tunnel.key(u32::from(b'a') + round);
        while let Some(i) = tunnel.next(Duration::from_millis(300)).await {
            syncs += usize::from(i.opcode == "sync");
        }
    }
    assert!(
        syncs <= 2,
        "{syncs} unanswered frames were sent; lately: {}",
        tunnel.history()
    );
    // Answering releases the held-back changes.
    tunnel.set_auto_sync(true);
    tunnel.wait_opcode("sync").await;
    tunnel.fresh_frame().await;
}

#[tokio::test]
async fn a_target_that_is_down_ends_the_session_with_519_naming_it() {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    add_vnc_target(&gateway, "switched-off", closed_port(), None);
    let mut tunnel = Tunnel::open(&gateway, &vendor, "switched-off").await;
    let ending = tunnel.ending().await;
    assert_eq!(ending.status, UPSTREAM_NOT_FOUND, "{ending:?}");
    assert!(
        ending.message.contains("switched-off") && ending.message.contains("cannot reach"),
        "{ending:?}"
    );
    ending.assert_close_reason();
    let row = ended_session(&gateway, &vendor, &tunnel.uuid).await;
    assert_eq!(row["outcome"].as_str(), Some(ending.message.as_str()));
    let closed = audit_event(gateway.data(), "session.close", &tunnel.uuid).await;
    assert!(closed["recording_sha256"].is_string(), "{closed}");
}

#[tokio::test]
async fn a_target_that_closes_mid_session_ends_it_with_515_naming_it() {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let server = RfbServer::start(|mut s| async move {
        rfb_server::handshake(&mut s, &Security::None, 64, 48, "short-lived").await?;
        rfb_server::until_update_request(&mut s).await?;
        s.write_all(&rfb_server::full_update(64, 48, [0, 128, 255]))
            .await?;
        // Let the picture reach the browser before hanging up.
        tokio::time::sleep(Duration::from_millis(500)).await;
        s.shutdown().await
    })
    .await;
    add_vnc_target(&gateway, "flaky-box", server.port, None);
    let mut tunnel = Tunnel::open(&gateway, &vendor, "flaky-box").await;
    assert_eq!(tunnel.first_frame().await, (64, 48));
    let ending = tunnel.ending().await;
    assert_eq!(ending.status, UPSTREAM_ERROR, "{ending:?}");
    assert!(
        ending.message.contains("flaky-box") && ending.message.contains("closed"),
        "{ending:?}"
    );
    ending.assert_close_reason();
}

#[tokio::test]
async fn vnc_authentication_with_right_wrong_and_missing_passwords() {
    const PASSWORD: &str = "Tr0ub4dor";
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let server = RfbServer::start(|s| {
        rfb_server::serve_plain(s, Security::VncAuth(PASSWORD.to_owned()), 80, 60)
    })
    .await;
    add_vnc_target(&gateway, "locked-right", server.port, Some(PASSWORD));
    add_vnc_target(&gateway, "locked-wrong", server.port, Some("Tr0ub4dX"));
    add_vnc_target(&gateway, "locked-none", server.port, None);

    // The right password: the desktop is drawn and answers input.
    let mut right = Tunnel::open(&gateway, &vendor, "locked-right").await;
    assert_eq!(right.first_frame().await, (80, 60));
    right.fresh_frame().await;

    // A wrong one (only the 8th byte differs, and only 8 bytes count).
    let mut wrong = Tunnel::open(&gateway, &vendor, "locked-wrong").await;
    let ending = wrong.ending().await;
    assert_eq!(ending.status, UPSTREAM_ERROR, "{ending:?}");
    let message = ending.message.to_lowercase();
    assert!(
        message.contains("locked-wrong") && message.contains("authentication failed"),
        "{ending:?}"
    );
    assert!(
        !ending.message.contains("Tr0ub4d"),
        "no password in the message"
    );

    // None configured: the message says to set one.
    let mut none = Tunnel::open(&gateway, &vendor, "locked-none").await;
    let ending = none.ending().await;
    assert_eq!(ending.status, UPSTREAM_ERROR, "{ending:?}");
    assert!(
        ending.message.contains("locked-none") && ending.message.contains("password"),
        "{ending:?}"
    );

    // The right session was not disturbed by the failing ones.
    right.fresh_frame().await;
    right.disconnect();
    assert_eq!(
        right.closed().await.as_deref(),
        Some(SUCCESS.to_string().as_str())
    );

    // The target's password never reaches a vendor through the API.
    let targets = vendor
        .client
        .get(gateway.url("/api/v1/targets"))
        .send()
        .await
        .expect("targets request")
        .text()
        .await
        .expect("targets body");
    assert!(!targets.contains("Tr0ub4d"), "{targets}");
}

/// A target whose first key makes it keep the gateway busy for a moment, then break the
/// protocol: an update of "until LastRect" rectangles that never ends (the 65537th is over
/// the limit).
async fn tripwire(mut s: tokio::net::TcpStream) -> std::io::Result<()> {
    rfb_server::handshake(&mut s, &Security::None, 64, 48, "tripwire").await?;
    rfb_server::until_update_request(&mut s).await?;
    s.write_all(&rfb_server::full_update(64, 48, [90, 90, 90]))
        .await?;
    loop {
        if let rfb_server::ClientMessage::Key { .. } =
            rfb_server::read_client_message(&mut s).await?
        {
            break;
        }
    }
    let mut update = rfb_server::update_header(u16::MAX);
    update.extend_from_slice(&rfb_server::rect_header(0, 0, 0, 0, 0).repeat(70_000));
    let _ = s.write_all(&update).await;
    rfb_server::drain(s).await
}

#[tokio::test]
async fn the_error_and_the_close_status_reach_a_browser_with_messages_in_flight() {
    // A browser always has something in flight (pings every 500 ms, sync replies). When a
    // session ends, the gateway must still deliver the `error` instruction and the close frame
    // whose reason is the status (notes). Closing the TCP connection with the browser's
    // messages unread makes the kernel reset it and drop what was not yet sent; the gateway
    // must finish the WebSocket closing handshake (read until the browser's close) instead.
    // The loss depends on timing, so six sessions try at once: each must get both.
    let gateway = Gateway::demo_with(&["--live-sessions-per-user", "6"]);
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let server = RfbServer::start(tripwire).await;
    add_vnc_target(&gateway, "tripwire", server.port, None);
    let mut tunnels = Vec::new();
    for _ in 0..6 {
        let mut tunnel = Tunnel::open(&gateway, &vendor, "tripwire").await;
        tunnel.first_frame().await;
        tunnels.push(tunnel);
    }
    for tunnel in &tunnels {
        tunnel.key(u32::from(b'x'));
        // Pings every 10 ms while the gateway is busy with the target and ends the session.
        tunnel.go_blind(Duration::from_secs(2));
    }
    let mut lost = Vec::new();
    for (n, tunnel) in tunnels.iter_mut().enumerate() {
        let (rest, closed) = tunnel.rest(WAIT).await;
        let error = rest.iter().find(|i| i.opcode == "error");
        let said = error.map(|e| e.args.join(" / "));
        let complete = error.is_some_and(|e| {
            e.args.get(1).map(String::as_str) == Some("515")
                && e.args[0].contains("rectangle count")
        }) && closed == Some(Some("515".to_owned()))
            && tunnel.closed_how() == "close frame";
        if !complete {
            lost.push(format!(
                "session {n}: error {said:?}, close reason {closed:?} ({})",
                tunnel.closed_how()
            ));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of 6 sessions did not get both the error and the close frame:\n{}",
        lost.len(),
        lost.join("\n")
    );
}

#[tokio::test]
async fn an_admin_ends_a_session_whose_browser_stopped_reading() {
    // A browser whose network stalls stops reading; the gateway's writes to it block once the
    // TCP window is full. Ending the session (DELETE; DESIGN §8 emergency stop: within 1 s)
    // must still work, and so must the gateway's own timeouts: no write may wait forever.
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, DEMO).await;
    tunnel.first_frame().await;
    // 15 000-character pings, echoed verbatim, until the gateway's writes block.
    tunnel.stall(Duration::from_secs(40), 15_000);
    // Blocked once the bytes sent stop growing (the pings are no longer read, so no echo).
    let bytes = || async {
        list_sessions(&gateway, &admin, "live")
            .await
            .iter()
            .find(|r| r["id"] == tunnel.uuid.as_str())
            .and_then(|r| r["bytes_to_browser"].as_u64())
            .unwrap_or(0)
    };
    let mut last = bytes().await;
    let mut steady = 0;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = bytes().await;
        steady = if now == last && now > 1 << 20 {
            steady + 1
        } else {
            0
        };
        last = now;
        if steady == 3 {
            break;
        }
    }
    assert_eq!(
        steady, 3,
        "the gateway kept sending to a browser that reads nothing"
    );
    let ended = end_session(&gateway, &admin, &tunnel.uuid).await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.body);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let live = list_sessions(&gateway, &admin, "live").await;
        if !live.iter().any(|r| r["id"] == tunnel.uuid.as_str()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "10 s after DELETE the session with a stalled browser is still live: {live:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_user_may_hold_four_sessions_at_once_and_open_another_once_one_ends() {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let reply = open_session(&gateway, &vendor, DEMO).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        ids.push(reply.json()["id"].as_str().expect("id").to_owned());
    }
    let reply = open_session(&gateway, &vendor, DEMO).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    let body = reply.json();
    assert_eq!(body["code"], "too-many-sessions", "{body}");
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("4 sessions open")),
        "{body}"
    );
    assert!(
        body["reason_ja"]
            .as_str()
            .is_some_and(|r| r.contains("1人4件まで")),
        "{body}"
    );
    // Another user is not held back by this one's sessions.
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let reply = open_session(&gateway, &admin, DEMO).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);

    // The refusal is in the audit log.
    let refused = gateway.audit_export(&admin, "session.refused").await;
    assert!(
        refused
            .lines()
            .any(|l| l.contains("too-many-sessions") && l.contains("demo-vendor")),
        "{refused}"
    );

    // Once one ends (here by an administrator), the vendor may open the next.
    let ended = end_session(&gateway, &admin, &ids[0]).await;
    assert!(ended.status.is_success(), "{}", ended.body);
    let reply = open_session(&gateway, &vendor, DEMO).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}
