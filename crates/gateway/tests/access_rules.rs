//! The access model of DESIGN §5 against the real `hoshu` binary (issue 5): a vendor onboarded
//! through the whole application flow from the command line, then every rule of the
//! open-session decision seen through `POST /api/v1/sessions` (contract expired or not yet
//! valid, application not active, no approval, approval window over, lock at each scope, demo
//! user on a non-demo target), revocation of an approval mid-session, and the emergency stop
//! cutting many live sessions at once.

mod common;

use std::time::Instant;

use common::access::{activate, day, unix_now};
use common::tunnel::{Tunnel, open_session};
use common::{Credential, Gateway, Session, said};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SYSTEM: &str = "住民記録システム";
const VENDOR: &str = "ACME保守";
const TARGET: &str = "juki-ap1";
const DEMO: &str = "demo-desktop";
const DEMO_VENDOR: &str = "デモ保守株式会社 Demo Maintenance Co.";

/// `hoshu admin …` that must fail; its stderr.
fn admin_fails(gateway: &Gateway, args: &[&str]) -> String {
    let output = gateway.admin(args);
    assert!(
        !output.status.success(),
        "{args:?} should fail: {}",
        said(&output)
    );
    common::stderr(&output)
}

/// The demo target's address, for a second (non-demo) target on the same desktop.
fn demo_address(gateway: &Gateway) -> (String, String) {
    let list: Value = serde_json::from_str(gateway.admin_ok(&["target", "list", "--json"]).trim())
        .expect("target list --json prints JSON");
    let demo = list
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["name"] == DEMO))
        .expect("the demo target is listed")
        .clone();
    let host = demo["host"].as_str().expect("host").to_owned();
    let port = demo["port"].as_u64().expect("port").to_string();
    (host, port)
}

/// Adds the vendor, a system, a target of that system, and walks the application flow to
/// `devices-lent`, checking that skipping steps and missing facts are refused.
fn onboard(gateway: &Gateway) {
    let (host, port) = demo_address(gateway);
    gateway.admin_ok(&[
        "system",
        "add",
        "--name",
        SYSTEM,
        "--description",
        "住民基本台帳",
    ]);
    gateway.admin_ok(&[
        "target",
        "add",
        "--name",
        TARGET,
        "--protocol",
        "vnc",
        "--host",
        &host,
        "--port",
        &port,
        "--system",
        SYSTEM,
    ]);
    gateway.admin_ok(&[
        "vendor",
        "add",
        "--name",
        VENDOR,
        "--contacts",
        "山田 花子 03-1234-5678",
        "--system",
        SYSTEM,
        "--protocol",
        "vnc",
        "--tools",
        "TeraTerm",
        "--frequency",
        "月1回",
    ]);
    let err = admin_fails(
        gateway,
        &["vendor", "move", "--name", VENDOR, "--to", "active"],
    );
    assert!(
        err.contains("cannot move to active") && err.contains("briefing-held"),
        "an illegal move names the allowed ones: {err}"
    );
    for state in ["briefing-held", "demo", "under-review", "approved"] {
        gateway.admin_ok(&[
            "vendor", "move", "--name", VENDOR, "--to", state, "--note", "ok",
        ]);
    }
    let err = admin_fails(
        gateway,
        &[
            "vendor",
            "move",
            "--name",
            VENDOR,
            "--to",
            "formal-application",
        ],
    );
    assert!(err.contains("document"), "{err}");
    let doc = gateway.data().join("本申請書.pdf");
    std::fs::write(&doc, b"%PDF-1.7\n% formal application\n").expect("document written");
    let fake = gateway.data().join("fake.pdf");
    std::fs::write(&fake, b"MZ\x90\x00").expect("fake written");
    let err = admin_fails(
        gateway,
        &[
            "vendor",
            "document",
            "--name",
            VENDOR,
            "--file",
            fake.to_str().expect("utf-8"),
        ],
    );
    assert!(err.contains("not a valid .pdf"), "{err}");
    gateway.admin_ok(&[
        "vendor",
        "document",
        "--name",
        VENDOR,
        "--file",
        doc.to_str().expect("utf-8"),
    ]);
    gateway.admin_ok(&[
        "vendor",
        "move",
        "--name",
        VENDOR,
        "--to",
        "formal-application",
    ]);
    let err = admin_fails(
        gateway,
        &["vendor", "move", "--name", VENDOR, "--to", "devices-lent"],
    );
    assert!(err.contains("lend at least one device"), "{err}");
    gateway.add_user("pc-keeper", "端末 保管者", "vendor", Some(VENDOR));
    let until = day(30);
    let lent = gateway.admin_ok(&[
        "vendor",
        "lend",
        "--name",
        VENDOR,
        "--asset-tag",
        "PC-0042",
        "--user",
        "pc-keeper",
        "--until",
        &until,
    ]);
    assert!(
        lent.contains("PC-0042 registered for pc-keeper"),
        "lending registers the device: {lent}"
    );
    gateway.admin_ok(&["vendor", "move", "--name", VENDOR, "--to", "devices-lent"]);
}

