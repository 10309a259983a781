//! Configuration: the file form users write (`hoshu serve --config FILE`, unknown keys refused)
//! and the validated runtime form the gateway uses.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use hoshu_domain::LockoutPolicy;
use serde::Deserialize;

/// The TOML file. Every section is optional; the defaults are the embedded demo defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Address to listen on, e.g. `0.0.0.0:8443`.
    pub listen: Option<SocketAddr>,
    /// Where the database, server key, TLS material and audit head live.
    pub data_dir: PathBuf,
    #[serde(default)]
    pub tls: TlsFile,
    #[serde(default)]
    pub otp: hoshu_otp::Policy,
    #[serde(default)]
    pub login: LoginSettings,
    #[serde(default)]
    pub lockout: LockoutPolicy,
    #[serde(default)]
    pub throttle: ThrottleSettings,
    #[serde(default)]
    pub session: SessionSettings,
    #[serde(default)]
    pub access: AccessSettings,
    #[serde(default)]
    pub audit: AuditSettings,
    #[serde(default)]
    pub posture: PostureSettings,
}

/// `[posture]` (DESIGN §6): the global policy lent devices' reports are held to
/// (`[posture.policy]`, see `PosturePolicy`), and whether vendor sessions need a compliant
/// device. `required` is off by default so a gateway without enrolled devices (the demo, the
/// existing tests) keeps working; demo users never need one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostureSettings {
    pub required: bool,
    /// With `required`: only the device whose client certificate the browser presented when
    /// the session opened counts (the certificate must be installed in the browser).
    pub browser_certificate: bool,
    pub policy: hoshu_domain::PosturePolicy,
}

/// `[audit]`: where the audit chain is streamed besides the database.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    pub syslog: Option<crate::audit::export::SyslogSettings>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// PEM certificate chain; with `key`. Both absent: a self-signed certificate is made in
    /// `data_dir/tls` on first start.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginSettings {
    /// How long a matrix may be answered.
    pub challenge_ttl_secs: i64,
    /// How long a registration code from `hoshu admin user add|reset` stays usable.
    pub registration_code_ttl_hours: i64,
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            challenge_ttl_secs: 120,
            registration_code_ttl_hours: 72,
        }
    }
}

/// Per-source-address budget for the unauthenticated login and registration endpoints.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleSettings {
    pub requests_per_minute: u32,
    pub burst: u32,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            requests_per_minute: 30,
            burst: 20,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// A browser session unused this long ends.
    pub idle_minutes: i64,
    /// A browser session ends this long after login, used or not.
    pub absolute_hours: i64,
    /// Remote sessions (VNC, RDP, SSH) one user may have open at once on this gateway; one
    /// more is refused until one ends. A person works on a few targets side by side; more is a
    /// script or a mistake holding the targets' and the gateway's resources.
    pub live_per_user: u32,
    /// Memory, in MiB, the framebuffers of all remote desktops together may take (4 bytes a
    /// pixel: a 1920×1080 desktop takes 8 MiB, the largest one session may have, 4096×4096,
    /// 64 MiB). A desktop that does not fit ends its session with a refusal saying so; the
    /// other sessions go on.
    pub framebuffer_budget_mib: u64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_minutes: 30,
            absolute_hours: 12,
            live_per_user: 4,
            framebuffer_budget_mib: 2048,
        }
    }
}

/// The access decision's clock (DESIGN §5).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessSettings {
    /// The organisation's offset from UTC in hours: contracts are dated in local days
    /// (Japan: 9).
    pub utc_offset_hours: i8,
    /// Live sessions are re-checked this often even when nothing changed (approval windows
    /// and contracts run out on their own), and at once on any change.
    pub recheck_secs: u64,
}

impl AccessSettings {
    /// The calendar day now in the organisation's time zone.
    pub fn today(&self) -> time::Date {
        let offset =
            time::UtcOffset::from_hms(self.utc_offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
        time::OffsetDateTime::now_utc().to_offset(offset).date()
    }
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings {
            utc_offset_hours: 9,
            recheck_secs: 30,
        }
    }
}

/// What the gateway runs with, after validation.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub tls: TlsFile,
    pub otp: hoshu_otp::Policy,
    pub login: LoginSettings,
    pub lockout: LockoutPolicy,
    pub throttle: ThrottleSettings,
    pub session: SessionSettings,
    pub access: AccessSettings,
    pub audit: AuditSettings,
    pub posture: PostureSettings,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

