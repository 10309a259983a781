//! Device posture (DESIGN §6): what a lent device reports about itself, the policy a report is
//! held to, and the evaluation that turns the two into a verdict with reasons a vendor can act
//! on ("ClamAV signatures are 9 days old (limit 3 days); update ClamAV (freshclam)").
//!
//! Pure: callers pass `now` (Unix seconds) and the fingerprint recorded at enrolment. A report
//! arrives from a device the gateway does not control, so [`PostureReport::from_json`] bounds its
//! size and every string and list in it before anything else looks at it.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};

/// At most this many antivirus products in one report.
pub const MAX_PRODUCTS: usize = 16;
/// At most this many characters in any string of a report.
pub const MAX_TEXT_CHARS: usize = 256;
/// At most this many bytes of JSON in one report (16 products of 5 strings of 256 characters of
/// up to 4 bytes each, with room to spare).
pub const MAX_REPORT_BYTES: usize = 128 * 1024;
/// A report stamped further than this into the future means the device's clock is wrong.
pub const MAX_CLOCK_AHEAD_SECS: i64 = 300;

const DAY_SECS: i64 = 86_400;

/// One posture report of a device, as the agent collects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostureReport {
    /// Lowercase hex SHA-256 over the device's stable hardware and OS identifiers.
    pub fingerprint: String,
    pub os: OsInfo,
    /// Every antivirus product the agent found, running or not; empty when none.
    pub antivirus: Vec<AntivirusProduct>,
    pub firewall: FirewallState,
    /// When the agent collected the report, Unix seconds by the device's clock.
    pub collected_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntivirusProduct {
    pub name: String,
    /// The scanning engine (service or daemon) is running.
    pub running: bool,
    /// Files are scanned when they are opened (on-access, real-time protection).
    pub real_time_protection: bool,
    /// When the newest signatures were built or installed, Unix seconds, if the product says.
    #[serde(default)]
    pub signatures_updated_at: Option<i64>,
    /// The product's own verdict on its signatures, for products that give a verdict but no
    /// date (Windows Security Center's up-to-date flag for third-party products).
    #[serde(default)]
    pub signatures_up_to_date: Option<bool>,
    #[serde(default)]
    pub signature_version: Option<String>,
}

/// Whether the host firewall filters incoming traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FirewallState {
    On,
    Off,
    /// The agent could not find out (no firewall tool, or not allowed to ask).
    Unknown,
}

