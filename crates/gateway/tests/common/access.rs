//! Set-up of the access model (issue 5) through the admin command line, shared by the tests
//! that need a vendor whose engineers may open sessions.

use super::Gateway;

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A date `days` from today (UTC; the tests stay a day away from any edge).
pub fn day(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

/// Walks `vendor`'s application (already added) from the hearing sheet to devices lent: a
/// briefing, a demo, review, approval, the formal application with a document, a device lent
/// to a user of the vendor who holds only that device (`holder-<asset tag>`).
pub fn to_devices_lent(gateway: &Gateway, vendor: &str, asset_tag: &str) {
    let holder = format!("holder-{asset_tag}");
    gateway.add_user(&holder, "貸与端末 保管者", "vendor", Some(vendor));
    let until = day(30);
    for state in ["briefing-held", "demo", "under-review", "approved"] {
        gateway.admin_ok(&["vendor", "move", "--name", vendor, "--to", state]);
    }
    let doc = gateway.data().join("申請書.pdf");
    std::fs::write(&doc, b"%PDF-1.7\n% formal application\n").expect("document written");
    let doc = doc.to_str().expect("temporary paths are UTF-8");
    gateway.admin_ok(&["vendor", "document", "--name", vendor, "--file", doc]);
    let moves: [&[&str]; 3] = [
        &[
            "vendor",
            "move",
            "--name",
            vendor,
            "--to",
            "formal-application",
        ],
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
