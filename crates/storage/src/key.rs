//! The server key and AEAD sealing of secrets that must be read back (DESIGN §4: the pattern and
//! its insertion position).

use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::{Result, StorageError};

const SEALED_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// 32 random bytes kept in `server.key` (mode 0600). Debug never prints it.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(***)")
    }
}

impl ServerKey {
    pub fn load_or_create(path: &Path) -> Result<ServerKey> {
        let key_error = |source| StorageError::KeyFile {
            path: path.to_owned(),
            source,
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.try_into().map_err(|_| StorageError::KeyFileLength {
                    path: path.to_owned(),
                })?;
                Ok(ServerKey(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(key_error)?;
                file.write_all(&key).map_err(key_error)?;
                file.sync_all().map_err(key_error)?;
                Ok(ServerKey(key))
            }
            Err(e) => Err(key_error(e)),
        }
    }

    /// `version ‖ nonce ‖ ciphertext`; `aad` binds the secret to its owner so a sealed value
    /// copied to another user's row does not open.
    pub(crate) fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for inputs under 256 GiB");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(SEALED_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// `None` when the value was not sealed by this key for this `aad`, or is malformed.
    pub(crate) fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        let (&version, rest) = sealed.split_first()?;
        if version != SEALED_VERSION || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_owner() {
        let dir = tempfile::tempdir().unwrap();
        let key = ServerKey::load_or_create(&dir.path().join("k")).unwrap();
        let again = ServerKey::load_or_create(&dir.path().join("k")).unwrap();
        let other = ServerKey::load_or_create(&dir.path().join("k2")).unwrap();
        let sealed = key.seal(b"pattern", b"user:1");
        assert_eq!(
            again.open(&sealed, b"user:1").as_deref(),
            Some(&b"pattern"[..])
        );
        assert_eq!(key.open(&sealed, b"user:2"), None);
        assert_eq!(other.open(&sealed, b"user:1"), None);
        assert_eq!(key.open(&sealed[..10], b"user:1"), None);
        assert_eq!(key.open(&[], b"user:1"), None);
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        ServerKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
