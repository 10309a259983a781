//! Lent devices against the real `hoshu` binary (issue 6): enrolment with a one-time code (a
//! second use refused), posture reports over real mTLS with the issued certificate (compliant
//! and not), and a revoked device refused at once. With `[posture] required = true`: a vendor
//! session refused without a compliant device and allowed with one, and ended when the device
//! turns non-compliant or its report goes stale.

mod common;

use common::access::{
    FINGERPRINT, activate, day, posture_report, send_report, to_devices_lent, unix_now,
};
use common::rfb_server::{RfbServer, Security, serve_plain};
use common::tunnel::{Tunnel, open_session};
use common::{Credential, Gateway, Session, last_line};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn report(real_time: bool, signature_age_days: i64) -> Value {
    posture_report(real_time, signature_age_days, unix_now())
}

/// Registers PC-001 for a new vendor user; the enrolment code.
async fn register_device(gateway: &Gateway) -> String {
    let holder = engineer_credential();
    let code = gateway.add_user(&holder.login, "Device Holder", "vendor", Some("ACME保守"));
    gateway.register_ok(&code, &holder).await;
    add_device(gateway, &holder.login)
}

fn engineer_credential() -> Credential {
    Credential::new("acme-eng", &[2, 11, 20, 29, 38, 47, 56, 61], "acme", 2)
}

/// Registers PC-001 for `user`; the enrolment code.
fn add_device(gateway: &Gateway, user: &str) -> String {
    let until = day(30);
    last_line(&gateway.admin_ok(&[
        "device",
        "add",
        "--asset-tag",
        "PC-001",
        "--user",
        user,
        "--until",
        &until,
    ]))
}

