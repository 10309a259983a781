//! Set-up of the access model (issue 5) through the admin command line, shared by the tests
//! that need a vendor whose engineers may open sessions.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::Gateway;

/// The hardware fingerprint the test devices enrol with and report.
pub const FINGERPRINT: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A posture report of a Debian device with ClamAV running, its real-time protection on or off,
/// signatures `signature_age_days` old, collected at `collected_at` (Unix seconds).
pub fn posture_report(real_time: bool, signature_age_days: i64, collected_at: i64) -> Value {
    json!({
        "fingerprint": FINGERPRINT,
        "os": {"name": "Debian GNU/Linux", "version": "12"},
        "antivirus": [{
            "name": "ClamAV", "running": true, "real_time_protection": real_time,
            "signatures_updated_at": unix_now() - signature_age_days * 86_400,
        }],
        "firewall": "on",
        "collected_at": collected_at,
    })
}

/// `POST /api/v1/devices/report` with `client` (mTLS with the device's certificate, or not):
/// the status and the verdict.
pub async fn send_report(
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

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A date `days` from today (UTC; the tests stay a day away from any edge).
pub fn day(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

/// Walks `vendor`'s application (already added) from the hearing sheet to the formal
/// application: a briefing, a demo, review, approval, the formal application with a document.
pub fn to_formal_application(gateway: &Gateway, vendor: &str) {
    for state in ["briefing-held", "demo", "under-review", "approved"] {
        gateway.admin_ok(&["vendor", "move", "--name", vendor, "--to", state]);
    }
    let doc = gateway.data().join("申請書.pdf");
    std::fs::write(&doc, b"%PDF-1.7\n% formal application\n").expect("document written");
    let doc = doc.to_str().expect("temporary paths are UTF-8");
    gateway.admin_ok(&["vendor", "document", "--name", vendor, "--file", doc]);
    gateway.admin_ok(&[
        "vendor",
        "move",
        "--name",
        vendor,
        "--to",
        "formal-application",
    ]);
}

/// Walks `vendor`'s application (already added) from the hearing sheet to devices lent: a
/// briefing, a demo, review, approval, the formal application with a document, a device lent
/// to a user of the vendor who holds only that device (`holder-<asset tag>`).
pub fn to_devices_lent(gateway: &Gateway, vendor: &str, asset_tag: &str) {
    let holder = format!("holder-{asset_tag}");
    gateway.add_user(&holder, "貸与端末 保管者", "vendor", Some(vendor));
    let until = day(30);
    to_formal_application(gateway, vendor);
    let moves: [&[&str]; 2] = [
        &[
            "vendor",
            "lend",
            "--name",
            vendor,
            "--asset-tag",
            asset_tag,
            "--user",
            &holder,
            "--until",
            &until,
        ],
        &["vendor", "move", "--name", vendor, "--to", "devices-lent"],
    ];
    for args in moves {
        gateway.admin_ok(args);
    }
}

/// A contract of `vendor` for `system` from yesterday for a year, then the application active.
pub fn activate(gateway: &Gateway, vendor: &str, system: &str) {
    let (from, until) = (day(-1), day(365));
    gateway.admin_ok(&[
        "contract",
        "add",
        "--vendor",
        vendor,
        "--title",
        "保守契約",
        "--from",
        &from,
        "--until",
        &until,
        "--system",
        system,
    ]);
    gateway.admin_ok(&["vendor", "move", "--name", vendor, "--to", "active"]);
}
