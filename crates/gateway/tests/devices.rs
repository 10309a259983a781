//! Lent devices against the real `hoshu` binary (issue 6): enrolment with a one-time code (a
//! second use refused), posture reports over real mTLS with the issued certificate (compliant
//! and not), and a revoked device refused at once.

mod common;

use common::{Gateway, last_line};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn day(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

const FINGERPRINT: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn report(real_time: bool, signature_age_days: i64) -> Value {
    let now = unix_now();
    json!({
        "fingerprint": FINGERPRINT,
        "os": {"name": "Debian GNU/Linux", "version": "12"},
        "antivirus": [{
            "name": "ClamAV", "running": true, "real_time_protection": real_time,
            "signatures_updated_at": now - signature_age_days * 86_400,
        }],
        "firewall": "on",
        "collected_at": now,
    })
}

/// Registers PC-001 for a new vendor user; the enrolment code.
fn register_device(gateway: &Gateway) -> String {
    gateway.add_user("v-dev", "Device Holder", "vendor", Some("ACME保守"));
    let until = day(30);
    last_line(&gateway.admin_ok(&[
        "device",
        "add",
        "--asset-tag",
        "PC-001",
        "--user",
        "v-dev",
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

async fn send_report(
    client: &reqwest::Client,
    gateway: &Gateway,
    body: &Value,
) -> (StatusCode, Value) {
    let response = client
        .post(gateway.url("/api/v1/devices/report"))
        .json(body)
        .send()
        .await
        .expect("the report is answered");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_device_enrols_once_reports_over_mtls_and_is_refused_once_revoked() {
    let gateway = Gateway::demo();
    let code = register_device(&gateway);
    let key = rcgen::KeyPair::generate().expect("a key pair");
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .and_then(|csr| csr.pem())
        .expect("a CSR");

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
    assert_eq!(list[0]["user"], "v-dev", "{list}");

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
