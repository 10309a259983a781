//! SSH targets: connecting with the pinned host key, fetching a server's host key so
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
/// the browser (output pacing), and it still allows several MB/s on a LAN.
const WINDOW: u32 = 256 * 1024;
/// The most characters of a failure's detail kept in the session's outcome.
const MAX_REASON: usize = 200;
/// Messages russh may queue for the session task; when they are not taken, russh stops reading
/// the connection, so a flooding command blocks at the target.
const CHANNEL_BUFFER: usize = 8;

/// Why an SSH connection was refused or failed. The messages say what to do; an administrator
/// pins or re-accepts a host key on the target's page or with the command line. `name` is the
/// target's name ("the server" when a host key is fetched for a target not yet added).
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error(
        "cannot reach {name} ({address}): {reason}; ask the administrator whether it is running"
    )]
    Unreachable {
        name: String,
        address: String,
        reason: String,
    },
    #[error("{name} ({address}) did not complete the SSH handshake within {} s", STEP_TIMEOUT.as_secs())]
    Timeout { name: String, address: String },
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
    #[error(
        "{name} ({address}) did not identify itself as an SSH-2.0 server (its first lines are \
         not an SSH version line); check that the target's port is an SSH server"
    )]
    NotSsh { name: String, address: String },
    #[error(
        "{name} ({address}) sent an SSH packet of {size} bytes, more than the gateway accepts; \
         the connection was ended"
    )]
    PacketTooLarge {
        name: String,
        address: String,
        size: usize,
    },
    #[error(
        "{name} ({address}) offers no {kind} algorithm the gateway accepts; ask the target's \
         administrator to enable a current one (such as curve25519-sha256, ssh-ed25519, \
         chacha20-poly1305 or aes-gcm)"
    )]
    NoCommonAlgorithm {
        name: String,
        address: String,
        kind: String,
    },
    #[error("{name} ({address}) closed the connection during the SSH handshake")]
    ClosedInHandshake { name: String, address: String },
    #[error("SSH with {name} ({address}) failed: {reason}")]
    Protocol {
        name: String,
        address: String,
        reason: String,
    },
    #[error(
        "{name} ({address}) refused the login of user {user:?}; check the target's credentials (or the password you typed)"
    )]
    LoginRefused {
        name: String,
        address: String,
        user: String,
    },
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
            SshError::NotSsh { .. } => "ssh-not-ssh",
            SshError::PacketTooLarge { .. } => "ssh-packet-too-large",
            SshError::NoCommonAlgorithm { .. } => "ssh-no-common-algorithm",
            SshError::ClosedInHandshake { .. } => "ssh-closed-in-handshake",
            SshError::Protocol { .. } => "ssh-protocol",
            SshError::LoginRefused { .. } => "ssh-login-refused",
            SshError::BadPrivateKey(_) => "ssh-bad-private-key",
        }
    }

    /// The same sentence in Japanese.
    pub fn japanese(&self) -> String {
        match self {
            SshError::Unreachable {
                name,
                address,
                reason,
            } => format!(
                "{name}({address})に接続できません: {reason}。動作しているか管理者に確認してください。"
            ),
            SshError::Timeout { name, address } => format!(
                "{name}({address})が{}秒以内に SSH の接続手順を終えませんでした。",
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
            SshError::NotSsh { name, address } => format!(
                "{name}({address})が SSH-2.0 のサーバとして名乗りませんでした(最初の行が SSH のバージョン行ではありません)。接続先のポートが SSH サーバか確認してください。"
            ),
            SshError::PacketTooLarge {
                name,
                address,
                size,
            } => format!(
                "{name}({address})がゲートウェイの受け付ける大きさを超える {size} バイトの SSH パケットを送ってきたため、接続を終了しました。"
            ),
            SshError::NoCommonAlgorithm {
                name,
                address,
                kind,
            } => format!(
                "{name}({address})がゲートウェイの受け付ける {kind} のアルゴリズムを提示しませんでした。接続先の管理者に新しいアルゴリズム(curve25519-sha256、ssh-ed25519、chacha20-poly1305、aes-gcm など)を有効にするよう依頼してください。"
            ),
            SshError::ClosedInHandshake { name, address } => {
                format!("{name}({address})が SSH の接続手順の途中で接続を閉じました。")
            }
            SshError::Protocol {
                name,
                address,
                reason,
            } => {
                format!("{name}({address})との SSH 通信が失敗しました: {reason}")
            }
            SshError::LoginRefused {
                name,
                address,
                user,
            } => format!(
                "{name}({address})がユーザー「{user}」のログインを拒否しました。接続先の資格情報(または入力したパスワード)を確認してください。"
            ),
            SshError::BadPrivateKey(reason) => format!(
                "この接続先の保存された秘密鍵を読めません: {reason}。接続先を登録し直してください。"
            ),
        }
    }

    /// What went wrong in the handshake, in the words of the failure: russh's errors are sorted
    /// into the ones a user can act on.
    fn handshake(name: &str, address: &str, e: russh::Error) -> SshError {
        let (name, address) = (name.to_owned(), address.to_owned());
        match e {
            // RFC 4253 §4.2: a version line of at most 255 bytes, after at most a few other
            // lines (russh reads 255 bytes a line and 20 lines).
            russh::Error::Version => SshError::NotSsh { name, address },
            // RFC 4253 §6.1: packets of 35000 bytes must be accepted; russh takes up to about
            // 256 KiB and refuses a longer one before reading or allocating it.
            russh::Error::PacketSize(size) => SshError::PacketTooLarge {
                name,
                address,
                size,
            },
            // RFC 4253 §7.1: no algorithm of a kind in both lists.
            russh::Error::NoCommonAlgo { kind, .. } => SshError::NoCommonAlgorithm {
                name,
                address,
                kind: match kind {
                    russh::AlgorithmKind::Kex => "key-exchange",
                    russh::AlgorithmKind::Key => "host-key",
                    russh::AlgorithmKind::Cipher => "cipher",
                    russh::AlgorithmKind::Compression => "compression",
                    russh::AlgorithmKind::Mac => "MAC",
                }
                .to_owned(),
            },
            russh::Error::Disconnect | russh::Error::HUP => {
                SshError::ClosedInHandshake { name, address }
            }
            russh::Error::IO(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                SshError::ClosedInHandshake { name, address }
            }
            other => {
                // russh's text may quote what the server sent; the outcome is kept short.
                let mut reason = other.to_string();
                if let Some((at, _)) = reason.char_indices().nth(MAX_REASON) {
                    reason.truncate(at);
                    reason.push('…');
                }
                SshError::Protocol {
                    name,
                    address,
                    reason,
                }
            }
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

/// The gateway's side of an SSH connection: checks the server's key against the pinned one
/// (or, with none, only records it) and refuses every channel the server opens.
#[derive(Debug)]
pub struct HostKeyCheck {
    pinned: Option<PublicKey>,
    presented: Arc<Mutex<Option<PublicKey>>>,
}

/// A channel the server opened towards the gateway: refused, whatever its type. The gateway
/// asks for no forwarding (RFC 4254 §7.1 tcpip-forward, §6.3 x11-req, agent forwarding), so a
/// server that opens such a channel anyway is hostile or broken; russh's default would accept
/// it. RFC 4254 §5.1: SSH_OPEN_ADMINISTRATIVELY_PROHIBITED.
async fn refuse_channel(kind: &'static str, reply: client::ChannelOpenHandle) {
    tracing::debug!(channel = kind, "Channel opened by the target refused");
    reply
        .reject(russh::ChannelOpenFailure::AdministrativelyProhibited)
        .await;
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn server_channel_open_session(
        &mut self,
        _channel: russh::Channel<client::Msg>,
        reply: client::ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        refuse_channel("session", reply).await;
        Ok(())
    }

    async fn server_channel_open_direct_tcpip(
        &mut self,
        _channel: russh::Channel<client::Msg>,
        _host_to_connect: &str,
        _port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: client::ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        refuse_channel("direct-tcpip", reply).await;
        Ok(())
    }

    async fn server_channel_open_direct_streamlocal(
        &mut self,
        _channel: russh::Channel<client::Msg>,
        _socket_path: &str,
        reply: client::ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        refuse_channel("direct-streamlocal", reply).await;
        Ok(())
    }

    async fn server_channel_open_forwarded_tcpip(
        &mut self,
        _channel: russh::Channel<client::Msg>,
        _connected_address: &str,
        _connected_port: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: client::ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        refuse_channel("forwarded-tcpip", reply).await;
        Ok(())
    }

    async fn server_channel_open_forwarded_streamlocal(
        &mut self,
        _channel: russh::Channel<client::Msg>,
        _socket_path: &str,
        reply: client::ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        refuse_channel("forwarded-streamlocal", reply).await;
        Ok(())
    }

    async fn server_channel_open_agent_forward(
        &mut self,
        _channel: russh::Channel<client::Msg>,
        reply: client::ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        refuse_channel("auth-agent", reply).await;
        Ok(())
    }

    async fn server_channel_open_x11(
        &mut self,
        _channel: russh::Channel<client::Msg>,
        _originator_address: &str,
        _originator_port: u32,
        reply: client::ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        refuse_channel("x11", reply).await;
        Ok(())
    }

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
    name: &str,
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
    let timeout = || SshError::Timeout {
        name: name.to_owned(),
        address: address.to_owned(),
    };
    let tcp =
        match tokio::time::timeout(STEP_TIMEOUT, tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                let error = SshError::Unreachable {
                    name: name.to_owned(),
                    address: address.to_owned(),
                    reason: e.to_string(),
                };
                return (Err(error), None);
            }
            Err(_) => return (Err(timeout()), None),
        };
    let _ = tcp.set_nodelay(true);
    // One deadline for the version exchange and the key exchange together: a server that
    // trickles pre-banner lines or never finishes a packet is ended by it.
    let result = match tokio::time::timeout(
        STEP_TIMEOUT,
        client::connect_stream(config(), tcp, check),
    )
    .await
    {
        Ok(Ok(handle)) => Ok(handle),
        Ok(Err(e)) => Err(SshError::handshake(name, address, e)),
        Err(_) => Err(timeout()),
    };
    let presented = presented.lock().ok().and_then(|mut p| p.take());
    (result, presented)
}

/// The host key a server presents, for `hoshu admin target add` to show and pin. The
/// connection ends after the key exchange; nothing is authenticated.
pub async fn fetch_host_key(host: &str, port: u16) -> Result<PublicKey, SshError> {
    let address = format!("{host}:{port}");
    let (result, presented) = handshake("the server", &address, None).await;
    match (result, presented) {
        (_, Some(key)) => Ok(key),
        (Err(e), None) => Err(e),
        (Ok(_), None) => Err(SshError::Protocol {
            name: "the server".to_owned(),
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
    let (result, presented) = handshake(name, &address, Some(pinned.clone())).await;
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
            name: name.to_owned(),
            address,
            user: user.to_owned(),
        }),
        Ok(Ok(Err(e))) => Err(e),
        Ok(Err(e)) => Err(SshError::handshake(name, &address, e)),
        Err(_) => Err(SshError::Timeout {
            name: name.to_owned(),
            address,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_failures_are_sorted_into_what_a_user_can_act_on() {
        let code = |e| SshError::handshake("box", "10.0.0.1:22", e).code();
        assert_eq!(code(russh::Error::Version), "ssh-not-ssh");
        assert_eq!(
            code(russh::Error::PacketSize(1 << 31)),
            "ssh-packet-too-large"
        );
        assert_eq!(code(russh::Error::Disconnect), "ssh-closed-in-handshake");
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert_eq!(code(russh::Error::IO(eof)), "ssh-closed-in-handshake");
        let none = russh::Error::NoCommonAlgo {
            kind: russh::AlgorithmKind::Cipher,
            ours: vec!["aes256-gcm@openssh.com".into()],
            theirs: vec!["x".repeat(40); 10_000],
        };
        let e = SshError::handshake("box", "10.0.0.1:22", none);
        assert_eq!(e.code(), "ssh-no-common-algorithm");
        // The server's lists are not in the message.
        assert!(e.to_string().len() < 400 && e.japanese().len() < 600, "{e}");
        assert!(e.to_string().contains("no cipher algorithm"), "{e}");
        let long = russh::Error::InvalidConfig("y".repeat(10_000));
        let e = SshError::handshake("box", "10.0.0.1:22", long);
        assert_eq!(e.code(), "ssh-protocol");
        assert!(e.to_string().chars().count() < 300, "{e}");
    }
}
