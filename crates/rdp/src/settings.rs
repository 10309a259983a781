//! What Hoshu tells an RDP server when it connects (MS-RDPBCGR 2.2.1.3, the client's GCC
//! blocks and info packet): the security it accepts, the credentials, the keyboard, and the
//! channels it offers. DESIGN §5: the gateway offers only what a maintenance session needs.

use std::fmt;
use std::str::FromStr;

use ironrdp_connector::{Config, Credentials, DesktopSize};
use ironrdp_pdu::gcc::{ConnectionType, KeyboardType};
use ironrdp_pdu::rdp::capability_sets::{MajorPlatformType, RailSupportLevel};
use ironrdp_pdu::rdp::client_info::{CompressionType, PerformanceFlags, TimezoneInfo};

/// Which RDP security the gateway accepts from a target (MS-RDPBCGR 5.4: Enhanced RDP
/// Security). Standard RDP Security (RC4, no server authentication) is never offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Security {
    /// TLS or TLS with CredSSP (NLA), as the server prefers.
    #[default]
    Any,
    /// TLS only: the server shows its own log-on screen or logs on with the given credentials.
    Tls,
    /// NLA only: the credentials are checked before the server builds a session.
    Nla,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Any => "any",
            Security::Tls => "tls",
            Security::Nla => "nla",
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown RDP security {0:?}; use any, tls or nla")]
pub struct UnknownSecurity(String);

impl FromStr for Security {
    type Err = UnknownSecurity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "any" => Ok(Security::Any),
            "tls" => Ok(Security::Tls),
            "nla" => Ok(Security::Nla),
            _ => Err(UnknownSecurity(s.to_owned())),
        }
    }
}

/// The keyboard announced in the client core data (MS-RDPBCGR 2.2.1.3.2): the server maps
/// the scancodes it receives with this layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyboardSettings {
    /// Input locale identifier (0x409 US English, 0x411 Japanese).
    pub layout: u32,
    /// `keyboardType` (4 IBM enhanced, 7 Japanese).
    pub kind: u32,
    pub subtype: u32,
    pub function_keys: u32,
}

/// One connection's settings.
#[derive(Clone)]
pub struct Settings {
    pub username: String,
    pub password: String,
    pub domain: Option<String>,
    pub security: Security,
    pub keyboard: KeyboardSettings,
    pub width: u16,
    pub height: u16,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("username", &self.username)
            .field("password", &"***")
            .field("security", &self.security)
            .field("keyboard", &self.keyboard)
            .field("size", &(self.width, self.height))
            .finish_non_exhaustive()
    }
}

/// What IronRDP's connector is configured with.
///
/// No static channel is attached to the connector built from it (the gateway attaches none),
/// so the client network data lists no virtual channel: no drive or printer redirection
/// (`rdpdr`), no clipboard (`cliprdr`), no sound (`rdpsnd`), no audio input. Audio playback and
/// capture are off as well, and no dynamic-channel graphics pipeline is asked for.
pub fn connector_config(settings: Settings) -> Config {
    Config {
        desktop_size: DesktopSize {
            width: settings.width,
            height: settings.height,
        },
        monitor_layout: None,
        desktop_scale_factor: 0,
        desktop_physical_size: None,
        desktop_orientation: None,
        device_scale_factor: None,
        monitor_extended_layout: None,
        relative_mouse_input: false,
        enable_tls: matches!(settings.security, Security::Any | Security::Tls),
        enable_credssp: matches!(settings.security, Security::Any | Security::Nla),
        enable_standard_rdp_security: false,
        credentials: Credentials::UsernamePassword {
            username: settings.username,
            password: settings.password,
        },
        domain: settings.domain,
        client_build: 0,
        client_name: "hoshu".to_owned(),
        keyboard_type: KeyboardType(settings.keyboard.kind),
        keyboard_subtype: settings.keyboard.subtype,
        keyboard_functional_keys_count: settings.keyboard.function_keys,
        keyboard_layout: settings.keyboard.layout,
        connection_type: ConnectionType::Lan,
        ime_file_name: String::new(),
        bitmap: None,
        dig_product_id: String::new(),
        client_dir: String::new(),
        alternate_shell: String::new(),
        work_dir: String::new(),
        remote_application_mode: false,
        rail_support_level: RailSupportLevel::empty(),
        platform: MajorPlatformType::UNIX,
        hardware_id: None,
        request_data: None,
        // With TLS security, log on with the given credentials instead of showing the
        // server's log-on screen (xrdp, Windows without NLA).
        autologon: true,
        enable_audio_playback: false,
        enable_audio_capture: false,
        performance_flags: PerformanceFlags::default(),
        license_cache: None,
        timezone_info: TimezoneInfo::default(),
        // Bulk compression (MS-RDPBCGR 3.1.8, RDP 6.1): the bench measured 36 times fewer
        // bytes from xrdp for full-screen updates with it (as xfreerdp negotiates) than without,
        // for little CPU; it matters on a slow link to the target.
        compression_type: Some(CompressionType::Rdp61),
        // The server's pointer shapes become the browser's cursor (Guacamole `cursor`).
        enable_server_pointer: true,
        pointer_software_rendering: false,
        multitransport_flags: None,
        support_dyn_vc_gfx_protocol: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(security: Security) -> Settings {
        Settings {
            username: "u".into(),
            password: "secret".into(),
            domain: None,
            security,
            keyboard: KeyboardSettings {
                layout: 0x411,
                kind: 7,
                subtype: 2,
                function_keys: 12,
            },
            width: 1280,
            height: 800,
        }
    }

    #[test]
    fn security_decides_what_is_offered() {
        let any = connector_config(settings(Security::Any));
        assert!(any.enable_tls && any.enable_credssp && !any.enable_standard_rdp_security);
        let tls = connector_config(settings(Security::Tls));
        assert!(tls.enable_tls && !tls.enable_credssp);
        let nla = connector_config(settings(Security::Nla));
        assert!(!nla.enable_tls && nla.enable_credssp);
        assert_eq!("NLA".parse::<Security>(), Ok(Security::Nla));
        let err = "rdp".parse::<Security>().unwrap_err().to_string();
        assert!(err.contains("any, tls or nla"), "{err}");
    }

    #[test]
    fn nothing_beyond_the_desktop_is_asked_for() {
        let config = connector_config(settings(Security::Any));
        assert!(!config.enable_audio_playback && !config.enable_audio_capture);
        assert!(!config.support_dyn_vc_gfx_protocol && !config.remote_application_mode);
        assert_eq!(config.compression_type, Some(CompressionType::Rdp61));
        assert_eq!(config.keyboard_layout, 0x411);
        assert_eq!(config.keyboard_type, KeyboardType::JAPANESE);
        assert!(!format!("{:?}", settings(Security::Any)).contains("secret"));
    }
}
