//! Lent devices on the pages and in the application flow, against the real `hoshu` binary: an
//! administrator lends a device to a vendor's engineer on the vendor page (which is the "devices
//! lent" step), sees its enrolment, last report and posture with the reasons, sets the vendor's
//! own posture rules from the command line, and revokes it; the engineer sees the device and
//! what to fix on the portal, in their language. Also: the PKCS#12 the agent writes, read by
//! OpenSSL, presents the device over mTLS.

mod common;

use common::access::{FINGERPRINT, day, posture_report, unix_now};
use common::{Credential, Gateway, Reply, Session, last_line};
use reqwest::StatusCode;
use serde_json::{Value, json};

const VENDOR: &str = "ACME保守";

/// The value of the first `<input … name="NAME" value="…">` in `html`.
fn hidden_input(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// The text of the element with `id` (up to its first closing tag).
fn element<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("#{id} on the page: {html}"));
    let rest = &html[start..];
    &rest[rest.find('>').expect("the tag ends") + 1..]
}

/// The row of the device table for `asset_tag`.
fn device_row<'a>(html: &'a str, asset_tag: &str) -> &'a str {
    let start = html
        .find(&format!("data-asset-tag=\"{asset_tag}\""))
        .unwrap_or_else(|| panic!("a row for {asset_tag}: {html}"));
    let row = &html[start..];
    &row[..row.find("</tr>").expect("the row ends")]
}

async fn get(session: &Session, gateway: &Gateway, path: &str, lang: &str) -> Reply {
    let response = session
        .client
        .get(gateway.url(path))
        .header("Accept-Language", lang)
        .send()
        .await
        .expect("GET answered");
    Reply::read(response).await
}

async fn post_form(
    session: &Session,
    gateway: &Gateway,
    path: &str,
    form: &[(&str, &str)],
) -> Reply {
    let response = session
        .client
        .post(gateway.url(path))
        .form(form)
        .send()
        .await
        .expect("POST answered");
    Reply::read(response).await
}

fn report(signature_age_days: i64) -> Value {
    posture_report(true, signature_age_days, unix_now())
}

/// The vendor added and walked to the formal application (a document attached).
fn to_formal_application(gateway: &Gateway) {
    gateway.admin_ok(&[
        "vendor",
        "add",
        "--name",
        VENDOR,
        "--contacts",
        "山田 03-1234-5678",
    ]);
    common::access::to_formal_application(gateway, VENDOR);
}

fn vendor_id(gateway: &Gateway) -> i64 {
    let list: Value = serde_json::from_str(&gateway.admin_ok(&["vendor", "list", "--json"]))
        .expect("vendor list --json is JSON");
    list.as_array()
        .and_then(|vendors| vendors.iter().find(|v| v["name"] == VENDOR))
        .and_then(|v| v["id"].as_i64())
        .expect("the vendor is listed")
}

