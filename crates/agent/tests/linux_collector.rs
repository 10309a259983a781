//! The Linux collector on a fake system in a temporary directory (machine-id, /proc, ClamAV
//! database files with old and new dates), on this machine, and through the binary.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use hoshu_agent::command::Recorded;
use hoshu_agent::linux::{self, CVD_HEADER_BYTES, LinuxPaths};
use hoshu_domain::{FirewallState, PosturePolicy, PostureReport, evaluate};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const MACHINE_ID: &str = "3d1219c7c4c5404aaa1f6d2a48adfda4";

/// A ClamAV database file: the header as sigtool writes it, then (a stand-in for) the payload.
fn write_db(path: &Path, built_at: i64, version: u32) {
    let when = time::OffsetDateTime::from_unix_timestamp(built_at).unwrap();
    let text = when
        .format(time::macros::format_description!(
            "[day] [month repr:short] [year] [hour]-[minute] +0000"
        ))
        .unwrap();
    let mut bytes = format!(
        "ClamAV-VDB:{text}:{version}:2071823:90:5b3e8a0f1c2d4e6f7a8b9c0d1e2f3a4b:sig:raynman:{built_at}"
    )
    .into_bytes();
    bytes.resize(CVD_HEADER_BYTES, b' ');
    bytes.extend(std::iter::repeat_n(0x5a, 4096));
    fs::write(path, bytes).unwrap();
}

struct FakeLinux {
    dir: tempfile::TempDir,
}