impl Config {
    /// The embedded defaults (`hoshu demo`).
    pub fn embedded(data_dir: PathBuf, listen: SocketAddr) -> Config {
        Config {
            listen,
            data_dir,
            tls: TlsFile::default(),
            otp: hoshu_otp::Policy::default(),
            login: LoginSettings::default(),
            lockout: LockoutPolicy::default(),
            throttle: ThrottleSettings::default(),
            session: SessionSettings::default(),
            access: AccessSettings::default(),
            audit: AuditSettings::default(),
            posture: PostureSettings::default(),
        }
    }

    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading configuration file {}", path.display()))?;
        let file: ConfigFile = toml::from_str(&text).map_err(|e| {
            // toml's message names the unknown or bad key and its line; keep it on one line.
            anyhow::anyhow!(
                "configuration file {}: {}",
                path.display(),
                e.to_string().trim().replace('\n', " ")
            )
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::validate(file, base)
            .with_context(|| format!("configuration file {}", path.display()))
    }

    fn validate(file: ConfigFile, base: &Path) -> anyhow::Result<Config> {
        // Relative paths in the file are relative to the file, not to wherever hoshu was started.
        let resolve = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
        let tls = match (file.tls.cert, file.tls.key) {
            (Some(cert), Some(key)) => TlsFile {
                cert: Some(resolve(cert)),
                key: Some(resolve(key)),
            },
            (None, None) => TlsFile::default(),
            _ => bail!("[tls] needs both cert and key, or neither (for a self-signed certificate)"),
        };
        let otp = file.otp;
        if otp.min_cells == 0 || otp.min_cells > otp.max_cells || otp.max_cells > hoshu_otp::CELLS {
            bail!("[otp] needs 1 <= min_cells <= max_cells <= 64");
        }
        if otp.fixed_min_len > otp.fixed_max_len {
            bail!("[otp] fixed_min_len must not exceed fixed_max_len");
        }
        if file.login.challenge_ttl_secs < 10 {
            bail!("[login] challenge_ttl_secs must be at least 10");
        }
        if file.throttle.requests_per_minute == 0 || file.throttle.burst == 0 {
            bail!("[throttle] requests_per_minute and burst must be at least 1");
        }
        if file.session.idle_minutes < 1
            || file.session.absolute_hours < 1
            || file.session.live_per_user < 1
            || file.session.framebuffer_budget_mib < 1
        {
            bail!(
                "[session] idle_minutes, absolute_hours, live_per_user and framebuffer_budget_mib must be at least 1"
            );
        }
        if !(-12..=14).contains(&file.access.utc_offset_hours) || file.access.recheck_secs == 0 {
            bail!("[access] utc_offset_hours must be -12 to 14 and recheck_secs at least 1");
        }
        if file.posture.policy.max_report_age_secs < 60 {
            bail!(
                "[posture.policy] max_report_age_secs must be at least 60 (agents report every 60 s)"
            );
        }
        if file.lockout.threshold == 0 {
            bail!("[lockout] threshold must be at least 1");
        }
        Ok(Config {
            listen: file
                .listen
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("the default address parses")),
            data_dir: resolve(file.data_dir),
            tls,
            otp,
            login: file.login,
            lockout: file.lockout,
            throttle: file.throttle,
            session: file.session,
            access: file.access,
            audit: AuditSettings {
                syslog: file.audit.syslog.map(|mut syslog| {
                    syslog.ca = syslog.ca.map(resolve);
                    syslog
                }),
            },
            posture: file.posture,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("hoshu.toml");
        std::fs::write(&path, text)?;
        Config::load(&path)
    }

    #[test]
    fn a_minimal_file_gets_the_defaults() {
        let config = parse("data_dir = \"/var/lib/hoshu\"\n").unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.lockout.threshold, 5);
        assert_eq!(config.login.challenge_ttl_secs, 120);
    }

    #[test]
    fn an_unknown_key_is_named_in_the_error() {
        let err = parse("data_dir = \"d\"\n[lockout]\nthreshhold = 3\n").unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("threshhold"), "{message}");
        let err = parse("data_dir = \"d\"\nlisten_on = \"x\"\n").unwrap_err();
        assert!(format!("{err:#}").contains("listen_on"));
    }

    #[test]
    fn relative_paths_are_relative_to_the_file() {
        let config = parse("data_dir = \"data\"\n").unwrap();
        assert!(config.data_dir.is_absolute() || config.data_dir.starts_with("/"));
        assert!(config.data_dir.ends_with("data"));
    }

    #[test]
    fn inconsistent_values_are_refused() {
        assert!(parse("data_dir = \"d\"\n[otp]\nmin_cells = 9\nmax_cells = 4\n").is_err());
        assert!(parse("data_dir = \"d\"\n[tls]\ncert = \"c.pem\"\n").is_err());
    }
}