/// The code of a refused `POST /api/v1/sessions`.
async fn refusal(gateway: &Gateway, session: &Session, target: &str) -> String {
    let reply = open_session(gateway, session, target).await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "{target}: {}",
        reply.body
    );
    let body = reply.json();
    assert!(
        body["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{body}"
    );
    body["code"].as_str().expect("code").to_owned()
}

/// Opens and immediately ends (by dropping the tunnel) a session that must be allowed.
async fn allowed(gateway: &Gateway, session: &Session, target: &str) {
    let mut tunnel = Tunnel::open(gateway, session, target).await;
    tunnel.first_frame().await;
    tunnel.disconnect();
}

async fn post(
    gateway: &Gateway,
    session: &Session,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = session
        .client
        .post(gateway.url(path))
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn work_request(gateway: &Gateway, vendor: &Session, starts: i64, ends: i64) -> i64 {
    let (status, body) = post(
        gateway,
        vendor,
        "/api/v1/work-requests",
        json!({ "targets": [TARGET], "purpose": "月次パッチ適用", "starts_at": starts, "ends_at": ends }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["state"], "pending");
    body["id"].as_i64().expect("id")
}

async fn decide(
    gateway: &Gateway,
    who: &Session,
    id: i64,
    decision: &str,
    comment: &str,
) -> (StatusCode, Value) {
    post(
        gateway,
        who,
        &format!("/api/v1/work-requests/{id}/decision"),
        json!({ "decision": decision, "comment": comment }),
    )
    .await
}

#[tokio::test]
async fn every_rule_of_the_decision_through_the_api() {
    let gateway = Gateway::demo();
    onboard(&gateway);
    let engineer = Credential::new("acme-eng", &[2, 11, 20, 29, 38, 47, 56, 61], "acme", 2);
    let code = gateway.add_user(&engineer.login, "技術 一郎", "vendor", Some(VENDOR));
    gateway.register_ok(&code, &engineer).await;
    let vendor = gateway.login_ok(&engineer).await;
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let demo_vendor = gateway.login_ok(&Credential::demo_vendor()).await;

    // Demo user on a non-demo target; the demo target itself works.
    assert_eq!(
        refusal(&gateway, &demo_vendor, TARGET).await,
        "demo-targets-only"
    );
    allowed(&gateway, &demo_vendor, DEMO).await;

    // Application not active yet (devices lent), and activation needs a contract.
    assert_eq!(
        refusal(&gateway, &vendor, TARGET).await,
        "application-not-active"
    );
    let err = admin_fails(
        &gateway,
        &["vendor", "move", "--name", VENDOR, "--to", "active"],
    );
    assert!(err.contains("contract"), "{err}");
    let out = gateway.admin_ok(&[
        "contract",
        "add",
        "--vendor",
        VENDOR,
        "--title",
        "保守契約 2026",
        "--from",
        &day(-1),
        "--until",
        &day(365),
        "--system",
        SYSTEM,
    ]);
    let contract = out
        .split_whitespace()
        .nth(1)
        .expect("contract N added …")
        .to_owned();
    gateway.admin_ok(&[
        "vendor", "move", "--name", VENDOR, "--to", "active", "--note", "開始",
    ]);

    // Active with a contract, but no approved work request.
    assert_eq!(refusal(&gateway, &vendor, TARGET).await, "no-approval");
    let targets: Value = vendor
        .client
        .get(gateway.url("/api/v1/targets"))
        .send()
        .await
        .expect("targets")
        .json()
        .await
        .expect("json");
    assert_eq!(
        targets
            .as_array()
            .map(|t| t.iter().map(|t| t["name"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(TARGET)]),
        "the vendor sees the contracted target (to request work on it), not the demo one"
    );
    let now = unix_now();
    let request = work_request(&gateway, &vendor, now - 60, now + 3600).await;
    assert_eq!(
        refusal(&gateway, &vendor, TARGET).await,
        "no-approval",
        "pending"
    );
    let (status, body) = decide(&gateway, &vendor, request, "approve", "").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "nobody approves their own work: {body}"
    );
    let (status, body) = decide(&gateway, &admin, request, "reject", "").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a rejection needs a reason: {body}"
    );
    let (status, body) = decide(&gateway, &admin, request, "approve", "了解").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "approved");
    allowed(&gateway, &vendor, TARGET).await;
    let notes: Value = vendor
        .client
        .get(gateway.url("/api/v1/notifications"))
        .send()
        .await
        .expect("notifications")
        .json()
        .await
        .expect("json");
    assert_eq!(notes[0]["kind"], "work-request-approved", "{notes}");

    // Contract not yet valid, then expired; restored.
    gateway.admin_ok(&[
        "contract",
        "set",
        "--id",
        &contract,
        "--from",
        &day(2),
        "--until",
        &day(30),
    ]);
    assert_eq!(refusal(&gateway, &vendor, TARGET).await, "no-contract");
    gateway.admin_ok(&[
        "contract",
        "set",
        "--id",
        &contract,
        "--from",
        &day(-30),
        "--until",
        &day(-1),
    ]);
    assert_eq!(refusal(&gateway, &vendor, TARGET).await, "no-contract");
    gateway.admin_ok(&[
        "contract",
        "set",
        "--id",
        &contract,
        "--from",
        &day(-1),
        "--until",
        &day(365),
    ]);
    allowed(&gateway, &vendor, TARGET).await;

    // A lock at each scope refuses, lifting it allows again.
    for (flag, name) in [
        ("--all", None),
        ("--vendor", Some(VENDOR)),
        ("--target", Some(TARGET)),
        ("--user", Some("acme-eng")),
    ] {
        let mut args = vec![flag];
        args.extend(name);
        let mut stop = args.clone();
        stop.extend(["--reason", "インシデント対応"]);
        let output = common::hoshu(&gateway_args(&gateway, "emergency-stop", &stop));
        assert!(output.status.success(), "{}", said(&output));
        assert_eq!(refusal(&gateway, &vendor, TARGET).await, "locked", "{flag}");
        let mut lift = args.clone();
        lift.push("--lift");
        let output = common::hoshu(&gateway_args(&gateway, "emergency-stop", &lift));
        assert!(output.status.success(), "{}", said(&output));
        allowed(&gateway, &vendor, TARGET).await;
    }
    // Lifting what is not in force says so.
    let output = common::hoshu(&gateway_args(
        &gateway,
        "emergency-stop",
        &["--all", "--lift"],
    ));
    assert_eq!(output.status.code(), Some(1), "{}", said(&output));

    // Approval window over: the live session ends when the window does (not at the next
    // periodic check), and new ones are refused.
    let (status, _) = decide(&gateway, &admin, request, "revoke", "作業終了").await;
    assert_eq!(status, StatusCode::OK);
    let now = unix_now();
    let short = work_request(&gateway, &vendor, now - 60, now + 3).await;
    let (status, _) = decide(&gateway, &admin, short, "approve", "").await;
    assert_eq!(status, StatusCode::OK);
    let mut tunnel = Tunnel::open(&gateway, &vendor, TARGET).await;
    tunnel.first_frame().await;
    let ending = tunnel.ending().await;
    let late = unix_now() - (now + 3);
    assert!(
        ending.message.contains("no approved work request") && late <= 2,
        "ended {late} s after the window: {ending:?}"
    );
    assert_eq!(refusal(&gateway, &vendor, TARGET).await, "no-approval");

    // Application suspended.
    gateway.admin_ok(&[
        "vendor",
        "move",
        "--name",
        VENDOR,
        "--to",
        "suspended",
        "--note",
        "監査",
    ]);
    assert_eq!(
        refusal(&gateway, &vendor, TARGET).await,
        "application-not-active"
    );

    // The whole flow is on the audit chain, and the chain holds.
    gateway.admin_ok(&["vendor", "list"]);
    let output = common::hoshu(&gateway_args(&gateway, "audit", &["verify"]));
    assert!(output.status.success(), "{}", said(&output));
}

