//! SSH targets (issue 8): connecting with the pinned host key, fetching a server's host key so
//! an administrator can pin it, and logging in with the target's credentials. Used by the
//! session engine and by `hoshu admin target`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};

/// Connecting, the key exchange and each login step must finish within this time.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// SSH's flow-control window the gateway grants a target per channel. Small on purpose: with
/// the bounded channel buffer it is what a target can have in flight before it must wait for
/// the browser (output pacing, issue 8 §5), and it still allows several MB/s on a LAN.
const WINDOW: u32 = 256 * 1024;
/// Messages russh may queue for the session task; when they are not taken, russh stops reading
/// the connection, so a flooding command blocks at the target.
const CHANNEL_BUFFER: usize = 8;

/// Why an SSH connection was refused or failed. The messages say what to do; an administrator
/// pins or re-accepts a host key on the target's page or with the command line.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot reach {address}: {reason}; ask the administrator whether it is running")]
    Unreachable { address: String, reason: String },
    #[error("{address} did not complete the SSH handshake within {} s", STEP_TIMEOUT.as_secs())]
    Timeout { address: String },
    #[error(
        "the host key of {address} changed (it presents {presented}, the pinned key is {pinned}); \
         the session was refused because the server may be an impostor: an administrator must \
         check the server and accept the new host key of target {name}"
    )]
    HostKeyChanged {
        name: String,
        address: String,
        presented: String,
        pinned: String,
    },
    #[error(
        "target {name} has no pinned host key; an administrator must accept the target's host key"
    )]
    NoPinnedKey { name: String },
    #[error("the stored host key of target {name} is unreadable: {reason}; accept it again")]
    BadPinnedKey { name: String, reason: String },
    #[error("SSH with {address} failed: {reason}")]
    Protocol { address: String, reason: String },
    #[error(
        "{address} refused the login of user {user:?}; check the target's credentials (or the password you typed)"
    )]
    LoginRefused { address: String, user: String },
    #[error("the stored private key of this target is unreadable: {0}; add the target again")]
    BadPrivateKey(String),
}

impl SshError {
    /// A stable word for the outcome.
    pub fn code(&self) -> &'static str {
        match self {
            SshError::Unreachable { .. } => "unreachable",
            SshError::Timeout { .. } => "handshake-timeout",
            SshError::HostKeyChanged { .. } => "ssh-host-key-changed",
            SshError::NoPinnedKey { .. } => "ssh-no-pinned-key",
            SshError::BadPinnedKey { .. } => "ssh-bad-pinned-key",
            SshError::Protocol { .. } => "ssh-protocol",
            SshError::LoginRefused { .. } => "ssh-login-refused",
            SshError::BadPrivateKey(_) => "ssh-bad-private-key",
        }
    }

    /// The same sentence in Japanese.
    pub fn japanese(&self) -> String {
        match self {
            SshError::Unreachable { address, reason } => format!(
                "{address} に接続できません: {reason}。動作しているか管理者に確認してください。"
            ),
            SshError::Timeout { address } => format!(
                "{address} が{}秒以内に SSH の接続手順を終えませんでした。",
                STEP_TIMEOUT.as_secs()
            ),
            SshError::HostKeyChanged {
                name,
                address,
                presented,
                pinned,
            } => format!(
                "{address} のホスト鍵が変わりました(提示された鍵 {presented}、登録済みの鍵 {pinned})。なりすましのおそれがあるため接続を拒否しました。管理者がサーバを確認し、接続先 {name} の新しいホスト鍵を承認する必要があります。"
            ),
            SshError::NoPinnedKey { name } => format!(
                "接続先 {name} のホスト鍵が登録されていません。管理者がホスト鍵を承認する必要があります。"
            ),
            SshError::BadPinnedKey { name, reason } => format!(
                "接続先 {name} の登録済みホスト鍵を読めません: {reason}。もう一度承認してください。"
            ),
            SshError::Protocol { address, reason } => {
                format!("{address} との SSH 通信が失敗しました: {reason}")
            }
            SshError::LoginRefused { address, user } => format!(
                "{address} がユーザー「{user}」のログインを拒否しました。接続先の資格情報(または入力したパスワード)を確認してください。"
            ),
            SshError::BadPrivateKey(reason) => format!(
                "この接続先の保存された秘密鍵を読めません: {reason}。接続先を登録し直してください。"
            ),
        }
    }
}

/// A host key as stored: an OpenSSH public-key line.
pub fn parse_host_key(line: &str) -> Result<PublicKey, String> {
    PublicKey::from_openssh(line.trim()).map_err(|e| e.to_string())
}

/// `SHA256:…`, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The OpenSSH line of a key, without its comment.
pub fn openssh_line(key: &PublicKey) -> String {
    let mut key = key.clone();
    key.set_comment("");
    key.to_openssh().unwrap_or_default().trim_end().to_owned()
}

/// Checks the server's key against the pinned one (or, with none, only records it).
#[derive(Debug)]
pub struct HostKeyCheck {
    pinned: Option<PublicKey>,
    presented: Arc<Mutex<Option<PublicKey>>>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        // Host certificates are not pinned: only plain keys are accepted.
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_key else {
            return Ok(false);
        };
        if let Ok(mut presented) = self.presented.lock() {
            *presented = Some(key.clone());
        }
        Ok(self
            .pinned
            .as_ref()
            .is_some_and(|pinned| pinned.key_data() == key.key_data()))
    }
}

