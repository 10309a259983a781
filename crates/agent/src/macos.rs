//! macOS: XProtect (Apple's built-in malware scanner) from its bundle's `Info.plist`, the
//! application firewall from `socketfilterfw`, the OS from `sw_vers`, identity from the
//! platform UUID in `ioreg`.
//!
//! XProtect's signature date is the modification time of the bundle's `Info.plist`: every
//! update replaces the bundle, whether it came through Software Update (which records it in
//! the install history) or, since macOS 14, through XProtect's own background updater (which
//! does not), so the file time is the one date both paths keep current.

use hoshu_domain::{AntivirusProduct, FirewallState, OsInfo, PostureReport};

use crate::command::Commands;
use crate::{CollectError, bounded_text, parse_uuid, report};

/// The product name the report uses.
pub const XPROTECT: &str = "XProtect";
/// The bundle's property list (this location since macOS 10.15).
pub const XPROTECT_INFO_PLIST: &str =
    "/Library/Apple/System/Library/CoreServices/XProtect.bundle/Contents/Info.plist";
pub const SOCKETFILTERFW: &str = "/usr/libexec/ApplicationFirewall/socketfilterfw";

/// `CFBundleShortVersionString` from `plutil -convert json -o - Info.plist`.
pub fn parse_xprotect_version(json: &[u8]) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Info {
        #[serde(rename = "CFBundleShortVersionString")]
        version: String,
    }
    let info: Info = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let version = bounded_text(&info.version);
    if version.is_empty() {
        return Err("empty CFBundleShortVersionString".to_owned());
    }
    Ok(version)
}

/// A file's modification time from BSD `stat -f %m`: Unix seconds.
pub fn parse_stat_mtime(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// `ProductName` and `ProductVersion` of `sw_vers`.
pub fn parse_sw_vers(text: &str) -> OsInfo {
    let value = |key: &str| {
        text.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == key)
                .then(|| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        })
    };
    OsInfo {
        name: bounded_text(&value("ProductName").unwrap_or_else(|| "macOS".to_owned())),
        version: bounded_text(&value("ProductVersion").unwrap_or_else(|| "unknown".to_owned())),
    }
}

/// The `"IOPlatformUUID" = "…"` line of `ioreg -rd1 -c IOPlatformExpertDevice`.
pub fn parse_platform_uuid(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "\"IOPlatformUUID\"")
            .then(|| parse_uuid(value.trim().trim_matches('"')))
            .flatten()
    })
}

