//! hoshu-agent: collects a lent device's posture (DESIGN §6) into a
//! [`hoshu_domain::PostureReport`].
//!
//! Each operating system has a module of pure parsers over the outputs of its stable
//! interfaces, tested on recorded outputs, and a collector that asks [`command::Commands`] for
//! those outputs. Every collector compiles everywhere; [`collect`] picks the one for the
//! running system with `cfg(target_os)`.
#![forbid(unsafe_code)]

pub mod command;
pub mod enrol;
pub mod linux;
pub mod macos;
pub mod windows;

use hoshu_domain::PostureReport;
use sha2::{Digest, Sha256};

/// Why a posture report could not be collected at all. A missing antivirus product or firewall
/// tool is not an error: the report says so and the policy decides.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is larger than {limit} bytes")]
    TooLarge { path: String, limit: usize },
    #[error(
        "reading {path} needs root; run hoshu-agent as root so the device fingerprint stays the same"
    )]
    NeedsRoot { path: String },
    #[error("no stable device identifier found: {0}")]
    NoIdentifier(String),
    #[error("{what}: {source}")]
    Command {
        what: &'static str,
        source: command::CommandError,
    },
    #[error("unexpected output of {what}: {detail}")]
    Parse { what: &'static str, detail: String },
    #[error("collected report is invalid: {0}")]
    Invalid(#[from] hoshu_domain::ReportError),
}

/// A device fingerprint: lowercase hex SHA-256 over the platform name and the stable
/// identifiers as `name=value` lines, in the order given. The names are part of the hash, so
/// a value moving from one identifier to another changes the fingerprint.
pub fn fingerprint(platform: &str, identifiers: &[(&str, &str)]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"hoshu-device-fingerprint-v1\n");
    hash.update(platform.as_bytes());
    hash.update(b"\n");
    for (name, value) in identifiers {
        hash.update(name.as_bytes());
        hash.update(b"=");
        hash.update(value.as_bytes());
        hash.update(b"\n");
    }
    hex::encode(hash.finalize())
}

/// A UUID in its 8-4-4-4-12 form (DMI/SMBIOS system UUID, Windows MachineGuid, macOS
/// IOPlatformUUID), lowercased. `None` for anything else and for the placeholders some
/// firmware ships (every digit the same: all zeros, all F).
pub fn parse_uuid(text: &str) -> Option<String> {
    let uuid = text.trim().to_ascii_lowercase();
    let form = uuid.len() == 36
        && uuid.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    let mut digits = uuid.bytes().filter(|&b| b != b'-');
    let first = digits.next();
    let placeholder = digits.all(|b| Some(b) == first);
    (form && !placeholder).then_some(uuid)
}

/// Text limited to the report's bound ([`hoshu_domain::posture::MAX_TEXT_CHARS`]), trimmed.
pub(crate) fn bounded_text(s: &str) -> String {
    s.trim()
        .chars()
        .take(hoshu_domain::posture::MAX_TEXT_CHARS)
        .collect()
}

/// The report of a collector: the fingerprint over `identifiers`, checked against every bound
/// before it leaves the device.
pub(crate) fn report(
    platform: &str,
    identifiers: &[(&str, &str)],
    os: hoshu_domain::OsInfo,
    antivirus: Vec<hoshu_domain::AntivirusProduct>,
    firewall: hoshu_domain::FirewallState,
    now: i64,
) -> Result<PostureReport, CollectError> {
    let report = PostureReport {
        fingerprint: fingerprint(platform, identifiers),
        os,
        antivirus,
        firewall,
        collected_at: now,
    };
    report.validate()?;
    Ok(report)
}

/// A sample output under `tests/data/<os>/`. The package directory is read when the test runs
/// (cargo sets it), not baked in when it is built: a target directory shared between clones
/// may hold a test binary built from another clone's path.
#[cfg(test)]
pub(crate) fn sample(os: &str, name: &str) -> Vec<u8> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    );
    let path = dir.join("tests/data").join(os).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Collects a report on the running system, stamped `now` (Unix seconds).
#[cfg(target_os = "linux")]
pub fn collect(now: i64) -> Result<PostureReport, CollectError> {
    linux::collect(&linux::LinuxPaths::default(), &command::HostCommands, now)
}

/// Collects a report on the running system, stamped `now` (Unix seconds).
#[cfg(target_os = "windows")]
pub fn collect(now: i64) -> Result<PostureReport, CollectError> {
    windows::collect(&command::HostCommands, now)
}

/// Collects a report on the running system, stamped `now` (Unix seconds).
#[cfg(target_os = "macos")]
pub fn collect(now: i64) -> Result<PostureReport, CollectError> {
    macos::collect(&command::HostCommands, now)
}

/// Collects a report on the running system, stamped `now` (Unix seconds).
#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
pub fn collect(_now: i64) -> Result<PostureReport, CollectError> {
    Err(CollectError::NoIdentifier(
        "hoshu-agent collects posture on Linux, Windows and macOS only".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "4C4C4544-0042-3510-8052-B4C04F564433\n",
                Some("4c4c4544-0042-3510-8052-b4c04f564433"),
            ),
            ("00000000-0000-0000-0000-000000000000\n", None),
            ("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF\n", None),
            ("4C4C4544004235108052B4C04F564433\n", None),
            ("4C4C4544-0042-3510-8052-B4C04F56443Z", None),
            ("Not Settable\n", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_uuid(text).as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn fingerprints_depend_on_names_values_and_platform() {
        let a = fingerprint("linux", &[("machine-id", "abc"), ("product-uuid", "def")]);
        assert!(hoshu_domain::posture::is_fingerprint(&a));
        assert_eq!(
            a,
            fingerprint("linux", &[("machine-id", "abc"), ("product-uuid", "def")])
        );
        assert_ne!(a, fingerprint("linux", &[("machine-id", "abc")]));
        assert_ne!(
            a,
            fingerprint("linux", &[("machine-id", "abcproduct-uuid=def")])
        );
        assert_ne!(
            a,
            fingerprint("macos", &[("machine-id", "abc"), ("product-uuid", "def")])
        );
    }
}
