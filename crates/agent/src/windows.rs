//! Windows: Microsoft Defender from `Get-MpComputerStatus`, every registered antivirus product
//! from WMI `root/SecurityCenter2` `AntiVirusProduct`, the firewall from
//! `Get-NetFirewallProfile`, identity from the registry's MachineGuid and the SMBIOS UUID.
//!
//! Every command is Windows PowerShell 5.1 (`powershell.exe`, present on every Windows 10 and
//! 11) piping into `ConvertTo-Json`. Parsers also accept PowerShell 7's forms where they
//! differ (dates).

use hoshu_domain::{AntivirusProduct, FirewallState, OsInfo, PostureReport, posture::MAX_PRODUCTS};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::command::{CommandError, Commands};
use crate::{CollectError, bounded_text, parse_uuid, report};

/// The name the report gives Microsoft Defender (the policy's advice keys on "Defender").
pub const DEFENDER: &str = "Microsoft Defender Antivirus";

// Console output in UTF-8: by default Windows PowerShell writes the OEM code page (932 on
// Japanese Windows), which would garble product names.
const UTF8: &str = "[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; ";

pub const MP_STATUS_SCRIPT: &str = "Get-MpComputerStatus | ConvertTo-Json";
pub const SECURITY_CENTER_SCRIPT: &str = "Get-CimInstance -Namespace root/SecurityCenter2 \
     -ClassName AntiVirusProduct | Select-Object displayName,productState,timestamp | ConvertTo-Json";
pub const FIREWALL_SCRIPT: &str =
    "Get-NetFirewallProfile | Select-Object Name,Enabled | ConvertTo-Json";
pub const IDENTITY_SCRIPT: &str = "$os = Get-CimInstance Win32_OperatingSystem; \
     $p = Get-CimInstance Win32_ComputerSystemProduct; \
     $g = (Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Cryptography').MachineGuid; \
     [pscustomobject]@{Caption=$os.Caption; Version=$os.Version; Uuid=$p.UUID; MachineGuid=$g} \
     | ConvertTo-Json";

/// The arguments `powershell.exe` gets before the script.
pub const POWERSHELL_ARGS: [&str; 5] = [
    "-NoProfile",
    "-NonInteractive",
    "-ExecutionPolicy",
    "Bypass",
    "-Command",
];

fn powershell(commands: &dyn Commands, script: &str) -> Result<Vec<u8>, CommandError> {
    let script = format!("{UTF8}{script}");
    let mut args: Vec<&str> = POWERSHELL_ARGS.to_vec();
    args.push(&script);
    commands.run("powershell.exe", &args)
}

/// JSON text with a UTF-8 byte order mark (which PowerShell may write) removed.
fn json_text(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(json_text(bytes)).map_err(|e| e.to_string())
}

/// `ConvertTo-Json` prints several results as an array but a single one as a bare object.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

fn list_from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<Vec<T>, String> {
    Ok(match from_json(bytes)? {
        OneOrMany::Many(items) => items,
        OneOrMany::One(item) => vec![item],
    })
}