/// Why a report was refused before evaluation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("posture report is {len} bytes; at most {MAX_REPORT_BYTES} are accepted")]
    TooLarge { len: usize },
    #[error("posture report is not valid: {0}")]
    Json(String),
    #[error("posture report lists {count} antivirus products; at most {MAX_PRODUCTS} are accepted")]
    TooManyProducts { count: usize },
    #[error(
        "posture report field {field} is {chars} characters; at most {MAX_TEXT_CHARS} are accepted"
    )]
    TextTooLong { field: &'static str, chars: usize },
    #[error("posture report field {field} is empty")]
    EmptyText { field: &'static str },
    #[error("device fingerprint must be 64 lowercase hex digits (SHA-256)")]
    BadFingerprint,
    #[error("posture report time {0} is before 1970")]
    NegativeTime(i64),
}

impl PostureReport {
    /// Parses and validates a report received from a device.
    pub fn from_json(bytes: &[u8]) -> Result<PostureReport, ReportError> {
        if bytes.len() > MAX_REPORT_BYTES {
            return Err(ReportError::TooLarge { len: bytes.len() });
        }
        let report: PostureReport =
            serde_json::from_slice(bytes).map_err(|e| ReportError::Json(e.to_string()))?;
        report.validate()?;
        Ok(report)
    }

    /// Checks every bound: list lengths, string lengths, the fingerprint's form, times.
    pub fn validate(&self) -> Result<(), ReportError> {
        if !is_fingerprint(&self.fingerprint) {
            return Err(ReportError::BadFingerprint);
        }
        check_text("os.name", &self.os.name)?;
        check_text("os.version", &self.os.version)?;
        if self.antivirus.len() > MAX_PRODUCTS {
            return Err(ReportError::TooManyProducts {
                count: self.antivirus.len(),
            });
        }
        for product in &self.antivirus {
            check_text("antivirus.name", &product.name)?;
            if let Some(version) = &product.signature_version {
                check_text("antivirus.signature_version", version)?;
            }
            if let Some(at) = product.signatures_updated_at
                && at < 0
            {
                return Err(ReportError::NegativeTime(at));
            }
        }
        if self.collected_at < 0 {
            return Err(ReportError::NegativeTime(self.collected_at));
        }
        Ok(())
    }
}

/// Whether `s` has the form of a device fingerprint: 64 lowercase hex digits.
pub fn is_fingerprint(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_text(field: &'static str, value: &str) -> Result<(), ReportError> {
    let chars = value.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(ReportError::TextTooLong { field, chars });
    }
    if value.trim().is_empty() {
        return Err(ReportError::EmptyText { field });
    }
    Ok(())
}

/// What a report must show for the device to be compliant. Missing fields take the defaults,
/// which are the seed's ("antivirus running, real-time protection on, signatures current").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PosturePolicy {
    /// At least one antivirus product must be running (and meet the two rules below).
    pub antivirus_required: bool,
    pub real_time_required: bool,
    pub max_signature_age_days: u32,
    /// The report's fingerprint must equal the one recorded at enrolment.
    pub fingerprint_must_match: bool,
    /// A report older than this no longer counts (the agent reports every 60 s).
    pub max_report_age_secs: u32,
    pub firewall_required: bool,
}

impl Default for PosturePolicy {
    fn default() -> Self {
        PosturePolicy {
            antivirus_required: true,
            real_time_required: true,
            max_signature_age_days: 3,
            fingerprint_must_match: true,
            max_report_age_secs: 180,
            firewall_required: false,
        }
    }
}

/// A vendor's own values for some rules of [`PosturePolicy`] (DESIGN §6: "policy per vendor or
/// global"); every rule it leaves out follows the global policy, so a later change of the
/// global policy still reaches the vendor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub antivirus_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_time_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_signature_age_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint_must_match: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_report_age_secs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall_required: Option<bool>,
}

impl PolicyOverride {
    /// The policy a vendor's devices are held to: `global` with this override's values.
    pub fn apply(&self, global: &PosturePolicy) -> PosturePolicy {
        PosturePolicy {
            antivirus_required: self.antivirus_required.unwrap_or(global.antivirus_required),
            real_time_required: self.real_time_required.unwrap_or(global.real_time_required),
            max_signature_age_days: self
                .max_signature_age_days
                .unwrap_or(global.max_signature_age_days),
            fingerprint_must_match: self
                .fingerprint_must_match
                .unwrap_or(global.fingerprint_must_match),
            max_report_age_secs: self
                .max_report_age_secs
                .unwrap_or(global.max_report_age_secs),
            firewall_required: self.firewall_required.unwrap_or(global.firewall_required),
        }
    }

    /// `other`'s values where it has them, this override's elsewhere.
    pub fn merged(&self, other: &PolicyOverride) -> PolicyOverride {
        PolicyOverride {
            antivirus_required: other.antivirus_required.or(self.antivirus_required),
            real_time_required: other.real_time_required.or(self.real_time_required),
            max_signature_age_days: other.max_signature_age_days.or(self.max_signature_age_days),
            fingerprint_must_match: other.fingerprint_must_match.or(self.fingerprint_must_match),
            max_report_age_secs: other.max_report_age_secs.or(self.max_report_age_secs),
            firewall_required: other.firewall_required.or(self.firewall_required),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == PolicyOverride::default()
    }

    /// Each rule this override sets, as `name = value`, for the pages and the command line.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                out.push(format!("{name} = {value}"));
            }
        };
        push(
            "antivirus_required",
            self.antivirus_required.map(|v| v.to_string()),
        );
        push(
            "real_time_required",
            self.real_time_required.map(|v| v.to_string()),
        );
        push(
            "max_signature_age_days",
            self.max_signature_age_days.map(|v| v.to_string()),
        );
        push(
            "fingerprint_must_match",
            self.fingerprint_must_match.map(|v| v.to_string()),
        );
        push(
            "max_report_age_secs",
            self.max_report_age_secs.map(|v| v.to_string()),
        );
        push(
            "firewall_required",
            self.firewall_required.map(|v| v.to_string()),
        );
        out
    }
}