impl FakeLinux {
    fn new() -> FakeLinux {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("machine-id"), format!("{MACHINE_ID}\n")).unwrap();
        fs::write(
            root.join("os-release"),
            "NAME=\"Debian GNU/Linux\"\nVERSION=\"12 (bookworm)\"\n",
        )
        .unwrap();
        fs::create_dir_all(root.join("proc/self")).unwrap();
        fs::create_dir_all(root.join("clamav")).unwrap();
        FakeLinux { dir }
    }

    fn process(&self, pid: u32, comm: &str) -> &Self {
        let dir = self.dir.path().join(format!("proc/{pid}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("comm"), format!("{comm}\n")).unwrap();
        self
    }

    fn db(&self, name: &str, built_at: i64, version: u32) -> &Self {
        write_db(
            &self.dir.path().join("clamav").join(name),
            built_at,
            version,
        );
        self
    }

    fn paths(&self) -> LinuxPaths {
        let root = self.dir.path();
        LinuxPaths {
            machine_id: vec![root.join("machine-id")],
            product_uuid: root.join("product_uuid"),
            os_release: vec![root.join("os-release")],
            proc_dir: root.join("proc"),
            clamav_db_dir: root.join("clamav"),
            clamd_binary: root.join("clamd"),
        }
    }

    fn collect(&self) -> PostureReport {
        let nft = Recorded::default().output(
            "nft list ruleset",
            include_str!("data/linux/nft-workstation-drop.txt"),
        );
        linux::collect(&self.paths(), &nft, NOW).unwrap()
    }
}

fn problems(report: &PostureReport) -> Vec<String> {
    evaluate(&PosturePolicy::default(), report, &report.fingerprint, NOW)
        .reasons
        .iter()
        .map(|r| format!("{}: {r}", r.code()))
        .collect()
}

#[test]
fn clamav_running_with_fresh_signatures_is_compliant() {
    let fake = FakeLinux::new();
    fake.process(1, "systemd")
        .process(812, "clamd")
        .process(813, "clamonacc")
        // freshclam downloaded daily.cvd long ago and has kept daily.cld current since.
        .db("main.cvd", NOW - 400 * DAY, 62)
        .db("daily.cvd", NOW - 40 * DAY, 27400)
        .db("daily.cld", NOW - DAY / 2, 27440);
    let report = fake.collect();
    assert_eq!(report.os.name, "Debian GNU/Linux");
    assert_eq!(report.firewall, FirewallState::On);
    assert_eq!(
        report.fingerprint,
        hoshu_agent::fingerprint("linux", &[("machine-id", MACHINE_ID)])
    );
    let clamav = &report.antivirus[0];
    assert_eq!(clamav.name, "ClamAV");
    assert!(clamav.running && clamav.real_time_protection);
    assert_eq!(
        clamav.signatures_updated_at,
        Some(NOW - DAY / 2 - (NOW - DAY / 2) % 60)
    );
    assert_eq!(clamav.signature_version.as_deref(), Some("27440"));
    assert_eq!(problems(&report), Vec::<String>::new());
}

#[test]
fn old_signatures_stopped_daemons_and_no_clamav() {
    let fake = FakeLinux::new();
    fake.process(812, "clamd").process(813, "clamonacc").db(
        "daily.cvd",
        NOW - 9 * DAY - 3600,
        27400,
    );
    assert_eq!(
        problems(&fake.collect()),
        [
            "signatures-outdated: ClamAV signatures are 9 days old (limit 3 days); update ClamAV (freshclam)"
        ]
    );

    // clamd runs, clamonacc does not: no on-access scanning.
    let fake = FakeLinux::new();
    fake.process(812, "clamd").db("daily.cld", NOW - DAY, 27440);
    assert_eq!(
        problems(&fake.collect()),
        [
            "real-time-off: ClamAV on-access scanning is off; start clamonacc (systemctl start clamav-clamonacc)"
        ]
    );

    // Installed (database present) but stopped.
    let fake = FakeLinux::new();
    fake.db("daily.cld", NOW - DAY, 27440);
    assert_eq!(
        problems(&fake.collect()),
        ["antivirus-not-running: ClamAV is not running; start it (systemctl start clamav-daemon)"]
    );

    // Running, but the database header is unreadable.
    let fake = FakeLinux::new();
    fake.process(812, "clamd").process(813, "clamonacc");
    fs::write(fake.dir.path().join("clamav/daily.cld"), b"truncated").unwrap();
    assert_eq!(
        problems(&fake.collect())[0].split(':').next(),
        Some("signature-date-unknown")
    );

    // Not installed at all.
    let fake = FakeLinux::new();
    fake.process(1, "systemd");
    let report = fake.collect();
    assert!(report.antivirus.is_empty());
    assert!(problems(&report)[0].starts_with("no-antivirus: no antivirus running;"));
}

#[test]
fn product_uuid_joins_the_fingerprint_and_machine_id_is_required() {
    let fake = FakeLinux::new();
    let without = fake.collect().fingerprint;
    fs::write(
        fake.dir.path().join("product_uuid"),
        "4C4C4544-0042-3510-8052-B4C04F564433\n",
    )
    .unwrap();
    let with = fake.collect().fingerprint;
    assert_ne!(without, with);
    assert_eq!(
        with,
        hoshu_agent::fingerprint(
            "linux",
            &[
                ("machine-id", MACHINE_ID),
                ("product-uuid", "4c4c4544-0042-3510-8052-b4c04f564433")
            ]
        )
    );

    fs::write(fake.dir.path().join("machine-id"), "uninitialized\n").unwrap();
    let err = linux::collect(&fake.paths(), &Recorded::default(), NOW).unwrap_err();
    assert!(err.to_string().contains("machine-id"), "{err}");
}

#[test]
fn firewall_unknown_without_nft() {
    let fake = FakeLinux::new();
    let report = linux::collect(&fake.paths(), &Recorded::default(), NOW).unwrap();
    assert_eq!(report.firewall, FirewallState::Unknown);
    let failing = Recorded::default().failure(
        "nft list ruleset",
        "netlink: Error: cache initialization failed: Operation not permitted",
    );
    let report = linux::collect(&fake.paths(), &failing, NOW).unwrap();
    assert_eq!(report.firewall, FirewallState::Unknown);
}

/// The real collector stops when the DMI UUID exists but only root may read it; this says
/// so and tells the test to pass without looking further.
#[cfg(target_os = "linux")]
fn needs_root_here() -> bool {
    let path = Path::new("/sys/class/dmi/id/product_uuid");
    let unreadable = path.exists() && fs::read(path).is_err();
    if unreadable {
        eprintln!(
            "{} is readable by root only; run the tests as root; skipped",
            path.display()
        );
    }
    unreadable
}

#[cfg(target_os = "linux")]
fn clamav_installed_here() -> bool {
    Path::new("/var/lib/clamav").exists() || Path::new("/usr/sbin/clamd").exists()
}

/// The real collector on this machine. Where ClamAV is not installed (the build machine),
/// the report lists no product and the default policy says so.
#[cfg(target_os = "linux")]
#[test]
fn collects_on_this_machine() {
    if needs_root_here() {
        return;
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let report = hoshu_agent::collect(now).unwrap();
    report.validate().unwrap();
    assert_eq!(report.collected_at, now);
    // The same machine gives the same fingerprint.
    assert_eq!(
        hoshu_agent::collect(now).unwrap().fingerprint,
        report.fingerprint
    );
    let c = evaluate(&PosturePolicy::default(), &report, &report.fingerprint, now);
    if !clamav_installed_here() {
        assert!(report.antivirus.is_empty(), "{report:?}");
        assert!(!c.compliant);
        assert_eq!(c.reasons[0].code(), "no-antivirus");
        assert!(c.reasons[0].to_string().starts_with("no antivirus running"));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn binary_prints_the_report_and_its_evaluation() {
    use std::process::Command;

    if needs_root_here() {
        return;
    }

    let bin = env!("CARGO_BIN_EXE_hoshu-agent");

    let out = Command::new(bin)
        .args(["report", "--dry-run"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = PostureReport::from_json(&out.stdout).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    fs::write(
        &policy,
        "max_signature_age_days = 2\nfirewall_required = false\n",
    )
    .unwrap();
    let out = Command::new(bin)
        .args(["report", "--dry-run", "--policy"])
        .arg(&policy)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["report"]["fingerprint"], report.fingerprint.as_str());
    let compliant = json["compliance"]["compliant"].as_bool().unwrap();
    assert_eq!(out.status.code(), Some(if compliant { 0 } else { 1 }));
    if !clamav_installed_here() {
        assert_eq!(json["compliance"]["reasons"][0]["code"], "no-antivirus");
    }

    // Another device's enrolment: the fingerprint rule fails.
    let out = Command::new(bin)
        .args([
            "report",
            "--dry-run",
            "--enrolled-fingerprint",
            &"0".repeat(64),
            "--policy",
        ])
        .arg(&policy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["compliance"]["reasons"][0]["code"],
        "fingerprint-mismatch"
    );

    // A misspelt policy field is refused, not ignored.
    fs::write(&policy, "realtime_required = false\n").unwrap();
    let out = Command::new(bin)
        .args(["report", "--dry-run", "--policy"])
        .arg(&policy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown field `realtime_required`"),
        "{stderr}"
    );

    // Without --dry-run the report is sent, which needs the gateway.
    let out = Command::new(bin).args(["report"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--gateway"));
}
