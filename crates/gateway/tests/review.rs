//! Session review (issue 7) against the real `hoshu` binary: the keystroke log of a graphical
//! session, the search across sessions, who sees what (an engineer their own sessions, a vendor
//! manager the company's, auditors all — and vendor A reaches nothing of vendor B's through
//! any route), and a tampered recording flagged instead of played.

mod common;

use std::time::{Duration, Instant};

use common::tunnel::{Tunnel, ended_session, list_sessions};
use common::{Credential, Gateway, Session};
use reqwest::StatusCode;
use serde_json::Value;

const DEMO: &str = "demo-desktop";

/// A vendor at the demo step with demo users (demo targets only), registered and logged in.
async fn demo_vendor(
    gateway: &Gateway,
    vendor: &str,
    users: &[(&Credential, bool)],
) -> Vec<Session> {
    gateway.admin_ok(&["vendor", "add", "--name", vendor, "--contacts", "担当 一郎"]);
    for state in ["briefing-held", "demo"] {
        gateway.admin_ok(&["vendor", "move", "--name", vendor, "--to", state]);
    }
    let mut sessions = Vec::new();
    for (credential, manager) in users {
        let mut args = vec![
            "user",
            "add",
            "--login",
            &credential.login,
            "--name",
            &credential.login,
            "--role",
            "vendor",
            "--vendor",
            vendor,
            "--demo-days",
            "7",
        ];
        if *manager {
            args.push("--manager");
        }
        let code = common::last_line(&gateway.admin_ok(&args));
        gateway.register_ok(&code, credential).await;
        sessions.push(gateway.login_ok(credential).await);
    }
    sessions
}

/// Opens the demo desktop, types `text` and Enter, disconnects; the session id once sealed.
async fn session_typing(gateway: &Gateway, who: &Session, text: &str) -> String {
    let mut tunnel = Tunnel::open(gateway, who, DEMO).await;
    tunnel.first_frame().await;
    for c in text.chars() {
        tunnel.key(u32::from(c));
    }
    tunnel.key(0xff0d);
    // The demo desktop echoes typed text: once it has, every key went through.
    tunnel.fresh_frame().await;
    let id = tunnel.uuid.clone();
    tunnel.disconnect();
    ended_session(gateway, who, &id).await;
    id
}