/// One reason a device is not compliant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostureProblem {
    FingerprintMismatch,
    ReportStale {
        age_secs: i64,
        limit_secs: u32,
    },
    ClockAhead {
        ahead_secs: i64,
    },
    NoAntivirus,
    AntivirusNotRunning {
        product: String,
    },
    RealTimeOff {
        product: String,
    },
    SignaturesOutdated {
        product: String,
        age_secs: i64,
        limit_days: u32,
    },
    /// The product has no signature date and says its signatures are out of date.
    SignaturesReportedOutdated {
        product: String,
    },
    SignatureDateUnknown {
        product: String,
    },
    /// The signature date is later than the gateway's clock allows: a forged report or a device
    /// clock far ahead; either way the age cannot be judged.
    SignaturesFromTheFuture {
        product: String,
        ahead_secs: i64,
    },
    FirewallOff,
    FirewallUnknown,
}

impl PostureProblem {
    /// A stable word for the problem, for the API, the audit log and the translated texts.
    pub fn code(&self) -> &'static str {
        match self {
            PostureProblem::FingerprintMismatch => "fingerprint-mismatch",
            PostureProblem::ReportStale { .. } => "report-stale",
            PostureProblem::ClockAhead { .. } => "clock-ahead",
            PostureProblem::NoAntivirus => "no-antivirus",
            PostureProblem::AntivirusNotRunning { .. } => "antivirus-not-running",
            PostureProblem::RealTimeOff { .. } => "real-time-off",
            PostureProblem::SignaturesOutdated { .. } => "signatures-outdated",
            PostureProblem::SignaturesReportedOutdated { .. } => "signatures-reported-outdated",
            PostureProblem::SignatureDateUnknown { .. } => "signature-date-unknown",
            PostureProblem::SignaturesFromTheFuture { .. } => "signatures-from-the-future",
            PostureProblem::FirewallOff => "firewall-off",
            PostureProblem::FirewallUnknown => "firewall-unknown",
        }
    }
}

/// The products the agent knows, for advice that names the right command or setting (here and
/// in the gateway's translations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    ClamAv,
    Defender,
    XProtect,
    Other,
}

pub fn family(product: &str) -> Family {
    let lower = product.to_lowercase();
    if lower.contains("clamav") {
        Family::ClamAv
    } else if lower.contains("defender") {
        Family::Defender
    } else if lower.contains("xprotect") {
        Family::XProtect
    } else {
        Family::Other
    }
}

