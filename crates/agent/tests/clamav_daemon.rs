//! Against the real ClamAV daemons (Debian `clamav-daemon`): start clamd and clamonacc on a
//! database built by ClamAV's sigtool, collect, then stop them one by one and watch the
//! verdict change with the reason a vendor would read.
//!
//! When clamd is not installed the test prints why and passes; install it with
//! `apt-get install clamav clamav-daemon`. clamonacc needs fanotify (root); where it cannot
//! start, the real-time part is skipped with a note.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use hoshu_agent::command::HostCommands;
use hoshu_agent::linux::{self, LinuxPaths, parse_cvd_header};
use hoshu_domain::{PosturePolicy, PostureReport, evaluate};

/// A daemon this test started; killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn running(name: &str) -> bool {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .any(|e| fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == name))
}

fn wait_for(what: &str, limit: Duration, ready: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return true;
        }
        sleep(Duration::from_millis(100));
    }
    eprintln!("{what} not ready after {} s", limit.as_secs());
    false
}

fn codes(report: &PostureReport, now: i64) -> Vec<String> {
    evaluate(&PosturePolicy::default(), report, &report.fingerprint, now)
        .reasons
        .iter()
        .map(|r| format!("{}: {r}", r.code()))
        .collect()
}

#[test]
fn stopping_clamav_makes_the_device_non_compliant() {
    if !Path::new("/usr/sbin/clamd").exists() {
        eprintln!("clamd is not installed (apt-get install clamav clamav-daemon); test skipped");
        return;
    }
    if running("clamd") || running("clamonacc") {
        eprintln!("a ClamAV daemon already runs on this machine; test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Read when the test runs: a shared target directory may hold a binary built elsewhere.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    );
    let db = dir.join("tests/data/linux/daily-sigtool-1.4.6.cud");
    fs::copy(&db, root.join("daily.cud")).unwrap();
    let built_at = parse_cvd_header(&fs::read(&db).unwrap()).unwrap().built_at;
    let watched = root.join("watched");
    fs::create_dir(&watched).unwrap();
    let socket: PathBuf = root.join("clamd.sock");
    let config = root.join("clamd.conf");
    fs::write(
        &config,
        format!(
            "DatabaseDirectory {dir}\nLocalSocket {socket}\nForeground yes\nLogFile {dir}/clamd.log\n\
             OnAccessIncludePath {watched}\nOnAccessExcludeRootUID yes\n",
            dir = root.display(),
            socket = socket.display(),
            watched = watched.display(),
        ),
    )
    .unwrap();

    let clamd = Daemon(
        Command::new("/usr/sbin/clamd")
            .arg(format!("--config-file={}", config.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(wait_for("clamd", Duration::from_secs(60), || socket.exists()));

    let paths = LinuxPaths {
        clamav_db_dir: root.to_path_buf(),
        ..LinuxPaths::default()
    };
    let collect = || linux::collect(&paths, &HostCommands, built_at + 3600).unwrap();

    let clamonacc = Command::new("/usr/sbin/clamonacc")
        .arg(format!("--config-file={}", config.display()))
        .args(["--foreground", "--log"])
        .arg(root.join("clamonacc.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Daemon);
    let onacc_up = clamonacc.is_ok()
        && wait_for("clamonacc", Duration::from_secs(20), || {
            collect().antivirus[0].real_time_protection
        });

    let report = collect();
    let clamav = &report.antivirus[0];
    assert!(clamav.running);
    assert_eq!(clamav.signatures_updated_at, Some(built_at));
    assert_eq!(clamav.signature_version.as_deref(), Some("27440"));
    if onacc_up {
        assert_eq!(codes(&report, built_at + 3600), Vec::<String>::new());
        // The same database nine days on.
        let later = linux::collect(&paths, &HostCommands, built_at + 9 * 86_400 + 60).unwrap();
        assert_eq!(
            codes(&later, built_at + 9 * 86_400 + 60),
            [
                "signatures-outdated: ClamAV signatures are 9 days old (limit 3 days); update ClamAV (freshclam)"
            ]
        );
        drop(clamonacc);
        assert!(wait_for(
            "clamonacc to stop",
            Duration::from_secs(10),
            || { !running("clamonacc") }
        ));
    } else {
        eprintln!(
            "clamonacc could not start here (it needs fanotify as root); real-time part skipped"
        );
    }
    assert_eq!(
        codes(&collect(), built_at + 3600),
        [
            "real-time-off: ClamAV on-access scanning is off; start clamonacc (systemctl start clamav-clamonacc)"
        ]
    );

    drop(clamd);
    assert!(wait_for("clamd to stop", Duration::from_secs(10), || {
        !running("clamd")
    }));
    assert_eq!(
        codes(&collect(), built_at + 3600),
        ["antivirus-not-running: ClamAV is not running; start it (systemctl start clamav-daemon)"]
    );
}
