//! The server certificate a target is pinned to (a changed certificate refuses the
//! session until an administrator accepts the new one). RDP servers mostly present
//! self-signed certificates, so a web PKI check says nothing; the pin is the SHA-256 of the
//! end-entity certificate's DER, as `openssl x509 -outform der | sha256sum` prints it.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificatePin([u8; 32]);

impl CertificatePin {
    pub fn of_der(der: &[u8]) -> CertificatePin {
        CertificatePin(Sha256::digest(der).into())
    }

    pub fn matches(&self, der: &[u8]) -> bool {
        // Both sides are public (a certificate's hash): no constant-time need.
        *self == CertificatePin::of_der(der)
    }
}

impl fmt::Display for CertificatePin {
    /// `SHA256:` and 64 lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SHA256:{}", hex::encode(self.0))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a SHA-256 certificate fingerprint; give 64 hex digits (colons and a SHA256: \
     prefix are allowed)"
)]
pub struct BadPin(String);

impl FromStr for CertificatePin {
    type Err = BadPin;

    /// Accepts what administrators paste: `SHA256:…`, `sha256 Fingerprint=AB:CD:…` (openssl),
    /// or bare hex, in either case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let hex_part = match trimmed.split_once('=') {
            Some((_, rest)) => rest,
            None => match (trimmed.get(..7), trimmed.get(7..)) {
                (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("sha256:") => rest,
                _ => trimmed,
            },
        };
        let digits: String = hex_part.chars().filter(|c| *c != ':').collect();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&digits, &mut bytes).map_err(|_| BadPin(s.to_owned()))?;
        Ok(CertificatePin(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_accepts_the_usual_spellings() {
        let pin = CertificatePin::of_der(b"certificate");
        let text = pin.to_string();
        assert!(
            text.starts_with("SHA256:") && text.len() == 7 + 64,
            "{text}"
        );
        assert_eq!(text.parse(), Ok(pin));
        let bare = &text[7..];
        assert_eq!(bare.parse(), Ok(pin));
        assert_eq!(bare.to_uppercase().parse(), Ok(pin));
        let colons: Vec<String> = bare
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).to_uppercase())
            .collect();
        let openssl = format!("sha256 Fingerprint={}", colons.join(":"));
        assert_eq!(openssl.parse(), Ok(pin));
        assert!(pin.matches(b"certificate") && !pin.matches(b"other"));
        assert!("SHA256:abcd".parse::<CertificatePin>().is_err());
        assert!("zz".repeat(32).parse::<CertificatePin>().is_err());
    }
}