/// `socketfilterfw --getglobalstate`: "Firewall is enabled. (State = 1)"; state 2 is "block
/// all incoming connections", also on.
pub fn parse_socketfilterfw(text: &str) -> FirewallState {
    let state = text
        .split_once("(State = ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(n, _)| n.trim());
    match state {
        Some("1" | "2") => FirewallState::On,
        Some("0") => FirewallState::Off,
        _ => FirewallState::Unknown,
    }
}

/// XProtect as the report shows it, from its version and the time its Info.plist was
/// written. XProtect has no switch: macOS checks files with it when they are first opened and
/// before an app launches, so when it is present it counts as running with real-time
/// protection.
pub fn xprotect_product(
    version: Option<String>,
    updated_at: Option<i64>,
) -> Option<AntivirusProduct> {
    let version = version?;
    Some(AntivirusProduct {
        name: XPROTECT.to_owned(),
        running: true,
        real_time_protection: true,
        signatures_updated_at: updated_at,
        signatures_up_to_date: None,
        signature_version: Some(version),
    })
}

/// Collects a report on macOS.
pub fn collect(commands: &dyn Commands, now: i64) -> Result<PostureReport, CollectError> {
    let ioreg = commands
        .run("ioreg", &["-rd1", "-c", "IOPlatformExpertDevice"])
        .map_err(|source| CollectError::Command {
            what: "reading the platform UUID",
            source,
        })?;
    let uuid = parse_platform_uuid(&String::from_utf8_lossy(&ioreg))
        .ok_or_else(|| CollectError::NoIdentifier("no IOPlatformUUID in ioreg's output".into()))?;

    let os = commands
        .run("sw_vers", &[])
        .map(|out| parse_sw_vers(&String::from_utf8_lossy(&out)))
        .unwrap_or_else(|_| parse_sw_vers(""));

    let version = commands
        .run(
            "plutil",
            &["-convert", "json", "-o", "-", XPROTECT_INFO_PLIST],
        )
        .ok()
        .and_then(|out| parse_xprotect_version(&out).ok());
    let updated_at = commands
        .run("stat", &["-f", "%m", XPROTECT_INFO_PLIST])
        .ok()
        .and_then(|out| parse_stat_mtime(&String::from_utf8_lossy(&out)));
    let antivirus = xprotect_product(version, updated_at).into_iter().collect();

    let firewall = commands
        .run(SOCKETFILTERFW, &["--getglobalstate"])
        .map(|out| parse_socketfilterfw(&String::from_utf8_lossy(&out)))
        .unwrap_or(FirewallState::Unknown);

    report(
        "macos",
        &[("platform-uuid", &uuid)],
        os,
        antivirus,
        firewall,
        now,
    )
}

#[cfg(test)]
mod tests {
    use hoshu_domain::{PosturePolicy, evaluate};

    use super::*;
    use crate::command::Recorded;
    use crate::fingerprint;

    fn data(name: &str) -> Vec<u8> {
        crate::sample("macos", name)
    }

    fn text(name: &str) -> String {
        String::from_utf8_lossy(&data(name)).into_owned()
    }

    const UPDATED: i64 = 1_731_909_600;

    #[test]
    fn parsers_on_samples() {
        assert_eq!(
            parse_xprotect_version(&data("xprotect-info.json")).unwrap(),
            "5278"
        );
        assert!(parse_xprotect_version(br#"{"CFBundleVersion":"5278"}"#).is_err());
        assert!(parse_xprotect_version(br#"{"CFBundleShortVersionString":" "}"#).is_err());

        assert_eq!(
            parse_stat_mtime(&text("stat-xprotect-info.txt")),
            Some(UPDATED)
        );
        assert_eq!(parse_stat_mtime("stat: No such file or directory"), None);

        let os = parse_sw_vers(&text("sw_vers.txt"));
        assert_eq!((os.name.as_str(), os.version.as_str()), ("macOS", "14.6.1"));

        assert_eq!(
            parse_platform_uuid(&text("ioreg-platform.txt")).as_deref(),
            Some("6b29fc40-ca47-1067-b31d-00dd010662da")
        );
        assert_eq!(
            parse_platform_uuid("\"IOPlatformSerialNumber\" = \"C02XX\""),
            None
        );

        assert_eq!(
            parse_socketfilterfw(&text("socketfilterfw-on.txt")),
            FirewallState::On
        );
        assert_eq!(
            parse_socketfilterfw(&text("socketfilterfw-off.txt")),
            FirewallState::Off
        );
        assert_eq!(
            parse_socketfilterfw(
                "Firewall is blocking all non-essential incoming connections. (State = 2)"
            ),
            FirewallState::On
        );
        assert_eq!(parse_socketfilterfw(""), FirewallState::Unknown);
    }

    fn machine() -> Recorded {
        Recorded::default()
            .output(
                "ioreg -rd1 -c IOPlatformExpertDevice",
                data("ioreg-platform.txt"),
            )
            .output("sw_vers", data("sw_vers.txt"))
            .output(
                &format!("{SOCKETFILTERFW} --getglobalstate"),
                data("socketfilterfw-on.txt"),
            )
    }

    fn with_xprotect(recorded: Recorded) -> Recorded {
        recorded
            .output(
                &format!("plutil -convert json -o - {XPROTECT_INFO_PLIST}"),
                data("xprotect-info.json"),
            )
            .output(
                &format!("stat -f %m {XPROTECT_INFO_PLIST}"),
                data("stat-xprotect-info.txt"),
            )
    }

    #[test]
    fn collector_on_recorded_samples() {
        let policy = PosturePolicy::default();
        let codes = |recorded: &Recorded, now: i64| {
            let report = collect(recorded, now).unwrap();
            let c = evaluate(&policy, &report, &report.fingerprint, now);
            (
                report,
                c.reasons.iter().map(|r| r.code()).collect::<Vec<_>>(),
            )
        };

        let (report, problems) = codes(&with_xprotect(machine()), UPDATED + 86_400);
        assert_eq!(problems, Vec::<&str>::new());
        assert_eq!(report.os.name, "macOS");
        assert_eq!(report.firewall, FirewallState::On);
        assert_eq!(
            report.antivirus[0].signature_version.as_deref(),
            Some("5278")
        );
        assert_eq!(
            report.fingerprint,
            fingerprint(
                "macos",
                &[("platform-uuid", "6b29fc40-ca47-1067-b31d-00dd010662da")]
            )
        );

        // Old signatures: the same bundle nine days later.
        let (_, problems) = codes(&with_xprotect(machine()), UPDATED + 9 * 86_400);
        assert_eq!(problems, ["signatures-outdated"]);

        // No bundle: no product.
        let (_, problems) = codes(&machine(), UPDATED);
        assert_eq!(problems, ["no-antivirus"]);
    }
}