impl fmt::Display for PostureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostureProblem::FingerprintMismatch => f.write_str(
                "this report comes from another machine than the enrolled device; use the lent \
                 device, or ask an administrator to enrol this one",
            ),
            PostureProblem::ReportStale {
                age_secs,
                limit_secs,
            } => write!(
                f,
                "the last posture report is {age_secs} s old (limit {limit_secs} s); check that \
                 hoshu-agent is running on the device and can reach the gateway"
            ),
            PostureProblem::ClockAhead { ahead_secs } => write!(
                f,
                "the device's clock is {ahead_secs} s ahead of the gateway's; turn on automatic \
                 time synchronisation"
            ),
            PostureProblem::NoAntivirus => f.write_str(
                "no antivirus running; install and start the antivirus the device was lent with \
                 (ClamAV on Linux, Microsoft Defender on Windows)",
            ),
            PostureProblem::AntivirusNotRunning { product } => match family(product) {
                Family::ClamAv => {
                    f.write_str("ClamAV is not running; start it (systemctl start clamav-daemon)")
                }
                Family::Defender => f.write_str(
                    "Microsoft Defender is not running; turn it on in Windows Security → Virus & \
                     threat protection",
                ),
                _ => write!(f, "{product} is not running; start it"),
            },
            PostureProblem::RealTimeOff { product } => match family(product) {
                Family::ClamAv => f.write_str(
                    "ClamAV on-access scanning is off; start clamonacc (systemctl start \
                     clamav-clamonacc)",
                ),
                Family::Defender => f.write_str(
                    "Microsoft Defender real-time protection is off; turn it on in Windows \
                     Security → Virus & threat protection settings",
                ),
                _ => write!(f, "real-time protection of {product} is off; turn it on"),
            },
            PostureProblem::SignaturesOutdated {
                product,
                age_secs,
                limit_days,
            } => {
                let days = age_secs / DAY_SECS;
                let age = if days > i64::from(*limit_days) {
                    format!("{days} days old")
                } else {
                    format!("more than {limit_days} days old")
                };
                write!(
                    f,
                    "{product} signatures are {age} (limit {limit_days} days); {}",
                    update_advice(product)
                )
            }
            PostureProblem::SignaturesReportedOutdated { product } => write!(
                f,
                "{product} reports its signatures out of date; {}",
                update_advice(product)
            ),
            PostureProblem::SignatureDateUnknown { product } => write!(
                f,
                "the signature date of {product} could not be read; {}, and check that \
                 hoshu-agent runs with the rights to read it",
                update_advice(product)
            ),
            PostureProblem::SignaturesFromTheFuture {
                product,
                ahead_secs,
            } => write!(
                f,
                "the signature date of {product} is {} days ahead of the gateway's clock, which \
                 cannot be right; set the device's clock, then {}",
                ahead_secs / DAY_SECS,
                update_advice(product)
            ),
            PostureProblem::FirewallOff => f.write_str(
                "the firewall is off; turn it on (Linux: systemctl enable --now nftables; \
                 Windows: Windows Security → Firewall & network protection; macOS: System \
                 Settings → Network → Firewall)",
            ),
            PostureProblem::FirewallUnknown => f.write_str(
                "the firewall state could not be read; run hoshu-agent as root (Linux) or as an \
                 administrator",
            ),
        }
    }
}

fn update_advice(product: &str) -> String {
    match family(product) {
        Family::ClamAv => "update ClamAV (freshclam)".to_owned(),
        Family::Defender => {
            "update Microsoft Defender (Windows Security → Virus & threat protection → Protection \
             updates, or Update-MpSignature)"
                .to_owned()
        }
        Family::XProtect => {
            "install the background security updates (System Settings → General → Software \
             Update, with \"Install Security Responses and system files\" on)"
                .to_owned()
        }
        Family::Other => format!("update {product}"),
    }
}

impl Serialize for PostureProblem {
    /// `{"code": "...", "message": "..."}`: what the API and the pages show.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("PostureProblem", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

/// The verdict on one report: compliant exactly when there is no reason against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compliance {
    pub compliant: bool,
    pub reasons: Vec<PostureProblem>,
}