fn config() -> Arc<client::Config> {
    Arc::new(client::Config {
        window_size: WINDOW,
        channel_buffer_size: CHANNEL_BUFFER,
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 3,
        nodelay: true,
        ..client::Config::default()
    })
}

async fn handshake(
    address: &str,
    pinned: Option<PublicKey>,
) -> (
    Result<client::Handle<HostKeyCheck>, SshError>,
    Option<PublicKey>,
) {
    let presented = Arc::new(Mutex::new(None));
    let check = HostKeyCheck {
        pinned,
        presented: presented.clone(),
    };
    let tcp =
        match tokio::time::timeout(STEP_TIMEOUT, tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                let error = SshError::Unreachable {
                    address: address.to_owned(),
                    reason: e.to_string(),
                };
                return (Err(error), None);
            }
            Err(_) => {
                let error = SshError::Timeout {
                    address: address.to_owned(),
                };
                return (Err(error), None);
            }
        };
    let _ = tcp.set_nodelay(true);
    let result = match tokio::time::timeout(
        STEP_TIMEOUT,
        client::connect_stream(config(), tcp, check),
    )
    .await
    {
        Ok(Ok(handle)) => Ok(handle),
        Ok(Err(e)) => Err(SshError::Protocol {
            address: address.to_owned(),
            reason: e.to_string(),
        }),
        Err(_) => Err(SshError::Timeout {
            address: address.to_owned(),
        }),
    };
    let presented = presented.lock().ok().and_then(|mut p| p.take());
    (result, presented)
}

/// The host key a server presents, for `hoshu admin target add` to show and pin. The
/// connection ends after the key exchange; nothing is authenticated.
pub async fn fetch_host_key(host: &str, port: u16) -> Result<PublicKey, SshError> {
    let address = format!("{host}:{port}");
    let (result, presented) = handshake(&address, None).await;
    match (result, presented) {
        (_, Some(key)) => Ok(key),
        (Err(e), None) => Err(e),
        (Ok(_), None) => Err(SshError::Protocol {
            address,
            reason: "the server presented no host key".to_owned(),
        }),
    }
}

/// How the gateway logs in to the target (the vendor never sees stored credentials).
pub enum Credential {
    Password(String),
    /// OpenSSH or PEM private-key text, unencrypted.
    PrivateKey(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Password(_) => f.write_str("Password(***)"),
            Credential::PrivateKey(_) => f.write_str("PrivateKey(***)"),
        }
    }
}

/// Checks that private-key text is a usable (unencrypted) key; the error says what is wrong.
pub fn check_private_key(text: &str) -> Result<(), String> {
    russh::keys::decode_secret_key(text, None)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// An open, authenticated SSH connection to a target.
pub type Connection = client::Handle<HostKeyCheck>;

/// Connects to target `name` at `host:port`, insisting on the pinned host key, and logs in.
pub async fn connect(
    name: &str,
    host: &str,
    port: u16,
    pinned: Option<&str>,
    user: &str,
    credential: Credential,
) -> Result<Connection, SshError> {
    let address = format!("{host}:{port}");
    let Some(pinned) = pinned else {
        return Err(SshError::NoPinnedKey {
            name: name.to_owned(),
        });
    };
    let pinned = parse_host_key(pinned).map_err(|reason| SshError::BadPinnedKey {
        name: name.to_owned(),
        reason,
    })?;
    let pinned_print = fingerprint(&pinned);
    let (result, presented) = handshake(&address, Some(pinned.clone())).await;
    let mut handle = match (result, presented) {
        (Ok(handle), _) => handle,
        (Err(_), Some(key)) if key.key_data() != pinned.key_data() => {
            return Err(SshError::HostKeyChanged {
                name: name.to_owned(),
                address,
                presented: fingerprint(&key),
                pinned: pinned_print,
            });
        }
        (Err(e), _) => return Err(e),
    };
    let login = async {
        match credential {
            Credential::Password(password) => handle.authenticate_password(user, password).await,
            Credential::PrivateKey(text) => {
                let key = russh::keys::decode_secret_key(&text, None)
                    .map_err(|e| SshError::BadPrivateKey(e.to_string()));
                let key = match key {
                    Ok(key) => key,
                    Err(e) => return Ok(Err(e)),
                };
                let hash = handle.best_supported_rsa_hash().await?.flatten();
                let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
                handle.authenticate_publickey(user, key).await
            }
        }
        .map(Ok)
    };
    let outcome = tokio::time::timeout(STEP_TIMEOUT, login).await;
    match outcome {
        Ok(Ok(Ok(result))) if result.success() => Ok(handle),
        Ok(Ok(Ok(_))) => Err(SshError::LoginRefused {
            address,
            user: user.to_owned(),
        }),
        Ok(Ok(Err(e))) => Err(e),
        Ok(Err(e)) => Err(SshError::Protocol {
            address,
            reason: e.to_string(),
        }),
        Err(_) => Err(SshError::Timeout { address }),
    }
}
