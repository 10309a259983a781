//! RFC 6143 §7.1–§7.3: ProtocolVersion, security (None and VNC
//! Authentication), SecurityResult, ClientInit and ServerInit.

use des::Des;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockEncrypt, KeyInit};
use zeroize::Zeroize;

use crate::config::{ClientConfig, Limits};
use crate::error::RfbError;
use crate::reader::{Reader, Step, Stop, bounded_bytes, server_text};

const SECURITY_NONE: u8 = 1;
const SECURITY_VNC_AUTH: u8 = 2;

/// The protocol version both sides use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Version {
    V3_3,
    V3_7,
    V3_8,
}

impl Version {
    fn wire(self) -> &'static [u8; 12] {
        match self {
            Version::V3_3 => b"RFB 003.003\n",
            Version::V3_7 => b"RFB 003.007\n",
            Version::V3_8 => b"RFB 003.008\n",
        }
    }
}

/// What ServerInit said, for `Event::Connected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerInit {
    pub width: u16,
    pub height: u16,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Version,
    Security,
    Challenge,
    SecurityResult,
    ServerInit,
}

/// The handshake, one protocol unit per [`Handshake::step`].
#[derive(Debug)]
pub(crate) struct Handshake {
    stage: Stage,
    version: Version,
}

pub(crate) enum Progress {
    /// `n` bytes consumed; the handshake goes on.
    Consumed(usize),
    /// `n` bytes consumed and ServerInit received.
    Done(usize, ServerInit),
}

impl Handshake {
    pub(crate) fn new() -> Self {
        Handshake {
            stage: Stage::Version,
            version: Version::V3_8,
        }
    }

    /// Reads one unit from `input`; what to send goes to `out`. Consumes the
    /// password once it is used, so it does not outlive authentication.
    pub(crate) fn step(
        &mut self,
        input: &[u8],
        config: &mut ClientConfig,
        out: &mut Vec<u8>,
    ) -> Step<Progress> {
        let mut r = Reader::new(input);
        match self.stage {
            Stage::Version => {
                self.version = read_version(&mut r)?;
                out.extend_from_slice(self.version.wire());
                self.stage = Stage::Security;
            }
            Stage::Security => {
                let chosen = read_security(
                    &mut r,
                    self.version,
                    config.password.is_some(),
                    &config.limits,
                )?;
                if self.version >= Version::V3_7 {
                    out.push(chosen);
                }
                self.stage = match chosen {
                    SECURITY_VNC_AUTH => Stage::Challenge,
                    // RFC 6143 §7.2.1: 3.3 and 3.7 send no SecurityResult for None.
                    _ if self.version == Version::V3_8 => Stage::SecurityResult,
                    _ => {
                        out.push(u8::from(config.shared));
                        Stage::ServerInit
                    }
                };
            }
            Stage::Challenge => {
                let challenge: [u8; 16] = r.array()?;
                let Some(mut password) = config.password.take() else {
                    return Err(RfbError::PasswordRequired.into());
                };
                out.extend_from_slice(&vnc_auth_response(&password, &challenge));
                password.zeroize();
                self.stage = Stage::SecurityResult;
            }
            Stage::SecurityResult => {
                read_security_result(&mut r, self.version, &config.limits)?;
                // ClientInit (§7.3.1).
                out.push(u8::from(config.shared));
                self.stage = Stage::ServerInit;
            }
            Stage::ServerInit => {
                let init = read_server_init(&mut r, &config.limits)?;
                return Ok(Progress::Done(r.consumed(), init));
            }
        }
        Ok(Progress::Consumed(r.consumed()))
    }
}

/// §7.1.1: "RFB xxx.yyy\n"; we answer with the highest version ≤ 3.8 the
/// server offers. 3.4–3.6 (UltraVNC) behave as 3.3; 4.x and 5.x (RealVNC,
/// Intel AMT) and 3.889 (Apple) speak 3.8 to a 3.8 client.
fn read_version(r: &mut Reader) -> Step<Version> {
    let raw: [u8; 12] = r.array()?;
    let shown = || String::from_utf8_lossy(&raw).into_owned();
    let digits = |part: &[u8]| -> Option<u32> {
        part.iter().try_fold(0u32, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })
    };
    let (Some(major), Some(minor)) = (digits(&raw[4..7]), digits(&raw[8..11])) else {
        return Err(RfbError::NotRfb(shown()).into());
    };
    if &raw[..4] != b"RFB " || raw[7] != b'.' || raw[11] != b'\n' {
        return Err(RfbError::NotRfb(shown()).into());
    }
    match (major, minor) {
        (3, 8..) | (4.., _) => Ok(Version::V3_8),
        (3, 7) => Ok(Version::V3_7),
        (3, 3..=6) => Ok(Version::V3_3),
        _ => Err(RfbError::UnsupportedVersion(format!("{major}.{minor}")).into()),
    }
}