/// A date as PowerShell's `ConvertTo-Json` prints it: Windows PowerShell 5.1 writes
/// `/Date(<ms since 1970, UTC>)/` (the JSON escapes the slashes: `\/Date(…)\/`), optionally
/// followed by the local offset (`/Date(1700000000000+0900)/`), which does not change the
/// instant; PowerShell 7 writes ISO 8601 with an offset. Unix seconds; `None` otherwise,
/// including ISO times without an offset, whose instant is unknown.
pub fn parse_powershell_date(text: &str) -> Option<i64> {
    if let Some(inner) = text
        .strip_prefix("/Date(")
        .and_then(|s| s.strip_suffix(")/"))
    {
        let digits_end = inner
            .char_indices()
            .find(|&(i, c)| i > 0 && (c == '+' || c == '-'))
            .map_or(inner.len(), |(i, _)| i);
        let millis: i64 = inner[..digits_end].parse().ok()?;
        return Some(millis.div_euclid(1000));
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The fields of `MSFT_MpComputerStatus` the report uses; the many others are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MpComputerStatus {
    #[serde(rename = "AMServiceEnabled")]
    pub am_service_enabled: Option<bool>,
    #[serde(rename = "AntivirusEnabled")]
    pub antivirus_enabled: Option<bool>,
    #[serde(rename = "RealTimeProtectionEnabled")]
    pub real_time_protection_enabled: Option<bool>,
    #[serde(rename = "AntivirusSignatureLastUpdated")]
    pub antivirus_signature_last_updated: Option<String>,
    #[serde(rename = "AntivirusSignatureVersion")]
    pub antivirus_signature_version: Option<String>,
    /// "Normal", "Passive Mode", "SxS Passive Mode", "EDR Block Mode", "Not running".
    #[serde(rename = "AMRunningMode")]
    pub am_running_mode: Option<String>,
}

pub fn parse_mp_computer_status(bytes: &[u8]) -> Result<MpComputerStatus, String> {
    from_json(bytes)
}

/// Defender as the report shows it. It counts as running only in normal mode: in passive mode
/// (another product registered with Security Center) it does not block anything.
pub fn defender_product(status: &MpComputerStatus) -> AntivirusProduct {
    let mode_active = status
        .am_running_mode
        .as_deref()
        .is_none_or(|m| m.eq_ignore_ascii_case("Normal"));
    let running = status.am_service_enabled == Some(true)
        && status.antivirus_enabled == Some(true)
        && mode_active;
    AntivirusProduct {
        name: DEFENDER.to_owned(),
        running,
        real_time_protection: running && status.real_time_protection_enabled == Some(true),
        signatures_updated_at: status
            .antivirus_signature_last_updated
            .as_deref()
            .and_then(parse_powershell_date),
        signatures_up_to_date: None,
        signature_version: status
            .antivirus_signature_version
            .as_deref()
            .map(bounded_text)
            .filter(|v| !v.is_empty()),
    }
}

/// One `AntiVirusProduct` instance of Security Center.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SecurityCenterProduct {
    #[serde(rename = "displayName")]
    pub display_name: String,
    #[serde(rename = "productState")]
    pub product_state: u32,
}

/// `productState` decoded. Microsoft does not document this field; the layout below is the
/// one Security Center has used since Windows Vista, read as nibbles of the 24-bit value
/// (397568 = 0x06_1_1_0_0 is Defender on and current):
///
/// - bits 16–23: the security providers the product covers (WSC_SECURITY_PROVIDER flags); unused;
/// - bits 12–15: product state: 0 off, 1 on, 2 snoozed, 3 expired — only 1 counts as running;
/// - bits 8–11: owner: 1 Windows (Defender itself), 0 another vendor;
/// - bits 4–7: signature status: 0 up to date, 1 out of date (by the product's own schedule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductState {
    pub enabled: bool,
    pub by_windows: bool,
    pub up_to_date: bool,
}

pub fn decode_product_state(state: u32) -> ProductState {
    ProductState {
        enabled: (state >> 12) & 0xf == 1,
        by_windows: (state >> 8) & 0xf == 1,
        up_to_date: (state >> 4) & 0xf == 0,
    }
}

/// The products of `Get-CimInstance … AntiVirusProduct | ConvertTo-Json`: an array for
/// several, a bare object for one, nothing at all for none.
pub fn parse_security_center(bytes: &[u8]) -> Result<Vec<SecurityCenterProduct>, String> {
    let text = json_text(bytes);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    list_from_json(text)
}

/// A Security Center product as the report shows it. Security Center reports a product "on"
/// when its real-time scanning is on, and gives no signature date, only its verdict.
pub fn security_center_product(product: &SecurityCenterProduct) -> AntivirusProduct {
    let state = decode_product_state(product.product_state);
    AntivirusProduct {
        name: bounded_text(&product.display_name),
        running: state.enabled,
        real_time_protection: state.enabled,
        signatures_updated_at: None,
        signatures_up_to_date: Some(state.up_to_date),
        signature_version: None,
    }
}

/// The firewall from `Get-NetFirewallProfile | Select-Object Name,Enabled | ConvertTo-Json`:
/// on when every profile (Domain, Private, Public) is enabled, off when any is disabled.
/// `Enabled` is a GpoBoolean printed as a number (1 True, 0 False, 2 NotConfigured); booleans
/// and names are accepted too.
pub fn parse_firewall_profiles(bytes: &[u8]) -> FirewallState {
    #[derive(Deserialize)]
    struct Profile {
        #[serde(rename = "Enabled")]
        enabled: serde_json::Value,
    }
    let Ok(profiles) = list_from_json::<Profile>(bytes) else {
        return FirewallState::Unknown;
    };
    let enabled = |v: &serde_json::Value| match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    };
    let states: Vec<Option<bool>> = profiles.iter().map(|p| enabled(&p.enabled)).collect();
    if states.contains(&Some(false)) {
        FirewallState::Off
    } else if !states.is_empty() && states.iter().all(|s| *s == Some(true)) {
        FirewallState::On
    } else {
        FirewallState::Unknown
    }
}

