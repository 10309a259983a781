//! Live watching (立会い, issue 5 item 6) against the real `hoshu demo`: an admin (and an
//! auditor) follow a vendor's session on the built-in demo desktop as read-only Guacamole
//! clients; the vendor learns who watches; a vendor may not watch; a watcher's input never
//! reaches the target; a watcher that does not keep up never slows the session; the admin ends
//! the session and both tunnels end; the audit chain records the watching.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use common::tunnel::{Auth, Tunnel, WAIT, end_session};
use common::{Credential, Gateway, Session, hoshu, said};
use hoshu_guac::Instruction;
use reqwest::StatusCode;
use serde_json::Value;

const DEMO: &str = "demo-desktop";
/// hoshu_guac::Status::SESSION_CLOSED.
const SESSION_CLOSED: u16 = 523;

/// `(actor, subject, detail)` of the audit events of `kind`, oldest first.
fn audit_events(data: &Path, kind: &str) -> Vec<(String, String, Value)> {
    common::audit_rows(data)
        .into_iter()
        .filter(|row| row["kind"] == kind)
        .map(|row| {
            let text = |k: &str| row[k].as_str().unwrap_or_default().to_owned();
            (text("actor"), text("subject"), row["detail"].clone())
        })
        .collect()
}

/// `GET path` with `session`'s cookie: status and body.
async fn get(gateway: &Gateway, session: &Session, path: &str) -> (StatusCode, String) {
    let response = session
        .client
        .get(gateway.url(path))
        .send()
        .await
        .expect("GET request");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// The logins in `GET /api/v1/sessions/<id>/watchers`, which must succeed.
async fn watcher_logins(gateway: &Gateway, session: &Session, id: &str) -> Vec<String> {
    let (status, body) = get(gateway, session, &format!("/api/v1/sessions/{id}/watchers")).await;
    assert_eq!(status, StatusCode::OK, "watchers: {body}");
    let list: Value = serde_json::from_str(&body).expect("the watchers list is JSON");
    list.as_array()
        .expect("the watchers list is an array")
        .iter()
        .map(|w| {
            assert!(w["since_ms"].as_i64().is_some_and(|t| t > 0), "{w}");
            w["login"].as_str().expect("login is text").to_owned()
        })
        .collect()
}

/// Reads `tunnel` until a `hoshu-watchers` pipe whose list is `logins`; panics after the wait.
async fn wait_watchers_pipe(tunnel: &mut Tunnel, logins: &[&str]) {
    let deadline = Instant::now() + WAIT;
    let mut pipe_stream: Option<String> = None;
    let mut last = String::new();
    while Instant::now() < deadline {
        let Some(i) = tunnel.next(Duration::from_millis(500)).await else {
            assert!(!tunnel.is_closed(), "closed; lately: {}", tunnel.history());
            continue;
        };
        match i.opcode.as_str() {
            "pipe" if i.args.get(2).map(String::as_str) == Some("hoshu-watchers") => {
                assert_eq!(i.args[1], "application/json");
                pipe_stream = Some(i.args[0].clone());
            }
            "blob" if pipe_stream.as_ref() == i.args.first() => {
                let json = base64::engine::general_purpose::STANDARD
                    .decode(&i.args[1])
                    .expect("blob data is base64");
                let list: Value = serde_json::from_slice(&json).expect("the pipe carries JSON");
                let got: Vec<&str> = list
                    .as_array()
                    .expect("an array")
                    .iter()
                    .filter_map(|w| w["login"].as_str())
                    .collect();
                if got == logins {
                    return;
                }
                last = list.to_string();
            }
            _ => {}
        }
    }
    panic!(
        "no hoshu-watchers pipe listing {logins:?} (last: {last}); lately: {}",
        tunnel.history()
    );
}

/// Drawing (images or fills) that arrives on `tunnel` within `within`.
async fn drawing_within(tunnel: &mut Tunnel, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut drawn = Vec::new();
    while let Some(i) = tunnel
        .next(deadline.saturating_duration_since(Instant::now()))
        .await
    {
        if matches!(i.opcode.as_str(), "img" | "cfill" | "copy") {
            drawn.push(i.opcode.clone());
        }
    }
    drawn
}

/// `hoshu demo` with the demo vendor working on the demo desktop (its first picture read) and
/// the demo admin logged in; the session id.
async fn vendor_at_work() -> (Gateway, Session, Session, Tunnel, String) {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let mut session = Tunnel::open(&gateway, &vendor, DEMO).await;
    assert_eq!(session.first_frame().await, (1024, 768));
    let id = session.uuid.clone();
    (gateway, vendor, admin, session, id)
}

#[tokio::test]
async fn admins_and_auditors_watch_read_only_and_the_vendor_knows() {
    let (gateway, vendor, admin, mut session, id) = vendor_at_work().await;
    let code = gateway.add_user("audit-1", "Auditor One", "auditor", None);
    let auditor_credential = Credential::new("audit-1", &[5, 22, 39, 56, 12, 29, 46, 63], "", 0);
    gateway.register_ok(&code, &auditor_credential).await;
    let auditor = gateway.login_ok(&auditor_credential).await;
    let watch = format!("/api/v1/sessions/{id}/watch");

    // A vendor may not watch, not even their own session; nobody watches without a login.
    assert_eq!(
        Tunnel::connect(&gateway, &watch, Auth::Cookie(&vendor.token))
            .await
            .map(|_| ())
            .expect_err("a vendor may not watch"),
        403
    );
    assert_eq!(
        Tunnel::connect(&gateway, &watch, Auth::Anonymous)
            .await
            .map(|_| ())
            .expect_err("no watching without a login"),
        401
    );
    let (status, _) = get(&gateway, &vendor, &format!("/sessions/{id}/watch")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(watcher_logins(&gateway, &vendor, &id).await.is_empty());

    // The admin's page: the live view, with the terminate button; the list links to it.
    let (status, page) = get(&gateway, &admin, &format!("/sessions/{id}/watch")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("data-tunnel=\"{watch}\"")), "{page}");
    assert!(page.contains("id=\"terminate-button\""), "{page}");
    let (_, list) = get(&gateway, &admin, "/sessions").await;
    assert!(
        list.contains(&format!("href=\"/sessions/{id}/watch\"")),
        "{list}"
    );
    let (_, auditor_page) = get(&gateway, &auditor, &format!("/sessions/{id}/watch")).await;
    assert!(
        !auditor_page.contains("terminate-button"),
        "an auditor cannot end sessions"
    );

    // The admin joins: the tunnel UUID, then a complete picture (size, drawing, sync).
    let mut watcher = Tunnel::connect(&gateway, &watch, Auth::Cookie(&admin.token))
        .await
        .expect("an admin may watch");
    assert_eq!(watcher.uuid, id);
    assert_eq!(watcher.first_frame().await, (1024, 768));
    let picture = watcher.history();
    assert!(
        picture.contains("img(") || picture.contains("cfill("),
        "{picture}"
    );

    // The vendor is told, in band, and the watchers list says so too.
    wait_watchers_pipe(&mut session, &["demo-admin"]).await;
    assert_eq!(watcher_logins(&gateway, &vendor, &id).await, ["demo-admin"]);
    assert_eq!(watcher_logins(&gateway, &admin, &id).await, ["demo-admin"]);
    let (status, _) = get(
        &gateway,
        &vendor,
        "/api/v1/sessions/00000000-0000-4000-8000-000000000000/watchers",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The watcher's keys and mouse never reach the target: nothing is drawn for them, on
    // either tunnel (the demo desktop draws typed letters and mouse drags at once).
    while session.next(Duration::from_millis(300)).await.is_some() {}
    while watcher.next(Duration::from_millis(300)).await.is_some() {}
    for keysym in [u32::from(b'w'), u32::from(b'x'), 65293] {
        watcher.key(keysym);
    }
    let mut drag = String::new();
    for step in 0..=20u32 {
        let (x, y) = (560 + step * 20, 220 + step * 24);
        drag.push_str(
            &Instruction::new("mouse", [x.to_string(), y.to_string(), "1".into()]).encode(),
        );
    }
    drag.push_str("5.mouse,3.960,3.700,1.0;");
    watcher.send(&drag);
    watcher.send("9.clipboard,1.1,10.text/plain;4.blob,1.1,8.aGVsbG8=;3.end,1.1;");
    let drawn = drawing_within(&mut session, Duration::from_secs(2)).await;
    assert!(
        drawn.is_empty(),
        "the watcher's input drew {drawn:?}: {}",
        session.history()
    );
    assert!(!watcher.is_closed(), "{}", watcher.history());

    // The vendor's own input still works, and the watcher sees its result, and where the
    // vendor points (the vendor's page draws its own pointer: it is not sent back).
    session.fresh_frame().await;
    watcher.wait_drawing().await;
    watcher.wait_opcode("sync").await;
    session.send("5.mouse,3.300,3.400,1.0;");
    let pointer = watcher
        .wait_for("the vendor's pointer", WAIT, |i| i.opcode == "mouse")
        .await;
    assert_eq!(pointer.args[..3], ["300", "400", "0"]);
    session.fresh_frame().await;
    assert!(
        !session.history().contains("mouse("),
        "{}",
        session.history()
    );

    // An auditor who never answers `sync` (a browser that stopped rendering) joins too: the
    // vendor's session goes on at full pace regardless.
    let mut slow = Tunnel::connect_with(&gateway, &watch, Auth::Cookie(&auditor.token), false)
        .await
        .expect("an auditor may watch");
    slow.first_frame().await;
    wait_watchers_pipe(&mut session, &["demo-admin", "audit-1"]).await;
    for _ in 0..5 {
        session.fresh_frame().await;
    }
    assert_eq!(
        watcher_logins(&gateway, &auditor, &id).await,
        ["demo-admin", "audit-1"]
    );
    watcher.wait_drawing().await;

    // The admin ends the session: the vendor's and both watchers' tunnels end, saying why.
    let ended = end_session(&gateway, &admin, &id).await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.body);
    let vendor_end = session.ending().await;
    assert_eq!(vendor_end.status, SESSION_CLOSED, "{vendor_end:?}");
    let watcher_end = watcher.ending().await;
    assert_eq!(watcher_end.status, SESSION_CLOSED, "{watcher_end:?}");
    assert!(
        watcher_end.message.contains("administrator demo-admin"),
        "{watcher_end:?}"
    );
    watcher_end.assert_close_reason();
    slow.closed().await;
    let (status, _) = get(&gateway, &admin, &format!("/api/v1/sessions/{id}/watchers")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an ended session has no watchers"
    );

    // The audit chain: who watched which session on which target, start and end.
    let deadline = Instant::now() + WAIT;
    loop {
        let ends = audit_events(gateway.data(), "session.watch_end");
        if ends.len() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "watch ends audited: {ends:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for kind in ["session.watch_start", "session.watch_end"] {
        let events = audit_events(gateway.data(), kind);
        let actors: Vec<&str> = events.iter().map(|(a, _, _)| a.as_str()).collect();
        assert_eq!(actors, ["demo-admin", "audit-1"], "{kind}: {events:?}");
        for (_, subject, detail) in &events {
            assert_eq!(subject, DEMO, "{kind}");
            assert_eq!(detail["session"], id.as_str(), "{kind}");
        }
    }
    let (_, _, detail) = &audit_events(gateway.data(), "session.watch_end")[0];
    assert!(
        detail["outcome"]
            .as_str()
            .is_some_and(|o| o.contains("administrator")),
        "{detail}"
    );
    let data = gateway.data().to_str().expect("UTF-8 path");
    let verify = hoshu(&["audit", "verify", "--data", data]);
    assert_eq!(verify.status.code(), Some(0), "{}", said(&verify));
}

#[tokio::test]
async fn a_watcher_leaving_clears_the_vendors_banner_and_an_ended_session_cannot_be_watched() {
    let (gateway, vendor, admin, mut session, id) = vendor_at_work().await;
    let watch = format!("/api/v1/sessions/{id}/watch");

    let mut watcher = Tunnel::connect(&gateway, &watch, Auth::Bearer(&admin.token))
        .await
        .expect("an admin may watch with a bearer token");
    watcher.first_frame().await;
    wait_watchers_pipe(&mut session, &["demo-admin"]).await;
    watcher.disconnect();
    assert_eq!(watcher.closed().await.as_deref(), Some("0"));
    wait_watchers_pipe(&mut session, &[]).await;
    assert!(watcher_logins(&gateway, &vendor, &id).await.is_empty());

    // The vendor leaves; the session is over, and so is watching it.
    session.disconnect();
    session.closed().await;
    let deadline = Instant::now() + WAIT;
    let refused = loop {
        match Tunnel::connect(&gateway, &watch, Auth::Cookie(&admin.token)).await {
            Err(status) => break status,
            Ok(mut late) => {
                // Raced the session's close: the view ends at once.
                late.closed().await;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the ended session can still be watched"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(refused, 404);
}

#[tokio::test]
async fn a_watcher_that_stops_rendering_is_resynchronised_with_a_fresh_picture() {
    let (gateway, _vendor, admin, mut session, id) = vendor_at_work().await;

    // The watcher's browser stops answering `sync` after its first picture: its queue stops
    // moving and fills up while the vendor types, frame after frame, at full pace.
    let watch = format!("/api/v1/sessions/{id}/watch");
    let mut slow = Tunnel::connect_with(&gateway, &watch, Auth::Cookie(&admin.token), false)
        .await
        .expect("an admin may watch");
    slow.first_frame().await;
    let started = Instant::now();
    for n in 0..100u32 {
        session.key(u32::from(b'a') + n % 26);
        session.wait_opcode("sync").await;
    }
    let typing = started.elapsed();
    assert!(
        typing < Duration::from_secs(20),
        "100 frames took {typing:?} with a stalled watcher"
    );

    // It renders again: once its queue has drained it gets a whole new picture (the size of
    // the screen first), then follows the session again.
    slow.set_auto_sync(true);
    let size = slow
        .wait_for("a fresh picture", WAIT, |i| {
            i.opcode == "size" && i.args.first().map(String::as_str) == Some("0")
        })
        .await;
    assert_eq!(size.args, ["0", "1024", "768"]);
    slow.wait_drawing().await;
    slow.wait_opcode("sync").await;
    session.fresh_frame().await;
    slow.wait_drawing().await;
    assert!(!slow.is_closed(), "{}", slow.history());
}
