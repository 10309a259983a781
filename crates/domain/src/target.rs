//! Targets and their session policy (DESIGN §5).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How the gateway talks to a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Vnc,
    Rdp,
    Ssh,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Vnc, Protocol::Rdp, Protocol::Ssh];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Vnc => "vnc",
            Protocol::Rdp => "rdp",
            Protocol::Ssh => "ssh",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown protocol {0:?}; use vnc, rdp or ssh")]
pub struct UnknownProtocol(pub String);

impl FromStr for Protocol {
    type Err = UnknownProtocol;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownProtocol(s.to_owned()))
    }
}

/// Which way clipboard text may cross the gateway (DESIGN §5). Copying out of the target is
/// what the seed forbids by default ("data seen over the remote connection cannot be saved
/// outside"), so `Off` is the default and `PasteIn` lets vendors paste commands in only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ClipboardPolicy {
    #[default]
    #[serde(rename = "off")]
    Off,
    #[serde(rename = "paste-in")]
    PasteIn,
    #[serde(rename = "both")]
    Both,
}

impl ClipboardPolicy {
    pub const ALL: [ClipboardPolicy; 3] = [
        ClipboardPolicy::Off,
        ClipboardPolicy::PasteIn,
        ClipboardPolicy::Both,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClipboardPolicy::Off => "off",
            ClipboardPolicy::PasteIn => "paste-in",
            ClipboardPolicy::Both => "both",
        }
    }

    /// May text go from the vendor's browser into the target?
    pub fn allows_paste_in(self) -> bool {
        matches!(self, ClipboardPolicy::PasteIn | ClipboardPolicy::Both)
    }

    /// May text go from the target out to the vendor's browser?
    pub fn allows_copy_out(self) -> bool {
        matches!(self, ClipboardPolicy::Both)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown clipboard policy {0:?}; use off, paste-in or both")]
pub struct UnknownClipboardPolicy(pub String);

impl FromStr for ClipboardPolicy {
    type Err = UnknownClipboardPolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClipboardPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownClipboardPolicy(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Protocol::ALL {
            assert_eq!(p.as_str().parse::<Protocol>().ok(), Some(p));
        }
        for c in ClipboardPolicy::ALL {
            assert_eq!(c.as_str().parse::<ClipboardPolicy>().ok(), Some(c));
        }
        assert!("telnet".parse::<Protocol>().is_err());
    }

    #[test]
    fn clipboard_directions() {
        assert!(!ClipboardPolicy::Off.allows_paste_in());
        assert!(!ClipboardPolicy::Off.allows_copy_out());
        assert!(ClipboardPolicy::PasteIn.allows_paste_in());
        assert!(!ClipboardPolicy::PasteIn.allows_copy_out());
        assert!(ClipboardPolicy::Both.allows_paste_in());
        assert!(ClipboardPolicy::Both.allows_copy_out());
    }
}