async fn enroll(gateway: &Gateway, code: &str, csr_pem: &str) -> (StatusCode, Value) {
    let response = gateway
        .bare_client()
        .post(gateway.url("/api/v1/devices/enroll"))
        .json(&json!({"code": code, "csr_pem": csr_pem, "fingerprint": FINGERPRINT}))
        .send()
        .await
        .expect("the enrolment request is answered");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A device key pair and its CSR, as the agent makes them.
fn key_and_csr() -> (rcgen::KeyPair, String) {
    let key = rcgen::KeyPair::generate().expect("a key pair");
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .and_then(|csr| csr.pem())
        .expect("a CSR");
    (key, csr)
}

/// Enrols a new key with `code`: a client presenting the issued certificate, and the
/// certificate and key as one PEM.
async fn enrolled(gateway: &Gateway, code: &str) -> (reqwest::Client, String) {
    let (key, csr) = key_and_csr();
    let (status, body) = enroll(gateway, code, &csr).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let certificate = body["certificate_pem"].as_str().expect("a certificate");
    let client = device_client(gateway, certificate, &key.serialize_pem());
    (client, format!("{certificate}\n{}", key.serialize_pem()))
}

/// A client presenting the device's certificate, trusting the gateway's.
fn device_client(gateway: &Gateway, certificate_pem: &str, key_pem: &str) -> reqwest::Client {
    let identity = reqwest::Identity::from_pem(format!("{certificate_pem}\n{key_pem}").as_bytes())
        .expect("the issued certificate and the key make an identity");
    gateway
        .client_builder()
        .identity(identity)
        .build()
        .expect("an mTLS client")
}

#[tokio::test]
async fn a_device_enrols_once_reports_over_mtls_and_is_refused_once_revoked() {
    let gateway = Gateway::demo();
    let code = register_device(&gateway).await;
    let (key, csr) = key_and_csr();

    let (status, body) = enroll(&gateway, &code, "not a CSR").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // A broken CSR did not use the code up.
    let (status, body) = enroll(&gateway, &code, &csr).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let certificate = body["certificate_pem"].as_str().expect("a certificate");
    assert!(
        body["ca_pem"]
            .as_str()
            .is_some_and(|ca| ca.contains("BEGIN CERTIFICATE"))
    );
    let (status, body) = enroll(&gateway, &code, &csr).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a code works once: {body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("enrolment code"))
    );

    // Without a client certificate: refused.
    let (status, _) = send_report(&gateway.bare_client(), &gateway, &report(true, 1)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let client = device_client(&gateway, certificate, &key.serialize_pem());
    let (status, verdict) = send_report(&client, &gateway, &report(true, 1)).await;
    assert_eq!(status, StatusCode::OK, "{verdict}");
    assert_eq!(verdict["compliant"], true, "{verdict}");

    let (status, verdict) = send_report(&client, &gateway, &report(false, 9)).await;
    assert_eq!(status, StatusCode::OK, "{verdict}");
    assert_eq!(verdict["compliant"], false, "{verdict}");
    let codes: Vec<&str> = verdict["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert!(codes.contains(&"real-time-off"), "{verdict}");
    assert!(codes.contains(&"signatures-outdated"), "{verdict}");

    let list: Value = serde_json::from_str(&gateway.admin_ok(&["device", "list", "--json"]))
        .expect("device list --json is JSON");
    assert_eq!(list[0]["state"], "not compliant", "{list}");
    assert_eq!(list[0]["user"], "acme-eng", "{list}");

    // The holder sees the device and the reasons in the API.
    let holder = gateway.login_ok(&engineer_credential()).await;
    let mine: Value = holder
        .client
        .get(gateway.url("/api/v1/devices"))
        .send()
        .await
        .expect("the device list")
        .json()
        .await
        .expect("JSON");
    assert_eq!(mine[0]["asset_tag"], "PC-001", "{mine}");
    assert_eq!(mine[0]["compliant"], false, "{mine}");
    assert!(
        mine[0]["reasons"].as_array().is_some_and(|r| r.len() == 2),
        "{mine}"
    );
    let demo_vendor = gateway.login_ok(&Credential::demo_vendor()).await;
    let theirs: Value = demo_vendor
        .client
        .get(gateway.url("/api/v1/devices"))
        .send()
        .await
        .expect("the device list")
        .json()
        .await
        .expect("JSON");
    assert_eq!(theirs, json!([]), "another user's devices are not shown");

    gateway.admin_ok(&["device", "revoke", "--asset-tag", "PC-001"]);
    let (status, body) = send_report(&client, &gateway, &report(true, 1)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a revoked device is refused: {body}"
    );

    let audit = gateway.admin_ok(&["device", "list"]);
    assert!(audit.contains("revoked"), "{audit}");
}

const SYSTEM: &str = "住民記録システム";
const VENDOR: &str = "ACME保守";
const TARGET: &str = "juki-ap1";

/// A vendor whose application is active, with a contract covering the target's system; the
/// target (on a test RFB server) allows standing access, so no work request is needed.
fn onboard(gateway: &Gateway, rfb_port: u16) {
    let port = rfb_port.to_string();
    gateway.admin_ok(&["system", "add", "--name", SYSTEM, "--description", "住基"]);
    gateway.admin_ok(&[
        "target",
        "add",
        "--name",
        TARGET,
        "--protocol",
        "vnc",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--system",
        SYSTEM,
        "--standing-access",
    ]);
    gateway.admin_ok(&[
        "vendor",
        "add",
        "--name",
        VENDOR,
        "--contacts",
        "山田 03-1234-5678",
        "--system",
        SYSTEM,
        "--protocol",
        "vnc",
    ]);
    to_devices_lent(gateway, VENDOR, "PC-000");
    activate(gateway, VENDOR, SYSTEM);
}

/// The code of a refused `POST /api/v1/sessions`, and its reason.
async fn refusal(gateway: &Gateway, session: &Session) -> (String, String) {
    let reply = open_session(gateway, session, TARGET).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let body = reply.json();
    (
        body["code"].as_str().unwrap_or_default().to_owned(),
        body["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_required_device_admits_and_ends_vendor_sessions() {
    let server = RfbServer::start(|s| serve_plain(s, Security::None, 320, 200)).await;
    let gateway = Gateway::serve(
        "[access]\nrecheck_secs = 1\n[posture]\nrequired = true\n[posture.policy]\nmax_report_age_secs = 60\n",
    );
    onboard(&gateway, server.port);
    let engineer = engineer_credential();
    let code = gateway.add_user(&engineer.login, "技術 一郎", "vendor", Some(VENDOR));
    gateway.register_ok(&code, &engineer).await;
    let vendor = gateway.login_ok(&engineer).await;

    assert_eq!(refusal(&gateway, &vendor).await.0, "no-device");

    let code = add_device(&gateway, &engineer.login);
    let (device, _) = enrolled(&gateway, &code).await;
    assert_eq!(refusal(&gateway, &vendor).await.0, "device-not-reporting");

    send_report(&device, &gateway, &report(true, 9)).await;
    let (code, reason) = refusal(&gateway, &vendor).await;
    assert_eq!(code, "device-not-compliant");
    assert!(
        reason.contains("9 days old"),
        "the vendor hears what to fix: {reason}"
    );

    // Compliant: the session opens; non-compliant again: it ends, with the reason.
    let (_, verdict) = send_report(&device, &gateway, &report(true, 1)).await;
    assert_eq!(verdict["compliant"], true, "{verdict}");
    let mut tunnel = Tunnel::open(&gateway, &vendor, TARGET).await;
    tunnel.first_frame().await;
    send_report(&device, &gateway, &report(false, 1)).await;
    let ending = tunnel.ending().await;
    assert!(ending.message.contains("not compliant"), "{ending:?}");

    // A report that goes stale (collected 55 s ago, 60 s allowed) ends the session by itself.
    send_report(&device, &gateway, &posture_report(true, 1, unix_now() - 55)).await;
    let mut tunnel = Tunnel::open(&gateway, &vendor, TARGET).await;
    tunnel.first_frame().await;
    let ending = tunnel.ending().await;
    assert!(
        ending.message.contains("not compliant") && ending.message.contains("old"),
        "{ending:?}"
    );
}

/// The agent's own enrolment and report code (the collector of this machine, its mTLS client)
/// against the real gateway: what `hoshu-agent enroll` and `hoshu-agent report` run.
#[tokio::test]
async fn the_agent_enrols_and_reports_what_it_collects() {
    use hoshu_agent::enrol::{self, DeviceFiles};

    let gateway = Gateway::demo();
    let code = register_device(&gateway).await;
    let gateway_ca = std::fs::read(gateway.data().join("tls").join("cert.pem"))
        .expect("the gateway's certificate");
    let report = hoshu_agent::collect(unix_now()).expect("this machine's posture");
    let client = enrol::client(Some(&gateway_ca), None).expect("a client");
    let base = gateway.url("");
    let enrolled = enrol::enroll(&client, &base, &code, &report.fingerprint)
        .await
        .expect("enrolled");
    let again = enrol::enroll(&client, &base, &code, &report.fingerprint).await;
    assert!(
        matches!(again, Err(enrol::AgentError::Refused { status: 403, .. })),
        "{again:?}"
    );

    let dir = tempfile::tempdir().expect("a directory");
    let files = DeviceFiles::in_dir(dir.path());
    files.store(&enrolled).expect("stored");
    let identity = files.identity().expect("an identity");
    let client = enrol::client(Some(&gateway_ca), Some(identity)).expect("an mTLS client");
    let verdict = enrol::send_report(&client, &base, &report)
        .await
        .expect("the report is accepted");
    // Whatever this machine's antivirus, the device is the one that enrolled.
    let reasons = verdict["reasons"].as_array().expect("reasons");
    assert!(
        reasons.iter().all(|r| r["code"] != "fingerprint-mismatch"),
        "{verdict}"
    );
    assert_eq!(verdict["compliant"], reasons.is_empty(), "{verdict}");
    let status = enrol::status(&client, &base).await.expect("the status");
    assert_eq!(status["asset_tag"], "PC-001", "{status}");
    assert_eq!(status["compliant"], verdict["compliant"], "{status}");

    gateway.admin_ok(&["device", "revoke", "--asset-tag", "PC-001"]);
    let refused = enrol::send_report(&client, &base, &report).await;
    assert!(
        matches!(refused, Err(enrol::AgentError::Refused { status: 403, .. })),
        "{refused:?}"
    );
}

/// With `browser_certificate = true` only the device whose certificate the browser presents
/// counts: the same vendor, with a compliant device, is refused from a client without it.
#[tokio::test]
async fn the_session_must_come_with_the_device_certificate_when_so_configured() {
    let server = RfbServer::start(|s| serve_plain(s, Security::None, 320, 200)).await;
    let gateway = Gateway::serve("[posture]\nrequired = true\nbrowser_certificate = true\n");
    onboard(&gateway, server.port);
    let engineer = engineer_credential();
    let code = gateway.add_user(&engineer.login, "技術 一郎", "vendor", Some(VENDOR));
    gateway.register_ok(&code, &engineer).await;
    let code = add_device(&gateway, &engineer.login);
    let (device, identity_pem) = enrolled(&gateway, &code).await;
    let (_, verdict) = send_report(&device, &gateway, &report(true, 1)).await;
    assert_eq!(verdict["compliant"], true, "{verdict}");

    let vendor = gateway.login_ok(&engineer).await;
    let (code, reason) = refusal(&gateway, &vendor).await;
    assert_eq!(code, "device-not-presented", "{reason}");

    // The same login from a client that presents the device's certificate.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", vendor.token)
            .parse()
            .expect("a header value"),
    );
    let identity = reqwest::Identity::from_pem(identity_pem.as_bytes()).expect("an identity");
    let with_device = Session {
        client: gateway
            .client_builder()
            .identity(identity)
            .default_headers(headers)
            .build()
            .expect("an mTLS client"),
        token: vendor.token.clone(),
        reply: vendor.reply.clone(),
    };
    let reply = open_session(&gateway, &with_device, TARGET).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

/// One answer for `credential` over `client`: right or wrong.
async fn answer_over(
    gateway: &Gateway,
    client: &reqwest::Client,
    credential: &Credential,
    right: bool,
) -> common::Reply {
    let challenge = gateway.challenge(client, &credential.login).await;
    let answer = if right {
        credential.answer(&challenge.matrix)
    } else {
        credential.wrong_answer(&challenge.matrix)
    };
    gateway.answer(client, &challenge.id, &answer).await
}

#[tokio::test]
async fn failures_from_anywhere_do_not_lock_out_the_holder_of_the_lent_device() {
    // Three failures lock; a generous throttle so only the lock-out is tested.
    let gateway = Gateway::serve(
        "[lockout]\nthreshold = 3\n\n[throttle]\nrequests_per_minute = 600\nburst = 100\n",
    );
    let holder = engineer_credential();
    let code = register_device(&gateway).await;
    let (device, _) = enrolled(&gateway, &code).await;
    let status = |gateway: &Gateway| {
        gateway.user_row(&holder.login)["status"]
            .as_str()
            .expect("status is text")
            .to_owned()
    };

    // An outsider, without the device, fails three times: logins without it are locked out.
    let mut failures = Vec::new();
    for _ in 0..3 {
        failures.push(answer_over(&gateway, &gateway.client(), &holder, false).await);
    }
    let refused = answer_over(&gateway, &gateway.client(), &holder, true).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert_eq!(
        refused.body, failures[0].body,
        "a lock-out looks like any failure"
    );
    let said = status(&gateway);
    assert!(said.contains("except on the lent device"), "{said}");

    // The holder, presenting the device's certificate, still logs in.
    let reply = answer_over(&gateway, &device, &holder, true).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // Failures on the device count apart, and lock it too; they look like any other failure,
    // as does an unknown login ID asked from the device.
    let mut on_device = Vec::new();
    for _ in 0..3 {
        on_device.push(answer_over(&gateway, &device, &holder, false).await);
    }
    let refused = answer_over(&gateway, &device, &holder, true).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    for reply in on_device.iter().chain([&refused]) {
        assert_eq!(reply.body, failures[0].body);
    }
    let stranger = Credential::new("nobody-here", &[4, 13, 22, 31, 40, 49, 58, 1], "nobody", 0);
    let unknown = answer_over(&gateway, &device, &stranger, true).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.body, failures[0].body);
    let said = status(&gateway);
    assert!(said.starts_with("locked out ("), "{said}");

    // The audit log tells the two counts apart.
    let auditor = Credential::new("auditor-1", &[3, 12, 21, 30, 39, 48, 57, 62], "audit", 1);
    let code = gateway.add_user(&auditor.login, "Auditor", "auditor", None);
    gateway.register_ok(&code, &auditor).await;
    let auditor = gateway.login_ok(&auditor).await;
    let lockouts = gateway.audit_export(&auditor, "login.lockout").await;
    assert!(lockouts.contains("\"anywhere\""), "{lockouts}");
    assert!(lockouts.contains("\"own-device\""), "{lockouts}");

    // An administrator's unlock clears both.
    gateway.admin_ok(&["user", "unlock", "--login", &holder.login]);
    assert_eq!(status(&gateway), "active");
    let reply = answer_over(&gateway, &gateway.client(), &holder, true).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