#[tokio::test]
async fn the_vendor_page_lends_devices_shows_their_posture_and_revokes_them() {
    let gateway = Gateway::demo();
    to_formal_application(&gateway);
    let id = vendor_id(&gateway);
    let page_path = format!("/admin/vendors/{id}");
    let admin = gateway.login_ok(&Credential::demo_admin()).await;

    // No user yet: the page says devices are lent to the vendor's users.
    let page = get(&admin, &gateway, &page_path, "ja").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("id=\"lend-needs-users\""),
        "{}",
        page.body
    );
    let err = gateway.admin(&["vendor", "move", "--name", VENDOR, "--to", "devices-lent"]);
    assert!(!err.status.success(), "no device lent yet");

    let engineer = Credential::new("acme-eng", &[2, 11, 20, 29, 38, 47, 56, 61], "acme", 2);
    let code = gateway.add_user(&engineer.login, "技術 一郎", "vendor", Some(VENDOR));
    gateway.register_ok(&code, &engineer).await;

    // Lending by the form: the enrolment code is shown once, with the agent's command.
    let page = get(&admin, &gateway, &page_path, "ja").await;
    assert!(
        page.body.contains("option value=\"acme-eng\""),
        "{}",
        page.body
    );
    let csrf = hidden_input(&page.body, "csrf").expect("the page's forms carry a csrf token");
    let until = day(30);
    let lend_path = format!("{page_path}/devices");
    let lend = [
        ("csrf", csrf.as_str()),
        ("asset_tag", "PC-001"),
        ("user", "acme-eng"),
        ("until", until.as_str()),
    ];
    let without_token = post_form(&admin, &gateway, &lend_path, &lend[1..]).await;
    assert_eq!(
        without_token.status,
        StatusCode::FORBIDDEN,
        "CSRF-protected"
    );
    let lent = post_form(&admin, &gateway, &lend_path, &lend).await;
    assert_eq!(lent.status, StatusCode::OK, "{}", lent.body);
    let enrolment_code = element(&lent.body, "enrolment-code");
    let enrolment_code =
        enrolment_code[..enrolment_code.find('<').expect("the code ends")].to_owned();
    assert!(
        lent.body.contains(&format!("--code {enrolment_code}"))
            && lent
                .body
                .contains(&format!("--gateway {}/", gateway.origin())),
        "{}",
        lent.body
    );
    let again = post_form(&admin, &gateway, &lend_path, &lend).await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "one asset tag, one device"
    );

    // Lending is the flow's step now.
    gateway.admin_ok(&["vendor", "move", "--name", VENDOR, "--to", "devices-lent"]);
    let page = get(&admin, &gateway, &page_path, "ja").await;
    let row = device_row(&page.body, "PC-001");
    assert!(row.contains("data-state=\"awaiting-enrolment\""), "{row}");
    assert!(
        row.contains("acme-eng") && row.contains("登録待ち"),
        "{row}"
    );
    assert!(
        !page.body.contains(&enrolment_code),
        "the code is shown only once"
    );

    // Enrolled, then a report with 9-day-old signatures (limit 3).
    let identity_pem = enrol(&gateway, &enrolment_code).await;
    let device = device_client(&gateway, &identity_pem);
    let verdict = send_report(&device, &gateway, &report(9)).await;
    assert_eq!(verdict["compliant"], false, "{verdict}");

    let page = get(&admin, &gateway, &page_path, "ja").await;
    let row = device_row(&page.body, "PC-001");
    assert!(row.contains("data-state=\"enrolled\""), "{row}");
    assert!(row.contains("data-compliant=\"false\""), "{row}");
    assert!(
        row.contains("ウイルス定義が9日古い") && row.contains("ClamAVを更新してください"),
        "the reason in Japanese: {row}"
    );
    let page = get(&admin, &gateway, &page_path, "en").await;
    let row = device_row(&page.body, "PC-001");
    assert!(
        row.contains("signatures are 9 days old") && row.contains("update ClamAV"),
        "the reason in English: {row}"
    );

    // The engineer's portal: their device and what to fix, in their language.
    let vendor = gateway.login_ok(&engineer).await;
    let portal = get(&vendor, &gateway, "/", "ja").await;
    let mine = element(&portal.body, "your-devices");
    assert!(
        mine.contains("PC-001") && mine.contains("ウイルス定義が9日古い"),
        "{mine}"
    );
    let portal = get(&vendor, &gateway, "/", "en").await;
    assert!(
        element(&portal.body, "your-devices").contains("9 days old"),
        "{}",
        portal.body
    );

    // The vendor's own rule: signatures up to 10 days old. The same report now passes, on
    // the page at once and for the next report.
    let set = gateway.admin_ok(&[
        "vendor",
        "posture",
        "--vendor",
        VENDOR,
        "--max-signature-age-days",
        "10",
    ]);
    assert!(set.contains("max_signature_age_days = 10"), "{set}");
    let page = get(&admin, &gateway, &page_path, "en").await;
    assert!(
        device_row(&page.body, "PC-001").contains("data-compliant=\"true\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("data-rule=\"max_signature_age_days\" data-vendor=\"true\">10"),
        "the rule is shown as the vendor's: {}",
        page.body
    );
    assert_eq!(
        send_report(&device, &gateway, &report(9)).await["compliant"],
        true
    );
    assert_eq!(
        send_report(&device, &gateway, &report(11)).await["compliant"],
        false
    );
    gateway.admin_ok(&["vendor", "posture", "--vendor", VENDOR, "--clear"]);
    let page = get(&admin, &gateway, &page_path, "en").await;
    assert!(page.body.contains("id=\"posture-global\""), "{}", page.body);

    // Revoked by the form: the certificate stops working at once.
    let csrf = hidden_input(&page.body, "csrf").expect("a csrf token");
    let revoke_path = format!("{page_path}/devices/revoke");
    let revoked = post_form(
        &admin,
        &gateway,
        &revoke_path,
        &[("csrf", csrf.as_str()), ("asset_tag", "PC-001")],
    )
    .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    let page = get(&admin, &gateway, &page_path, "en").await;
    assert!(
        device_row(&page.body, "PC-001").contains("data-state=\"revoked\""),
        "{}",
        page.body
    );
    let status = device
        .get(gateway.url("/api/v1/devices/status"))
        .send()
        .await
        .expect("answered");
    assert_eq!(status.status(), StatusCode::FORBIDDEN);

    // Every change is in the audit chain.
    let kinds: Vec<String> = common::audit_rows(gateway.data())
        .iter()
        .filter_map(|row| row["kind"].as_str().map(str::to_owned))
        .collect();
    for kind in [
        "device.add",
        "device.enrol",
        "vendor.posture",
        "device.revoke",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

/// Enrols a new key with `code`; the certificate and key as one PEM.
async fn enrol(gateway: &Gateway, code: &str) -> String {
    let key = rcgen::KeyPair::generate().expect("a key pair");
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .and_then(|csr| csr.pem())
        .expect("a CSR");
    let response = gateway
        .bare_client()
        .post(gateway.url("/api/v1/devices/enroll"))
        .json(&json!({"code": code, "csr_pem": csr, "fingerprint": FINGERPRINT}))
        .send()
        .await
        .expect("the enrolment is answered");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    let certificate = body["certificate_pem"].as_str().expect("a certificate");
    format!("{certificate}\n{}", key.serialize_pem())
}

fn device_client(gateway: &Gateway, identity_pem: &str) -> reqwest::Client {
    let identity = reqwest::Identity::from_pem(identity_pem.as_bytes()).expect("an identity");
    gateway
        .client_builder()
        .identity(identity)
        .build()
        .expect("an mTLS client")
}

/// The verdict on a report the gateway accepted.
async fn send_report(client: &reqwest::Client, gateway: &Gateway, body: &Value) -> Value {
    let (status, verdict) = common::access::send_report(client, gateway, body).await;
    assert_eq!(status, StatusCode::OK);
    verdict
}

/// The agent's enrolment writes device.p12; OpenSSL opens it with the password, and the key
/// and certificate inside present the device over mTLS, as a browser that imported it would.
#[tokio::test]
async fn the_agents_pkcs12_presents_the_enrolled_device() {
    use hoshu_agent::enrol::{self, DeviceFiles};

    let gateway = Gateway::demo();
    gateway.admin_ok(&["vendor", "add", "--name", VENDOR, "--contacts", "山田"]);
    gateway.add_user("acme-eng", "技術 一郎", "vendor", Some(VENDOR));
    let until = day(30);
    let code = last_line(&gateway.admin_ok(&[
        "vendor",
        "lend",
        "--name",
        VENDOR,
        "--asset-tag",
        "PC-002",
        "--user",
        "acme-eng",
        "--until",
        &until,
    ]));
    let gateway_ca = std::fs::read(gateway.data().join("tls").join("cert.pem"))
        .expect("the gateway's certificate");
    let client = enrol::client(Some(&gateway_ca), None).expect("a client");
    let base = gateway.url("");
    let enrolled = enrol::enroll(&client, &base, &code, FINGERPRINT)
        .await
        .expect("enrolled");
    let dir = tempfile::tempdir().expect("a directory");
    let files = DeviceFiles::in_dir(dir.path());
    files.store(&enrolled).expect("stored");
    let password = enrol::new_pkcs12_password();
    files.write_pkcs12(&password).expect("device.p12 written");

    let out = std::process::Command::new("openssl")
        .args(["pkcs12", "-in"])
        .arg(&files.pkcs12)
        .args(["-nodes", "-passin", &format!("pass:{password}")])
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = String::from_utf8(out.stdout).expect("PEM is ASCII");
    assert!(
        pem.replace(" = ", "=").contains("subject=CN=PC-002"),
        "{pem}"
    );
    let from_p12 = device_client(&gateway, &pem);
    let status = from_p12
        .get(gateway.url("/api/v1/devices/status"))
        .send()
        .await
        .expect("answered");
    assert_eq!(status.status(), StatusCode::OK);
    let status: Value = status.json().await.expect("JSON");
    assert_eq!(status["asset_tag"], "PC-002", "{status}");
}