/// `hoshu SUBCOMMAND [verify] --data DIR ARGS…`.
fn gateway_args(gateway: &Gateway, command: &str, args: &[&str]) -> Vec<String> {
    let mut all = vec![command.to_owned()];
    let (sub, rest) = match args.first() {
        Some(&"verify") => (Some("verify"), &args[1..]),
        _ => (None, args),
    };
    all.extend(sub.map(str::to_owned));
    all.extend([
        "--data".to_owned(),
        gateway.data().to_str().expect("utf-8").to_owned(),
    ]);
    all.extend(rest.iter().map(|s| (*s).to_owned()));
    all
}

#[tokio::test]
async fn revoking_an_approval_ends_the_live_session_with_the_reason() {
    let gateway = Gateway::demo();
    onboard(&gateway);
    activate(&gateway, VENDOR, SYSTEM);
    let engineer = Credential::new("acme-eng", &[2, 11, 20, 29, 38, 47, 56, 61], "acme", 2);
    let code = gateway.add_user(&engineer.login, "技術 一郎", "vendor", Some(VENDOR));
    gateway.register_ok(&code, &engineer).await;
    let vendor = gateway.login_ok(&engineer).await;
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let now = unix_now();
    let request = work_request(&gateway, &vendor, now - 60, now + 3600).await;
    let (status, _) = decide(&gateway, &admin, request, "approve", "").await;
    assert_eq!(status, StatusCode::OK);
    let mut tunnel = Tunnel::open(&gateway, &vendor, TARGET).await;
    tunnel.first_frame().await;

    let started = Instant::now();
    let (status, _) = decide(&gateway, &admin, request, "revoke", "作業中止").await;
    assert_eq!(status, StatusCode::OK);
    let ending = tunnel.ending().await;
    println!("revocation to session end: {:?}", started.elapsed());
    assert!(
        ending.message.contains("no approved work request"),
        "the user is told why: {ending:?}"
    );

    // A contract ended early (from the command line) also cuts the session.
    let request = work_request(&gateway, &vendor, unix_now() - 60, unix_now() + 3600).await;
    let (status, _) = decide(&gateway, &admin, request, "approve", "").await;
    assert_eq!(status, StatusCode::OK);
    let mut tunnel = Tunnel::open(&gateway, &vendor, TARGET).await;
    tunnel.first_frame().await;
    let contracts: Value =
        serde_json::from_str(gateway.admin_ok(&["contract", "list", "--json"]).trim())
            .expect("json");
    let id = contracts[0]["id"].to_string();
    gateway.admin_ok(&[
        "contract",
        "set",
        "--id",
        &id,
        "--from",
        &day(-30),
        "--until",
        &day(-1),
    ]);
    let ending = tunnel.ending().await;
    assert!(ending.message.contains("contract"), "{ending:?}");
}

