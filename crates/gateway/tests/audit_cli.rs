//! `hoshu audit verify` against a real data directory (DESIGN §7), and the command line's exit
//! codes and error lines (DESIGN §8). Tampering uses the `sqlite3` command-line tool.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Credential, Gateway, hoshu, said, stderr, stdout};

fn verify(data: &Path) -> std::process::Output {
    let data = data.to_str().expect("temporary paths are UTF-8");
    hoshu(&["audit", "verify", "--data", data])
}

/// Runs SQL on the gateway's database with the `sqlite3` tool.
fn sqlite(data: &Path, sql: &str) {
    let output = Command::new("sqlite3")
        .arg(data.join("hoshu.db"))
        .arg(sql)
        .output()
        .expect("the sqlite3 command-line tool is installed (Debian package sqlite3)");
    assert!(output.status.success(), "sqlite3 {sql}: {}", said(&output));
}

/// A demo gateway with a few logins behind it, stopped: its data directory, ready to tamper with.
async fn used_gateway() -> Gateway {
    let mut gateway = Gateway::demo();
    gateway.login_ok(&Credential::demo_vendor()).await;
    let failed = gateway.fail_login(&Credential::demo_admin()).await;
    assert_eq!(failed.status, reqwest::StatusCode::UNAUTHORIZED);
    let intact = verify(gateway.data());
    assert!(
        intact.status.success(),
        "before tampering: {}",
        said(&intact)
    );
    gateway.stop();
    gateway
}

/// Tampers with the stopped gateway's audit log; verification must fail naming `event`.
async fn tampering_is_found(sql: &str, event: i64) {
    let gateway = used_gateway().await;
    sqlite(gateway.data(), sql);
    let output = verify(gateway.data());
    assert_eq!(output.status.code(), Some(1), "{sql}: {}", said(&output));
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        text.contains(&format!("event {event}")),
        "{sql}: event {event} not named: {}",
        said(&output)
    );
}

#[tokio::test]
async fn an_untouched_audit_log_verifies_while_the_gateway_runs_and_after() {
    let mut gateway = Gateway::demo();
    gateway.login_ok(&Credential::demo_admin()).await;
    gateway.fail_login(&Credential::demo_vendor()).await;
    let running = verify(gateway.data());
    assert_eq!(running.status.code(), Some(0), "{}", said(&running));
    assert!(stdout(&running).contains("intact"), "{}", said(&running));

    gateway.stop();
    let stopped = verify(gateway.data());
    assert_eq!(stopped.status.code(), Some(0), "{}", said(&stopped));
}

#[tokio::test]
async fn an_edited_event_is_found() {
    tampering_is_found("UPDATE audit_events SET subject = 'x' WHERE seq = 3;", 3).await;
}

#[tokio::test]
async fn a_deleted_event_is_found() {
    // Event 4 now sits where event 3 belongs; either may be named, but event 3 must be.
    tampering_is_found("DELETE FROM audit_events WHERE seq = 3;", 3).await;
}

#[tokio::test]
async fn reordered_events_are_found() {
    tampering_is_found(
        "BEGIN; UPDATE audit_events SET seq = 1000000 WHERE seq = 2; \
         UPDATE audit_events SET seq = 2 WHERE seq = 4; \
         UPDATE audit_events SET seq = 4 WHERE seq = 1000000; COMMIT;",
        2,
    )
    .await;
}

#[tokio::test]
async fn deleting_the_newest_events_is_found() {
    let gateway = used_gateway().await;
    sqlite(
        gateway.data(),
        "DELETE FROM audit_events WHERE seq >= (SELECT max(seq) - 1 FROM audit_events);",
    );
    let output = verify(gateway.data());
    assert_eq!(output.status.code(), Some(1), "{}", said(&output));
}

#[test]
fn verifying_a_directory_without_a_database_fails_clearly() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = verify(dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", said(&output));
    let message = stderr(&output);
    assert_eq!(message.trim().lines().count(), 1, "{}", said(&output));
    assert!(message.contains("no Hoshu database"), "{}", said(&output));
    assert!(
        !dir.path().join("hoshu.db").exists(),
        "verify created a database"
    );
}