async fn get(gateway: &Gateway, who: &Session, path: &str) -> (StatusCode, String) {
    let response = who.client.get(gateway.url(path)).send().await.expect("GET");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

async fn get_json(gateway: &Gateway, who: &Session, path: &str) -> Value {
    let (status, body) = get(gateway, who, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

/// The keystroke lines of a session, waiting for the last one to be stored.
async fn keystrokes(gateway: &Gateway, who: &Session, id: &str, want: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines: Vec<String> =
            get_json(gateway, who, &format!("/api/v1/sessions/{id}/keystrokes"))
                .await
                .as_array()
                .expect("array")
                .iter()
                .map(|l| l["text"].as_str().expect("text").to_owned())
                .collect();
        if lines.iter().any(|l| l.contains(want)) || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn keystrokes_search_and_who_sees_what() {
    let gateway = Gateway::demo();
    let a1 = Credential::new("a-eng1", &[5, 22, 47, 60, 33, 10], "tok!", 2);
    let a2 = Credential::new("a-eng2", &[3, 17, 40, 58, 21, 9], "abcd", 1);
    let am = Credential::new("a-boss", &[6, 19, 44, 50, 27, 13], "wxyz", 3);
    let b1 = Credential::new("b-eng1", &[8, 30, 35, 61, 14, 49], "qrst", 0);
    let a = demo_vendor(
        &gateway,
        "A保守",
        &[(&a1, false), (&a2, false), (&am, true)],
    )
    .await;
    let b = demo_vendor(&gateway, "B保守", &[(&b1, false)]).await;
    let (a1s, a2s, ams, b1s) = (&a[0], &a[1], &a[2], &b[0]);
    let auditor_cred = Credential::new("audit-1", &[12, 2, 29, 43, 56, 39, 17], "pass", 7);
    let code = gateway.add_user("audit-1", "監査 三郎", "auditor", None);
    gateway.register_ok(&code, &auditor_cred).await;
    let auditor = gateway.login_ok(&auditor_cred).await;

    let sa1 = session_typing(&gateway, a1s, "echo alpha").await;
    let sa2 = session_typing(&gateway, a2s, "shutdown -h now").await;
    let sb1 = session_typing(&gateway, b1s, "shutdown -r bravo").await;

    // The keystroke log, special keys named.
    let lines = keystrokes(&gateway, a1s, &sa1, "echo alpha").await;
    assert!(lines.contains(&"echo alpha[Enter]".to_owned()), "{lines:?}");

    // Session lists.
    let ids = |rows: Vec<Value>| -> Vec<String> {
        rows.iter()
            .map(|r| r["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(
        ids(list_sessions(&gateway, a1s, "ended").await),
        vec![sa1.clone()]
    );
    let mut company = ids(list_sessions(&gateway, ams, "ended").await);
    company.sort();
    let mut expected = vec![sa1.clone(), sa2.clone()];
    expected.sort();
    assert_eq!(
        company, expected,
        "the manager sees the company's sessions, not B's"
    );
    assert_eq!(
        ids(list_sessions(&gateway, b1s, "ended").await),
        vec![sb1.clone()]
    );

    // The recordings list's filters (the auditor sees all three).
    let filtered = |query: &'static str| {
        let gateway = &gateway;
        let auditor = &auditor;
        async move {
            let mut got = ids(get_json(
                gateway,
                auditor,
                &format!("/api/v1/sessions?state=ended&{query}"),
            )
            .await
            .as_array()
            .expect("array")
            .clone());
            got.sort();
            got
        }
    };
    assert_eq!(
        filtered("vendor=B%E4%BF%9D%E5%AE%88").await,
        vec![sb1.clone()]
    );
    assert_eq!(filtered("user=a-eng").await, expected);
    assert_eq!(filtered("protocol=ssh").await, Vec::<String>::new());
    assert_eq!(filtered("from=2999-01-01").await, Vec::<String>::new());
    assert_eq!(filtered("until=2000-01-01").await, Vec::<String>::new());
    let all_three = filtered("target=demo&protocol=vnc").await;
    assert_eq!(all_three.len(), 3, "{all_three:?}");
    let (status, _) = get(&gateway, &auditor, "/api/v1/sessions?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a bad date is refused");

    // Vendor A reaches nothing of vendor B's session, through any route.
    for path in [
        format!("/api/v1/sessions/{sb1}/recording"),
        format!("/api/v1/sessions/{sb1}/keystrokes"),
        format!("/api/v1/sessions/{sb1}/commands"),
        format!("/api/v1/sessions/{sb1}/watchers"),
        format!("/sessions/{sb1}/play"),
        format!("/sessions/{sb1}/view"),
    ] {
        for who in [a1s, ams] {
            let (status, body) = get(&gateway, who, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
            assert!(!body.contains("bravo"), "{path} leaks B's typing");
        }
    }
    for who in [a1s, ams] {
        let (_, export) = get(&gateway, who, "/api/v1/sessions/export").await;
        assert!(!export.contains(&sb1), "the export leaks B's session");
    }

    // Search: "shutdown" finds each reader's own, the company's for the manager, all for the
    // auditor; every hit links into the recording at its moment.
    let hit_sessions = |hits: Value| -> Vec<String> {
        let mut s: Vec<String> = hits
            .as_array()
            .expect("array")
            .iter()
            .map(|h| h["session"].as_str().expect("session").to_owned())
            .collect();
        s.sort();
        s
    };
    let search = "/api/v1/search?q=shutdown";
    assert_eq!(
        hit_sessions(get_json(&gateway, a1s, search).await),
        Vec::<String>::new()
    );
    assert_eq!(
        hit_sessions(get_json(&gateway, ams, search).await),
        vec![sa2.clone()]
    );
    let mut all = vec![sa2.clone(), sb1.clone()];
    all.sort();
    let hits = get_json(&gateway, &auditor, search).await;
    assert_eq!(hit_sessions(hits.clone()), all);
    let play = hits[0]["play"].as_str().expect("play link");
    assert!(play.contains("/play?t="), "{play}");
    let (status, page) = get(&gateway, &auditor, play).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("id=\"keystrokes\"") && page.contains("shutdown"),
        "{page}"
    );
    let (status, page) = get(&gateway, &auditor, "/search?q=shutdown").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&sb1) && page.contains(&sa2));
}

#[tokio::test]
async fn a_tampered_recording_is_flagged_not_played() {
    let gateway = Gateway::demo();
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let id = session_typing(&gateway, &vendor, "ls").await;

    let response = admin
        .client
        .get(gateway.url(&format!("/api/v1/sessions/{id}/recording")))
        .send()
        .await
        .expect("recording");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("x-hoshu-integrity")
            .and_then(|v| v.to_str().ok()),
        Some("verified")
    );

    // The time line, and the stream from the keyframe before a moment (the session's first
    // picture here: short sessions have no other).
    let index = get_json(
        &gateway,
        &admin,
        &format!("/api/v1/sessions/{id}/recording/index"),
    )
    .await;
    assert_eq!(index["keyframes_ms"][0], 0, "{index}");
    assert_eq!(index["finished"], true, "{index}");
    let response = admin
        .client
        .get(gateway.url(&format!("/api/v1/sessions/{id}/recording?from=600000")))
        .send()
        .await
        .expect("recording from");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("x-hoshu-keyframe-ms")
            .and_then(|v| v.to_str().ok()),
        Some("0")
    );
    let from = response.text().await.expect("text");
    assert!(
        from.starts_with("4.name,") && from.contains("4.sync,"),
        "{}",
        &from[..from.len().min(200)]
    );

    // The time line's first picture, taken when the screen was first complete.
    let thumbs = get_json(
        &gateway,
        &admin,
        &format!("/api/v1/sessions/{id}/thumbnails"),
    )
    .await;
    let url = thumbs[0]["url"].as_str().expect("a thumbnail");
    let response = admin
        .client
        .get(gateway.url(url))
        .send()
        .await
        .expect("thumbnail");
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(kind == "image/png" || kind == "image/jpeg", "{kind}");
    assert!(response.bytes().await.expect("bytes").len() > 100);

    // One byte changed in the middle of the file.
    let path = gateway
        .data()
        .join("recordings")
        .join(format!("{id}.guac.zst"));
    let mut bytes = std::fs::read(&path).expect("recording file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&path, bytes).expect("tampered");

    let (status, body) = get(
        &gateway,
        &admin,
        &format!("/api/v1/sessions/{id}/recording"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains("does not match the SHA-256 sealed in the audit chain"),
        "{body}"
    );
    let (status, page) = get(&gateway, &admin, &format!("/sessions/{id}/play")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("data-state=\"mismatch\""), "{page}");
    // Nothing derived from the modified recording is served either.
    for derived in ["recording/index", "thumbnails"] {
        let (status, body) = get(
            &gateway,
            &admin,
            &format!("/api/v1/sessions/{id}/{derived}"),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{derived}: {body}");
        assert!(
            body.contains("\"code\":\"recording-modified\""),
            "{derived}: {body}"
        );
    }
    let (status, _) = get(&gateway, &admin, url).await;
    assert_eq!(status, StatusCode::CONFLICT, "a thumbnail of it");
}