/// The OS and the machine's identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Identity {
    pub caption: Option<String>,
    pub version: Option<String>,
    pub uuid: Option<String>,
    pub machine_guid: Option<String>,
}

pub fn parse_identity(bytes: &[u8]) -> Result<Identity, String> {
    from_json(bytes)
}

/// Collects a report on Windows.
pub fn collect(commands: &dyn Commands, now: i64) -> Result<PostureReport, CollectError> {
    let identity = powershell(commands, IDENTITY_SCRIPT)
        .map_err(|source| CollectError::Command {
            what: "reading the machine's identity",
            source,
        })
        .and_then(|out| {
            parse_identity(&out).map_err(|detail| CollectError::Parse {
                what: "the machine's identity",
                detail,
            })
        })?;
    // MachineGuid is written at installation; the SMBIOS UUID is the hardware's, when real.
    let machine_guid = identity
        .machine_guid
        .as_deref()
        .and_then(parse_uuid)
        .ok_or_else(|| CollectError::NoIdentifier("no MachineGuid in the registry".into()))?;
    let smbios_uuid = identity.uuid.as_deref().and_then(parse_uuid);
    let mut ids = vec![("machine-guid", machine_guid.as_str())];
    if let Some(uuid) = &smbios_uuid {
        ids.push(("smbios-uuid", uuid));
    }
    let os = OsInfo {
        name: bounded_text(identity.caption.as_deref().unwrap_or("Windows")),
        version: bounded_text(identity.version.as_deref().unwrap_or("unknown")),
    };

    // Defender fails to answer when its service is disabled; Security Center still lists it.
    let defender = powershell(commands, MP_STATUS_SCRIPT)
        .ok()
        .and_then(|out| parse_mp_computer_status(&out).ok())
        .map(|status| defender_product(&status));
    let registered = powershell(commands, SECURITY_CENTER_SCRIPT)
        .map_err(|source| CollectError::Command {
            what: "asking Security Center for antivirus products",
            source,
        })
        .and_then(|out| {
            parse_security_center(&out).map_err(|detail| CollectError::Parse {
                what: "Security Center's antivirus products",
                detail,
            })
        });
    // Windows Server has no Security Center; Defender's own answer is enough there. Without
    // either, nothing is known and the report is not made.
    let registered = match (registered, &defender) {
        (Ok(products), _) => products,
        (Err(_), Some(_)) => Vec::new(),
        (Err(e), None) => return Err(e),
    };
    // Defender's own entry in Security Center says less than Get-MpComputerStatus did.
    let have_defender = defender.is_some();
    let others = registered
        .iter()
        .filter(|p| !have_defender || !decode_product_state(p.product_state).by_windows)
        .map(security_center_product);
    let antivirus = defender
        .into_iter()
        .chain(others)
        .take(MAX_PRODUCTS)
        .collect();

    let firewall = powershell(commands, FIREWALL_SCRIPT)
        .map(|out| parse_firewall_profiles(&out))
        .unwrap_or(FirewallState::Unknown);

    report("windows", &ids, os, antivirus, firewall, now)
}

#[cfg(test)]
mod tests {
    use hoshu_domain::{PosturePolicy, evaluate};

    use super::*;
    use crate::command::Recorded;
    use crate::fingerprint;

    fn data(name: &str) -> Vec<u8> {
        crate::sample("windows", name)
    }

    /// 2024-11-18 06:00:00 UTC, when the clean sample's signatures were installed.
    const SIGNED: i64 = 1_731_909_600;
    const NOW: i64 = SIGNED + 3600;

    #[test]
    fn powershell_dates() {
        let cases: &[(&str, Option<i64>)] = &[
            ("/Date(1731909600000)/", Some(SIGNED)),
            ("/Date(1731909600999)/", Some(SIGNED)),
            ("/Date(1731909600000+0900)/", Some(SIGNED)),
            ("/Date(1731909600000-0500)/", Some(SIGNED)),
            ("/Date(-1000)/", Some(-1)),
            ("2024-11-18T15:00:00.1234567+09:00", Some(SIGNED)),
            ("2024-11-18T06:00:00Z", Some(SIGNED)),
            // No offset: which instant is unknown.
            ("2024-11-18T06:00:00", None),
            ("/Date(soon)/", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_powershell_date(text), *want, "{text:?}");
        }
    }

