//! Linux: identity from `/etc/machine-id` and the DMI `product_uuid`, the OS from
//! `os-release`, ClamAV from its processes and the header of its daily signature database,
//! the firewall from `nft list ruleset`.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use hoshu_domain::{AntivirusProduct, FirewallState, OsInfo, PostureReport};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::command::Commands;
use crate::{CollectError, bounded_text, parse_uuid, report};

/// Where the collector looks; tests point it at a temporary directory.
#[derive(Debug, Clone)]
pub struct LinuxPaths {
    pub machine_id: Vec<PathBuf>,
    pub product_uuid: PathBuf,
    pub os_release: Vec<PathBuf>,
    pub proc_dir: PathBuf,
    pub clamav_db_dir: PathBuf,
    pub clamd_binary: PathBuf,
}

impl Default for LinuxPaths {
    fn default() -> Self {
        LinuxPaths {
            // systemd's location first; D-Bus's older copy on systems without systemd.
            machine_id: vec!["/etc/machine-id".into(), "/var/lib/dbus/machine-id".into()],
            product_uuid: "/sys/class/dmi/id/product_uuid".into(),
            os_release: vec!["/etc/os-release".into(), "/usr/lib/os-release".into()],
            proc_dir: "/proc".into(),
            clamav_db_dir: "/var/lib/clamav".into(),
            clamd_binary: "/usr/sbin/clamd".into(),
        }
    }
}

/// The product name the report uses for ClamAV (the policy's advice keys on it).
pub const CLAMAV: &str = "ClamAV";

/// A machine ID: 32 lowercase hex digits (machine-id(5)). `None` for anything else, including
/// "uninitialized" (first boot) and all zeros.
pub fn parse_machine_id(text: &str) -> Option<String> {
    let id = text.trim();
    let ok = id.len() == 32
        && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && id.bytes().any(|b| b != b'0');
    ok.then(|| id.to_owned())
}

/// NAME and VERSION (else VERSION_ID) of os-release(5); shell-style quoting removed.
pub fn parse_os_release(text: &str) -> OsInfo {
    let value = |key: &str| {
        text.lines().find_map(|line| {
            let (k, v) = line.trim().split_once('=')?;
            (k == key).then(|| unquote(v)).filter(|v| !v.is_empty())
        })
    };
    OsInfo {
        name: bounded_text(&value("NAME").unwrap_or_else(|| "Linux".to_owned())),
        version: bounded_text(
            &value("VERSION")
                .or_else(|| value("VERSION_ID"))
                .unwrap_or_else(|| "unknown".to_owned()),
        ),
    }
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(quote).and_then(|s| s.strip_suffix(quote)) {
            // os-release(5): in double quotes, `\` escapes `"`, `\`, `$` and backtick.
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match (quote, c) {
                    ('"', '\\') => out.extend(chars.next()),
                    _ => out.push(c),
                }
            }
            return out;
        }
    }
    v.to_owned()
}

/// Which ClamAV programs run, from process names (`ps -eo comm`, or `/proc/<pid>/comm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClamavProcesses {
    /// The scanning daemon.
    pub clamd: bool,
    /// The on-access (real-time) scanner, which hands files opened to clamd.
    pub clamonacc: bool,
}

pub fn clamav_processes<'a>(names: impl IntoIterator<Item = &'a str>) -> ClamavProcesses {
    let mut found = ClamavProcesses::default();
    for name in names {
        match name.trim() {
            "clamd" => found.clamd = true,
            "clamonacc" => found.clamonacc = true,
            _ => {}
        }
    }
    found
}

/// What the 512-byte header of a ClamAV database (`.cvd`, `.cld`, `.cud`) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CvdHeader {
    /// When the database was built, Unix seconds.
    pub built_at: i64,
    pub version: u32,
}

/// The header's size; a database file starts with it, padded with spaces.
pub const CVD_HEADER_BYTES: usize = 512;

// The build time as sigtool writes it: `strftime("%d %b %Y %H-%M %z")`, e.g.
// "16 Apr 2020 07-58 -0400" (a hyphen, not a colon, since colons separate the fields).
const CVD_TIME: &[BorrowedFormatItem<'static>] = format_description!(
    "[day] [month repr:short] [year] [hour]-[minute] [offset_hour sign:mandatory][offset_minute]"
);