/// Holds a report to a policy. Every failing rule is listed, device identity first, then
/// freshness, antivirus and firewall, so the vendor can fix everything in one go.
///
/// Antivirus: the device passes when one product passes every antivirus rule. Otherwise the
/// problems of each product that runs are listed (or, when none runs, that each is stopped).
pub fn evaluate(
    policy: &PosturePolicy,
    report: &PostureReport,
    enrolled_fingerprint: &str,
    now: i64,
) -> Compliance {
    let mut reasons = Vec::new();
    if policy.fingerprint_must_match && report.fingerprint != enrolled_fingerprint {
        reasons.push(PostureProblem::FingerprintMismatch);
    }

    let age_secs = now.saturating_sub(report.collected_at);
    // Its own subtraction, not `-age_secs`: that saturates at i64::MIN for a clock far enough
    // behind (found by the posture_report fuzz target), and negating i64::MIN overflows.
    let ahead_secs = report.collected_at.saturating_sub(now);
    if age_secs > i64::from(policy.max_report_age_secs) {
        reasons.push(PostureProblem::ReportStale {
            age_secs,
            limit_secs: policy.max_report_age_secs,
        });
    } else if ahead_secs > MAX_CLOCK_AHEAD_SECS {
        reasons.push(PostureProblem::ClockAhead { ahead_secs });
    }

    if policy.antivirus_required {
        let latest = now.max(report.collected_at);
        antivirus_problems(policy, &report.antivirus, now, latest, &mut reasons);
    }

    if policy.firewall_required {
        match report.firewall {
            FirewallState::On => {}
            FirewallState::Off => reasons.push(PostureProblem::FirewallOff),
            FirewallState::Unknown => reasons.push(PostureProblem::FirewallUnknown),
        }
    }

    Compliance {
        compliant: reasons.is_empty(),
        reasons,
    }
}

fn antivirus_problems(
    policy: &PosturePolicy,
    products: &[AntivirusProduct],
    now: i64,
    latest: i64,
    reasons: &mut Vec<PostureProblem>,
) {
    if products.is_empty() {
        reasons.push(PostureProblem::NoAntivirus);
        return;
    }
    if !products.iter().any(|p| p.running) {
        reasons.extend(
            products
                .iter()
                .map(|p| PostureProblem::AntivirusNotRunning {
                    product: p.name.clone(),
                }),
        );
        return;
    }
    let mut found = Vec::new();
    for product in products.iter().filter(|p| p.running) {
        let mut problems = Vec::new();
        if policy.real_time_required && !product.real_time_protection {
            problems.push(PostureProblem::RealTimeOff {
                product: product.name.clone(),
            });
        }
        if let Some(problem) = signature_problem(policy, product, now, latest) {
            problems.push(problem);
        }
        if problems.is_empty() {
            // One product that passes every rule protects the device.
            return;
        }
        found.extend(problems);
    }
    reasons.extend(found);
}

/// How far a signature date may be ahead of the later of the gateway's clock and the report's.
const MAX_SIGNATURES_AHEAD_SECS: i64 = DAY_SECS;

/// `latest`: the later of the gateway's clock and the report's collection time.
fn signature_problem(
    policy: &PosturePolicy,
    product: &AntivirusProduct,
    now: i64,
    latest: i64,
) -> Option<PostureProblem> {
    let name = || product.name.clone();
    match (product.signatures_updated_at, product.signatures_up_to_date) {
        // A date far ahead would pass any age limit (a negative age). Signature builds are
        // dated by their publisher, sometimes in its own time zone: up to a day ahead of both
        // clocks is taken as current.
        (Some(at), _) if at.saturating_sub(latest) > MAX_SIGNATURES_AHEAD_SECS => {
            Some(PostureProblem::SignaturesFromTheFuture {
                product: name(),
                ahead_secs: at.saturating_sub(latest),
            })
        }
        (Some(at), _) => {
            let age_secs = now.saturating_sub(at);
            let limit_secs = i64::from(policy.max_signature_age_days) * DAY_SECS;
            (age_secs > limit_secs).then(|| PostureProblem::SignaturesOutdated {
                product: name(),
                age_secs,
                limit_days: policy.max_signature_age_days,
            })
        }
        // Without a date the product's own verdict is all there is (third-party products in
        // Windows Security Center); it follows the product's update schedule, not our limit.
        (None, Some(true)) => None,
        (None, Some(false)) => Some(PostureProblem::SignaturesReportedOutdated { product: name() }),
        (None, None) => Some(PostureProblem::SignatureDateUnknown { product: name() }),
    }
}

#[cfg(test)]
mod tests;