    #[test]
    fn defender_samples() {
        let cases = [
            ("mp-status-clean.json", true, true, Some(SIGNED)),
            ("mp-status-realtime-off.json", true, false, Some(SIGNED)),
            (
                "mp-status-old-signatures.json",
                true,
                true,
                Some(SIGNED - 11 * 86_400),
            ),
            ("mp-status-passive.json", false, false, Some(SIGNED)),
        ];
        for (file, running, real_time, signed) in cases {
            let status = parse_mp_computer_status(&data(file)).unwrap();
            let product = defender_product(&status);
            assert_eq!(product.name, DEFENDER);
            assert_eq!(product.running, running, "{file}");
            assert_eq!(product.real_time_protection, real_time, "{file}");
            assert_eq!(product.signatures_updated_at, signed, "{file}");
            assert_eq!(product.signature_version.as_deref(), Some("1.421.112.0"));
        }
        assert!(parse_mp_computer_status(b"Get-MpComputerStatus : error 0x800106ba").is_err());
    }

    #[test]
    fn product_states() {
        let cases = [
            // (state, enabled, by Windows, up to date)
            (397_568, true, true, true),  // 0x061100 Defender on, current
            (397_584, true, true, false), // 0x061110 Defender on, out of date
            (393_472, false, true, true), // 0x060100 Defender off
            (401_664, false, true, true), // 0x062100 Defender snoozed
            (266_240, true, false, true), // 0x041000 another vendor's product on, current
            (266_256, true, false, false), // 0x041010 … out of date
            (262_144, false, false, true), // 0x040000 … off
            (0, false, false, true),
        ];
        for (state, enabled, by_windows, up_to_date) in cases {
            assert_eq!(
                decode_product_state(state),
                ProductState {
                    enabled,
                    by_windows,
                    up_to_date
                },
                "{state:#x}"
            );
        }
    }

    /// The recorded Security Center output of a machine protected by a third-party product
    /// (Trend Micro; Defender passive): no signature date, productState says up to date. That
    /// verdict passes the signature rule (DESIGN §6; see hoshu_domain::posture's tests).
    #[test]
    fn a_third_party_product_that_says_up_to_date_is_compliant() {
        let products: Vec<AntivirusProduct> = parse_security_center(&data("wsc-third-party.json"))
            .unwrap()
            .iter()
            .map(security_center_product)
            .collect();
        let report = hoshu_domain::PostureReport {
            fingerprint: "ab".repeat(32),
            os: hoshu_domain::OsInfo {
                name: "Windows".to_owned(),
                version: "10.0.22631".to_owned(),
            },
            antivirus: products,
            firewall: hoshu_domain::FirewallState::On,
            collected_at: 1_800_000_000,
        };
        let policy = hoshu_domain::PosturePolicy::default();
        let verdict = hoshu_domain::evaluate(&policy, &report, &report.fingerprint, 1_800_000_000);
        assert!(verdict.compliant, "{:?}", verdict.reasons);
    }