/// Parses `ClamAV-VDB:<build time>:<version>:<signatures>:<level>:<md5>:<dsig>:<builder>:<stime>`.
/// The build time text is used; the trailing `stime` (Unix seconds) when the text does not
/// parse.
pub fn parse_cvd_header(bytes: &[u8]) -> Result<CvdHeader, String> {
    let head = &bytes[..bytes.len().min(CVD_HEADER_BYTES)];
    let text = std::str::from_utf8(head).map_err(|_| "header is not ASCII".to_owned())?;
    let fields: Vec<&str> = text.trim_end_matches([' ', '\0']).split(':').collect();
    if fields.first() != Some(&"ClamAV-VDB") || fields.len() < 3 {
        return Err("not a ClamAV database header (no \"ClamAV-VDB:\")".to_owned());
    }
    let version = fields[2]
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("database version {:?} is not a number", fields[2]))?;
    let from_text = OffsetDateTime::parse(fields[1].trim(), CVD_TIME)
        .ok()
        .map(|t| t.unix_timestamp());
    let from_stime = fields
        .get(8)
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|&t| t > 0);
    let built_at = from_text
        .or(from_stime)
        .ok_or_else(|| format!("build time {:?} does not parse", fields[1]))?;
    Ok(CvdHeader { built_at, version })
}

/// The firewall state from `nft list ruleset`: on when any base chain's policy is drop or any
/// chain holds a rule; off when there is no table, or only chains that accept everything
/// (Debian's default `/etc/nftables.conf`).
pub fn parse_nft_ruleset(text: &str) -> FirewallState {
    let mut depth = 0usize;
    let mut in_chain = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if depth == 1 && line.starts_with("chain ") && line.ends_with('{') {
            in_chain = true;
        } else if depth == 2 && in_chain && line != "}" {
            if line.contains("policy drop") {
                return FirewallState::On;
            }
            // The chain's own settings, not rules.
            let header = ["type ", "policy ", "comment ", "devices ", "device "]
                .iter()
                .any(|p| line.starts_with(p));
            if !header {
                return FirewallState::On;
            }
        }
        let opens = line.matches('{').count();
        let closes = line.matches('}').count();
        depth = (depth + opens).saturating_sub(closes);
        if depth < 2 {
            in_chain = false;
        }
    }
    FirewallState::Off
}

/// Reads a small file whole. `Ok(None)` when it does not exist.
fn read_small(path: &Path, limit: usize) -> Result<Option<Vec<u8>>, CollectError> {
    let shown = || path.display().to_string();
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return Err(CollectError::NeedsRoot { path: shown() });
        }
        Err(source) => {
            return Err(CollectError::Read {
                path: shown(),
                source,
            });
        }
    };
    let mut buf = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|source| CollectError::Read {
            path: shown(),
            source,
        })?;
    if buf.len() > limit {
        return Err(CollectError::TooLarge {
            path: shown(),
            limit,
        });
    }
    Ok(Some(buf))
}

/// Names of running processes from `/proc/<pid>/comm`. A process that exits while we look is
/// skipped.
fn process_names(proc_dir: &Path) -> Result<Vec<String>, CollectError> {
    // More than any pid_max allows; a bound on the loop, not a limit anyone reaches.
    const MAX_PROCESSES: usize = 4 * 1024 * 1024;
    let entries = fs::read_dir(proc_dir).map_err(|source| CollectError::Read {
        path: proc_dir.display().to_string(),
        source,
    })?;
    let mut names = Vec::new();
    for entry in entries.take(MAX_PROCESSES).flatten() {
        let file_name = entry.file_name();
        let is_pid = file_name
            .to_str()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !is_pid {
            continue;
        }
        // comm is at most 16 bytes (TASK_COMM_LEN).
        if let Ok(Some(comm)) = read_small(&entry.path().join("comm"), 64) {
            names.push(String::from_utf8_lossy(&comm).trim().to_owned());
        }
    }
    Ok(names)
}

/// The newest daily database in `dir`: freshclam keeps `daily.cvd` (downloaded whole) or
/// `daily.cld` (updated incrementally); `daily.cud` is the unsigned form some mirrors serve.
/// `main.cvd` is rebuilt rarely by design, so its date says nothing about currency.
fn newest_daily(dir: &Path) -> (bool, Option<CvdHeader>) {
    let mut exists = false;
    let mut newest: Option<CvdHeader> = None;
    for name in ["daily.cvd", "daily.cld", "daily.cud"] {
        let Ok(file) = fs::File::open(dir.join(name)) else {
            continue;
        };
        exists = true;
        let mut head = Vec::with_capacity(CVD_HEADER_BYTES);
        if file
            .take(CVD_HEADER_BYTES as u64)
            .read_to_end(&mut head)
            .is_err()
        {
            continue;
        }
        if let Ok(header) = parse_cvd_header(&head)
            && newest.is_none_or(|n| header.built_at > n.built_at)
        {
            newest = Some(header);
        }
    }
    (exists, newest)
}