#[test]
fn an_unknown_configuration_key_is_named_in_one_line() {
    for (text, key) in [
        ("[lockout]\nthreshhold = 3\n", "threshhold"),
        ("listen_on = \"127.0.0.1:0\"\n", "listen_on"),
    ] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("hoshu.toml");
        let data = dir.path().join("data");
        let file = format!(
            "data_dir = {}\n{text}",
            serde_json::json!(data.to_str().expect("UTF-8 path"))
        );
        std::fs::write(&path, file).expect("configuration written");
        let path = path.to_str().expect("UTF-8 path");
        let output = hoshu(&["serve", "--config", path]);
        assert_eq!(output.status.code(), Some(1), "{text}: {}", said(&output));
        let message = stderr(&output);
        assert_eq!(
            message.trim().lines().count(),
            1,
            "{text}: {}",
            said(&output)
        );
        assert!(message.contains(key), "{key} not named: {}", said(&output));
        assert!(
            !data.exists(),
            "a refused configuration created its data directory"
        );
    }
}

#[test]
fn usage_errors_exit_with_2() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().to_str().expect("UTF-8 path");
    let without_login = hoshu(&[
        "admin", "--data", data, "user", "add", "--name", "N", "--role", "vendor",
    ]);
    assert_eq!(
        without_login.status.code(),
        Some(2),
        "{}",
        said(&without_login)
    );
    assert!(
        stderr(&without_login).contains("--login"),
        "{}",
        said(&without_login)
    );

    let bad_role = hoshu(&[
        "admin", "--data", data, "user", "add", "--login", "l", "--name", "N", "--role", "boss",
    ]);
    assert_eq!(bad_role.status.code(), Some(2), "{}", said(&bad_role));

    let nowhere = hoshu(&["admin", "user", "list"]);
    assert_eq!(nowhere.status.code(), Some(2), "{}", said(&nowhere));
}

#[test]
fn a_runtime_error_exits_with_1_and_one_line() {
    let gateway = Gateway::demo();
    let output = gateway.admin(&[
        "user", "add", "--login", "v", "--name", "V", "--role", "vendor",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", said(&output));
    let message = stderr(&output);
    assert_eq!(message.trim().lines().count(), 1, "{}", said(&output));
    assert!(message.contains("--vendor"), "{}", said(&output));
}

#[test]
fn admin_with_config_uses_the_organisations_time_zone() {
    // UTC: a lending period ends at midnight UTC, not Japan's (UTC+9, the embedded default).
    let gateway = Gateway::serve("[access]\nutc_offset_hours = 0\n");
    gateway.add_user("keeper", "Keeper", "admin", None);
    let lent = gateway.admin_ok(&[
        "device",
        "add",
        "--asset-tag",
        "PC-7",
        "--user",
        "keeper",
        "--until",
        "2030-06-30",
    ]);
    assert!(lent.contains("until 2030-06-30T23:59:59Z"), "{lent}");
    let data = gateway.data().to_str().expect("UTF-8 path").to_owned();
    let japan = hoshu(&[
        "admin",
        "--data",
        &data,
        "device",
        "add",
        "--asset-tag",
        "PC-8",
        "--user",
        "keeper",
        "--until",
        "2030-06-30",
    ]);
    assert!(
        stdout(&japan).contains("until 2030-06-30T14:59:59Z"),
        "{}",
        said(&japan)
    );
}

#[test]
fn a_refusal_is_printed_in_japanese_under_a_japanese_locale() {
    let gateway = Gateway::demo();
    let data = gateway.data().to_str().expect("UTF-8 path").to_owned();
    let run = |lang: &str| {
        std::process::Command::new(common::BIN)
            .args([
                "admin",
                "--data",
                &data,
                "contract",
                "add",
                "--vendor",
                "no such vendor",
                "--title",
                "t",
                "--from",
                "2030-01-01",
                "--until",
                "2030-12-31",
                "--system",
                "s",
            ])
            .env("LANG", lang)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .output()
            .expect("hoshu runs")
    };
    let ja = run("ja_JP.UTF-8");
    assert_eq!(ja.status.code(), Some(1), "{}", said(&ja));
    assert!(
        stderr(&ja).contains("「no such vendor」という保守業者はありません"),
        "{}",
        said(&ja)
    );
    let en = run("C.UTF-8");
    assert!(
        stderr(&en).contains("no vendor is named \"no such vendor\""),
        "{}",
        said(&en)
    );
}