    #[test]
    fn security_center_samples() {
        let one = parse_security_center(&data("wsc-defender.json")).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].display_name, "Windows Defender");
        let two = parse_security_center(&data("wsc-third-party.json")).unwrap();
        let products: Vec<AntivirusProduct> = two.iter().map(security_center_product).collect();
        assert_eq!(products[0].name, "Windows Defender");
        assert!(!products[0].running);
        assert_eq!(products[1].name, "Trend Micro Apex One");
        assert!(products[1].running && products[1].real_time_protection);
        assert_eq!(products[1].signatures_up_to_date, Some(true));
        assert!(
            parse_security_center(&data("wsc-none.txt"))
                .unwrap()
                .is_empty()
        );
        assert!(
            parse_security_center(b"\xef\xbb\xbf\r\n")
                .unwrap()
                .is_empty()
        );
        assert!(parse_security_center(b"{\"displayName\": 5}").is_err());
    }

    #[test]
    fn firewall_samples() {
        assert_eq!(
            parse_firewall_profiles(&data("firewall-on.json")),
            FirewallState::On
        );
        assert_eq!(
            parse_firewall_profiles(&data("firewall-public-off.json")),
            FirewallState::Off
        );
        assert_eq!(
            parse_firewall_profiles(br#"{"Name":"Public","Enabled":true}"#),
            FirewallState::On
        );
        assert_eq!(
            parse_firewall_profiles(br#"[{"Name":"Domain","Enabled":2}]"#),
            FirewallState::Unknown
        );
        assert_eq!(parse_firewall_profiles(b""), FirewallState::Unknown);
    }

    fn ps(script: &str) -> String {
        format!(
            "powershell.exe {} {UTF8}{script}",
            POWERSHELL_ARGS.join(" ")
        )
    }

    /// The collector on recorded outputs, and what the default policy makes of them.
    #[test]
    fn collector_on_recorded_samples() {
        let machine = || {
            Recorded::default()
                .output(&ps(IDENTITY_SCRIPT), data("identity.json"))
                .output(&ps(FIREWALL_SCRIPT), data("firewall-on.json"))
        };
        let cases: &[(&str, Recorded, &[&str])] = &[
            (
                "clean",
                machine()
                    .output(&ps(MP_STATUS_SCRIPT), data("mp-status-clean.json"))
                    .output(&ps(SECURITY_CENTER_SCRIPT), data("wsc-defender.json")),
                &[],
            ),
            (
                "real-time disabled",
                machine()
                    .output(&ps(MP_STATUS_SCRIPT), data("mp-status-realtime-off.json"))
                    .output(&ps(SECURITY_CENTER_SCRIPT), data("wsc-defender.json")),
                &["real-time-off"],
            ),
            (
                "old signatures",
                machine()
                    .output(&ps(MP_STATUS_SCRIPT), data("mp-status-old-signatures.json"))
                    .output(
                        &ps(SECURITY_CENTER_SCRIPT),
                        data("wsc-defender-outdated.json"),
                    ),
                &["signatures-outdated"],
            ),
            (
                "no product",
                machine()
                    .failure(
                        &ps(MP_STATUS_SCRIPT),
                        "Get-MpComputerStatus : The service cannot be started (0x800106ba)",
                    )
                    .output(&ps(SECURITY_CENTER_SCRIPT), data("wsc-none.txt")),
                &["no-antivirus"],
            ),
            (
                "Defender passive, another product on",
                machine()
                    .output(&ps(MP_STATUS_SCRIPT), data("mp-status-passive.json"))
                    .output(&ps(SECURITY_CENTER_SCRIPT), data("wsc-third-party.json")),
                &[],
            ),
            (
                "Defender not answering, Security Center says it is current",
                machine()
                    .failure(&ps(MP_STATUS_SCRIPT), "Get-MpComputerStatus : 0x800106ba")
                    .output(&ps(SECURITY_CENTER_SCRIPT), data("wsc-defender.json")),
                &[],
            ),
            (
                "no Security Center (Windows Server)",
                machine()
                    .output(&ps(MP_STATUS_SCRIPT), data("mp-status-clean.json"))
                    .failure(
                        &ps(SECURITY_CENTER_SCRIPT),
                        "Get-CimInstance : Invalid namespace \"root/SecurityCenter2\"",
                    ),
                &[],
            ),
        ];
        for (name, recorded, want) in cases {
            let report = collect(recorded, NOW).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(report.os.name, "Microsoft Windows 11 Pro");
            assert_eq!(report.os.version, "10.0.22631");
            assert_eq!(report.firewall, FirewallState::On);
            assert_eq!(report.collected_at, NOW);
            let c = evaluate(&PosturePolicy::default(), &report, &report.fingerprint, NOW);
            let codes: Vec<&str> = c.reasons.iter().map(|r| r.code()).collect();
            assert_eq!(codes, *want, "{name}: {report:#?}");
        }

        // The same machine, the same fingerprint; Defender's entry is not listed twice.
        let clean = collect(&cases[0].1, NOW).unwrap();
        assert_eq!(clean.antivirus.len(), 1);
        assert_eq!(
            clean.fingerprint,
            fingerprint(
                "windows",
                &[
                    ("machine-guid", "8e3f5c2a-71b4-4d9e-a0c6-5f2b9d8e1a47"),
                    ("smbios-uuid", "4c4c4544-0042-3510-8052-b4c04f564433"),
                ]
            )
        );
    }

    #[test]
    fn collector_needs_one_antivirus_source() {
        let recorded = Recorded::default()
            .output(&ps(IDENTITY_SCRIPT), data("identity.json"))
            .failure(&ps(MP_STATUS_SCRIPT), "Get-MpComputerStatus : 0x800106ba")
            .failure(
                &ps(SECURITY_CENTER_SCRIPT),
                "Get-CimInstance : Access denied",
            );
        let err = collect(&recorded, NOW).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "asking Security Center for antivirus products: powershell.exe failed"
            ),
            "{err}"
        );
    }

    #[test]
    fn collector_needs_a_machine_guid() {
        let recorded = Recorded::default().output(
            &ps(IDENTITY_SCRIPT),
            br#"{"Caption":"Windows","MachineGuid":null}"#.to_vec(),
        );
        let err = collect(&recorded, NOW).unwrap_err();
        assert!(matches!(err, CollectError::NoIdentifier(_)), "{err}");
    }
}