/// ClamAV as the report shows it, or `None` when it is not installed (no daemon binary, no
/// process, no daily database).
pub fn clamav_product(
    processes: ClamavProcesses,
    installed: bool,
    daily: Option<CvdHeader>,
) -> Option<AntivirusProduct> {
    if !installed && !processes.clamd && !processes.clamonacc && daily.is_none() {
        return None;
    }
    Some(AntivirusProduct {
        name: CLAMAV.to_owned(),
        running: processes.clamd,
        // clamonacc only asks clamd; without clamd nothing is scanned on access.
        real_time_protection: processes.clamd && processes.clamonacc,
        signatures_updated_at: daily.map(|d| d.built_at),
        signatures_up_to_date: None,
        signature_version: daily.map(|d| d.version.to_string()),
    })
}

/// Collects a report on a Linux system.
pub fn collect(
    paths: &LinuxPaths,
    commands: &dyn Commands,
    now: i64,
) -> Result<PostureReport, CollectError> {
    // Identity. The machine ID is required; the DMI UUID is added where the hardware has one
    // (not in most containers). Unreadable (not root) is an error rather than a silent
    // omission, which would change the fingerprint between root and other users.
    let mut machine_id = None;
    for path in &paths.machine_id {
        if let Some(bytes) = read_small(path, 256)? {
            machine_id = parse_machine_id(&String::from_utf8_lossy(&bytes));
            if machine_id.is_some() {
                break;
            }
        }
    }
    let machine_id = machine_id.ok_or_else(|| {
        CollectError::NoIdentifier("no valid /etc/machine-id (run systemd-machine-id-setup)".into())
    })?;
    let product_uuid = read_small(&paths.product_uuid, 256)?
        .and_then(|bytes| parse_uuid(&String::from_utf8_lossy(&bytes)));
    let mut ids = vec![("machine-id", machine_id.as_str())];
    if let Some(uuid) = &product_uuid {
        ids.push(("product-uuid", uuid));
    }

    let mut os = None;
    for path in &paths.os_release {
        if let Some(bytes) = read_small(path, 64 * 1024)? {
            os = Some(parse_os_release(&String::from_utf8_lossy(&bytes)));
            break;
        }
    }
    let os = os.unwrap_or_else(|| parse_os_release(""));

    let names = process_names(&paths.proc_dir)?;
    let processes = clamav_processes(names.iter().map(String::as_str));
    let (daily_exists, daily) = newest_daily(&paths.clamav_db_dir);
    let installed = daily_exists || paths.clamd_binary.exists();
    let antivirus = clamav_product(processes, installed, daily)
        .into_iter()
        .collect();

    // No nft, or not allowed to ask (not root): unknown, and the policy decides.
    let firewall = match commands.run("nft", &["list", "ruleset"]) {
        Ok(out) => parse_nft_ruleset(&String::from_utf8_lossy(&out)),
        Err(_) => FirewallState::Unknown,
    };

    report("linux", &ids, os, antivirus, firewall, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> String {
        String::from_utf8(crate::sample("linux", name)).unwrap()
    }

    #[test]
    fn machine_ids() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "3d1219c7c4c5404aaa1f6d2a48adfda4\n",
                Some("3d1219c7c4c5404aaa1f6d2a48adfda4"),
            ),
            ("uninitialized\n", None),
            ("00000000000000000000000000000000\n", None),
            ("3D1219C7C4C5404AAA1F6D2A48ADFDA4\n", None),
            ("3d1219c7c4c5404aaa1f6d2a48adfda\n", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_machine_id(text).as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn os_release_recorded_on_debian_12() {
        let os = parse_os_release(&data("os-release-debian12"));
        assert_eq!(os.name, "Debian GNU/Linux");
        assert_eq!(os.version, "12 (bookworm)");

        let os = parse_os_release("NAME='Ubuntu'\nVERSION_ID=\"24.04\"\n");
        assert_eq!((os.name.as_str(), os.version.as_str()), ("Ubuntu", "24.04"));
        let os = parse_os_release("NAME=\"A \\\"quoted\\\" name\"\n");
        assert_eq!(os.name, "A \"quoted\" name");
        assert_eq!(os.version, "unknown");
        let os = parse_os_release("");
        assert_eq!(
            (os.name.as_str(), os.version.as_str()),
            ("Linux", "unknown")
        );
    }

    #[test]
    fn clamav_processes_from_ps() {
        // Both recorded here with `ps -eo comm`: before ClamAV was installed, and with clamd
        // and clamonacc (ClamAV 1.4.6, Debian 12) running.
        assert_eq!(
            clamav_processes(data("ps-comm-no-clamav.txt").lines()),
            ClamavProcesses::default()
        );
        assert_eq!(
            clamav_processes(data("ps-comm-clamd-clamonacc.txt").lines()),
            ClamavProcesses {
                clamd: true,
                clamonacc: true
            }
        );
        let clamd_only = data("ps-comm-clamd-clamonacc.txt").replace("clamonacc\n", "");
        assert_eq!(
            clamav_processes(clamd_only.lines()),
            ClamavProcesses {
                clamd: true,
                clamonacc: false
            }
        );
        // Names that merely contain the word are not the daemons.
        assert_eq!(
            clamav_processes(["clamdscan", "clamd-helper", "freshclam"]),
            ClamavProcesses::default()
        );
    }

    /// A database header as sigtool writes it, padded to 512 bytes.
    pub(crate) fn cvd(text_time: &str, version: u32, stime: i64) -> Vec<u8> {
        let mut header = format!(
            "ClamAV-VDB:{text_time}:{version}:2067612:90:0a8f8c5cbd9b0d7e1f2a3b4c5d6e7f80:\
             sig:raynman:{stime}"
        )
        .into_bytes();
        header.resize(CVD_HEADER_BYTES, b' ');
        header.extend_from_slice(b"\x1f\x8b\x08\x00 payload follows");
        header
    }

    #[test]
    fn cvd_headers() {
        // 16 Apr 2020 07:58 at -04:00 is 11:58 UTC.
        let h = parse_cvd_header(&cvd("16 Apr 2020 07-58 -0400", 25784, 1587038280)).unwrap();
        assert_eq!(
            h,
            CvdHeader {
                built_at: 1_587_038_280,
                version: 25784
            }
        );
        // The text wins over stime; stime is used when the text does not parse.
        let h = parse_cvd_header(&cvd("01 Jan 2026 00-00 +0000", 27870, 5)).unwrap();
        assert_eq!(h.built_at, 1_767_225_600);
        let h = parse_cvd_header(&cvd("sometime", 27870, 1_767_225_600)).unwrap();
        assert_eq!(h.built_at, 1_767_225_600);

        // Built here by ClamAV 1.4.6's own `sigtool --unsigned --build=daily.cud` from a
        // two-signature database: "ClamAV-VDB:26 Nov 2026 04-41 +0000:27440:2:216:…:1795668084".
        let real = crate::sample("linux", "daily-sigtool-1.4.6.cud");
        assert_eq!(
            parse_cvd_header(&real).unwrap(),
            CvdHeader {
                built_at: 1_795_668_060,
                version: 27440
            }
        );

        for bad in [
            &b"PK\x03\x04 not a database"[..],
            b"ClamAV-VDB:",
            b"ClamAV-VDB:16 Apr 2020 07-58 -0400:x:1",
            b"ClamAV-VDB:never:25784:1:90:x:x:x:0",
            &[0xff; 512],
        ] {
            assert!(parse_cvd_header(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nft_rulesets_recorded_here() {
        // Recorded with nftables 1.0.6 (Debian 12) in fresh network namespaces
        // (`unshare -n`), loading the rulesets named.
        let cases = [
            ("nft-empty.txt", FirewallState::Off),
            ("nft-debian-default-accept.txt", FirewallState::Off),
            ("nft-workstation-drop.txt", FirewallState::On),
            ("nft-accept-with-rules.txt", FirewallState::On),
        ];
        for (file, want) in cases {
            assert_eq!(parse_nft_ruleset(&data(file)), want, "{file}");
        }
    }

    #[test]
    fn nft_sets_and_comments_are_not_rules() {
        let text = "# Warning: table ip filter is managed by iptables-nft, do not touch!\n\
            table inet f {\n\
            \tset blocked {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1, 10.0.0.2,\n\
            \t\t\t     10.0.0.3 }\n\t}\n\
            \tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\
            \t\tcomment \"accept all\"\n\t}\n\
            \tchain user {\n\t}\n}\n";
        assert_eq!(parse_nft_ruleset(text), FirewallState::Off);
        let with_rule = text.replace("\tchain user {\n\t}", "\tchain user {\n\t\tdrop\n\t}");
        assert_eq!(parse_nft_ruleset(&with_rule), FirewallState::On);
    }
}