#[tokio::test]
async fn the_emergency_stop_cuts_every_live_session_within_a_second() {
    const SESSIONS: usize = 24;
    let gateway = Gateway::demo_with(&["--live-sessions-per-user", "24"]);
    let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let admin = gateway.login_ok(&Credential::demo_admin()).await;
    let mut tunnels = Vec::new();
    for _ in 0..SESSIONS {
        let mut tunnel = Tunnel::open(&gateway, &vendor, DEMO).await;
        tunnel.first_frame().await;
        tunnels.push(tunnel);
    }
    // The operator's own session on the same target: a vendor stop leaves it alone.
    let mut operator = Tunnel::open(&gateway, &admin, DEMO).await;
    operator.first_frame().await;

    let started = Instant::now();
    let output = common::hoshu(&gateway_args(
        &gateway,
        "emergency-stop",
        &["--vendor", DEMO_VENDOR, "--reason", "不正アクセスの疑い"],
    ));
    assert!(output.status.success(), "{}", said(&output));
    let mut endings = Vec::new();
    for tunnel in &mut tunnels {
        endings.push(tunnel.ending().await);
    }
    let took = started.elapsed();
    println!("emergency stop of {SESSIONS} live sessions (command line to last close): {took:?}");
    for ending in &endings {
        assert!(
            ending.message.contains("emergency stop")
                && ending.message.contains("不正アクセスの疑い"),
            "{ending:?}"
        );
    }
    assert!(
        !operator.is_closed(),
        "the operator's session is not the vendor's"
    );
    assert_eq!(refusal(&gateway, &vendor, DEMO).await, "locked");

    // A stop of everything from the API cuts the operator too; lifting allows again.
    let (status, body) = post(
        &gateway,
        &admin,
        "/api/v1/locks",
        json!({ "scope": "all", "reason": "全停止訓練" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ending = operator.ending().await;
    assert!(ending.message.contains("全停止訓練"), "{ending:?}");
    for scope in [
        json!({ "scope": "all" }),
        json!({ "scope": "vendor", "name": DEMO_VENDOR }),
    ] {
        let (status, body) = post(&gateway, &admin, "/api/v1/locks/lift", scope).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    allowed(&gateway, &vendor, DEMO).await;
}