/// §7.1.2. Picks, in the server's order, the first type we speak, passing
/// over VNC Authentication when no password is configured.
fn read_security(
    r: &mut Reader,
    version: Version,
    have_password: bool,
    limits: &Limits,
) -> Step<u8> {
    let offered: Vec<u8> = if version == Version::V3_3 {
        // 3.3: the server decides and sends a u32.
        match r.u32()? {
            0 => {
                let reason = bounded_bytes(r, "a failure reason length", limits.max_name_len)?;
                return Err(RfbError::ConnectionRefused(server_text(reason)).into());
            }
            t => vec![u8::try_from(t).unwrap_or(0)],
        }
    } else {
        let count = r.u8()?;
        if count == 0 {
            let reason = bounded_bytes(r, "a failure reason length", limits.max_name_len)?;
            return Err(RfbError::ConnectionRefused(server_text(reason)).into());
        }
        r.bytes(usize::from(count))?.to_vec()
    };
    let usable = |t: &&u8| **t == SECURITY_NONE || (**t == SECURITY_VNC_AUTH && have_password);
    match offered.iter().find(usable) {
        Some(&t) => Ok(t),
        None if offered.contains(&SECURITY_VNC_AUTH) => Err(RfbError::PasswordRequired.into()),
        None => Err(RfbError::NoCommonSecurityType(offered).into()),
    }
}

/// §7.2.2: the 16-byte challenge encrypted with DES (ECB, two blocks). The
/// key is the password's first 8 bytes, zero-padded, each byte with its
/// bits reversed (the historic VNC quirk every server expects).
pub fn vnc_auth_response(password: &str, challenge: &[u8; 16]) -> [u8; 16] {
    let mut key = [0u8; 8];
    for (k, b) in key.iter_mut().zip(password.as_bytes()) {
        *k = b.reverse_bits();
    }
    let cipher = Des::new(GenericArray::from_slice(&key));
    key.zeroize();
    let mut response = *challenge;
    for block in response.chunks_exact_mut(8) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    response
}

/// §7.1.3: 0 is OK; anything else failed, with a reason string in 3.8.
fn read_security_result(r: &mut Reader, version: Version, limits: &Limits) -> Step<()> {
    match r.u32()? {
        0 => Ok(()),
        status => {
            let reason = if version == Version::V3_8 {
                server_text(bounded_bytes(
                    r,
                    "a failure reason length",
                    limits.max_name_len,
                )?)
            } else {
                String::new()
            };
            let reason = if reason.trim().is_empty() {
                format!("the server said no (status {status}) without a reason; check the password")
            } else {
                reason
            };
            Err(RfbError::AuthenticationFailed(reason).into())
        }
    }
}

/// §7.3.2: width, height, the server's pixel format (ignored: we set our
/// own), and the desktop name.
fn read_server_init(r: &mut Reader, limits: &Limits) -> Step<ServerInit> {
    let width = r.u16()?;
    let height = r.u16()?;
    check_desktop_size(width, height, limits)?;
    r.skip(16)?;
    let name = bounded_bytes(r, "a desktop name length", limits.max_name_len)?;
    Ok(ServerInit {
        width,
        height,
        name: server_text(name),
    })
}

pub(crate) fn check_desktop_size(width: u16, height: u16, limits: &Limits) -> Result<(), Stop> {
    if width > limits.max_width || height > limits.max_height {
        return Err(RfbError::DesktopTooLarge {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
        }
        .into());
    }
    if width == 0 || height == 0 {
        return Err(RfbError::Malformed(format!(
            "server announced an empty {width}×{height} desktop"
        ))
        .into());
    }
    if u32::from(width) * u32::from(height) > limits.max_pixels {
        return Err(RfbError::DesktopTooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(line: &[u8]) -> Result<Version, RfbError> {
        match read_version(&mut Reader::new(line)) {
            Ok(v) => Ok(v),
            Err(Stop::Fail(e)) => Err(e),
            Err(Stop::Incomplete) => panic!("incomplete"),
        }
    }

    #[test]
    fn answers_with_the_highest_version_up_to_3_8() {
        assert_eq!(version(b"RFB 003.008\n"), Ok(Version::V3_8));
        assert_eq!(version(b"RFB 003.007\n"), Ok(Version::V3_7));
        assert_eq!(version(b"RFB 003.003\n"), Ok(Version::V3_3));
        assert_eq!(version(b"RFB 003.006\n"), Ok(Version::V3_3));
        assert_eq!(version(b"RFB 004.001\n"), Ok(Version::V3_8));
        assert_eq!(version(b"RFB 003.889\n"), Ok(Version::V3_8));
        assert_eq!(
            version(b"RFB 002.000\n"),
            Err(RfbError::UnsupportedVersion("2.0".into()))
        );
        assert!(matches!(version(b"SSH-2.0-Open"), Err(RfbError::NotRfb(_))));
        assert!(matches!(
            version(b"RFB 003.00x\n"),
            Err(RfbError::NotRfb(_))
        ));
    }

    #[test]
    fn vnc_auth_key_bytes_are_bit_reversed() {
        // The same challenge under "ab" and under the reversed-bit key given
        // to plain DES must agree; and only 8 bytes of password count.
        let challenge = *b"0123456789abcdef";
        let ours = vnc_auth_response("ab", &challenge);
        let mut key = [0u8; 8];
        key[0] = b'a'.reverse_bits();
        key[1] = b'b'.reverse_bits();
        let des = Des::new(GenericArray::from_slice(&key));
        let mut expected = challenge;
        for block in expected.chunks_exact_mut(8) {
            des.encrypt_block(GenericArray::from_mut_slice(block));
        }
        assert_eq!(ours, expected);
        assert_ne!(ours, challenge);
        assert_eq!(
            vnc_auth_response("12345678", &challenge),
            vnc_auth_response("123456789-ignored", &challenge)
        );
    }
}
