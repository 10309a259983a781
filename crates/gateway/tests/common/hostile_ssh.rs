//! A scripted SSH server for the hostile-SSH tests, and the stage they run on.
//!
//! Before the key exchange a test writes raw bytes (RFC 4253 §4.2 version lines, §6 binary
//! packets in the clear, §7.1 KEXINIT), so it can make any line or length wrong. After it, a
//! test scripts a real SSH server (russh's `server` module, the same crate the gateway's client
//! is from): it accepts any password, opens the shell and hands the test a [`Shell`] to write
//! to the channel whatever the test wants: floods, escape sequences, exit statuses, channels
//! opened back, global requests.
//!
//! [`Stage`] is a gateway with a normal SSH session to a real sshd (common/sshd.rs) beside the
//! hostile one, as hostile_rdp.rs has a demo desktop beside its scripted servers.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use russh::keys::PrivateKey;
use russh::server::{self, Auth, Msg, Session};
use russh::{Channel, ChannelId};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::script::{MemoryMark, ScriptedServer};
use super::sshd::{self, Sshd};
use super::terminal::Terminal;
use super::tunnel::{end_session, ended_session, list_sessions};
use super::{Credential, Gateway, Session as Login};

/// The version line of the scripted server (RFC 4253 §4.2).
pub const VERSION: &[u8] = b"SSH-2.0-HostileScript_1.0\r\n";
/// What the scripted shell prints when it waits for a line; `Terminal::wait_prompt` knows it.
pub const PROMPT: &str = "hostile$ ";

/// The server's host key, made once per test process: the key and its `SHA256:…`.
struct Identity {
    key: PrivateKey,
    fingerprint: String,
}

fn identity() -> &'static Identity {
    static IDENTITY: OnceLock<Identity> = OnceLock::new();
    IDENTITY.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("host_key");
        let made = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "hostile", "-f"])
            .arg(&path)
            .status()
            .expect("ssh-keygen runs (Debian package openssh-client)");
        assert!(made.success(), "ssh-keygen made the scripted server's key");
        let text = std::fs::read_to_string(&path).expect("the key file");
        Identity {
            key: russh::keys::decode_secret_key(&text, None).expect("ssh-keygen writes OpenSSH"),
            fingerprint: sshd::fingerprint(&path.with_extension("pub")),
        }
    })
}

/// The scripted SSH server ([`ScriptedServer`]): the host-key fetch of `target add` is
/// answered by an honest server.
#[derive(Debug)]
pub struct SshScript {
    pub port: u16,
    /// `SHA256:…` of the host key, for `--accept-host-key`.
    pub fingerprint: String,
    _server: ScriptedServer,
}

impl SshScript {
    pub fn start<F, Fut>(serve: F) -> SshScript
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        let fetch = |stream| serve_shell(stream, Options::default(), script(echo));
        let server = ScriptedServer::start("SSH", fetch, serve);
        SshScript {
            port: server.port,
            fingerprint: identity().fingerprint.clone(),
            _server: server,
        }
    }
}

// ---- Before the key exchange: raw bytes ----

// Re-exported: the cases call them through this module, and not every test binary does.
#[allow(unused_imports)]
pub use super::script::{drain, flood};

/// RFC 4253 §6: `uint32 packet_length, byte padding_length, payload, padding`, in the clear,
/// padded to a multiple of 8 with at least 4 bytes of padding.
pub fn packet(payload: &[u8]) -> Vec<u8> {
    let mut padding = 8 - (5 + payload.len()) % 8;
    if padding < 4 {
        padding += 8;
    }
    let mut out = ((1 + payload.len() + padding) as u32)
        .to_be_bytes()
        .to_vec();
    out.push(padding as u8);
    out.extend_from_slice(payload);
    out.extend(std::iter::repeat_n(0u8, padding));
    out
}

/// RFC 4253 §7.1: SSH_MSG_KEXINIT with the same `names` in each of its ten name-lists.
pub fn kexinit(names: &str) -> Vec<u8> {
    let mut payload = vec![20];
    payload.extend_from_slice(&[0x5A; 16]);
    for _ in 0..10 {
        payload.extend_from_slice(&(names.len() as u32).to_be_bytes());
        payload.extend_from_slice(names.as_bytes());
    }
    payload.push(0); // first_kex_packet_follows
    payload.extend_from_slice(&[0; 4]); // reserved
    payload
}

/// Reads the gateway's version line, then sends `VERSION`: the start of every raw script.
pub async fn versions(tcp: &mut TcpStream) -> io::Result<()> {
    let mut byte = [0u8; 1];
    for _ in 0..255 {
        tcp.read_exact(&mut byte).await?;
        if byte[0] == b'\n' {
            break;
        }
    }
    tcp.write_all(VERSION).await
}

// ---- After the key exchange: a scripted russh server ----

/// What the scripted server is told to do besides its shell's script.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The window the server grants the gateway per channel (RFC 4254 §5.2); russh's default
    /// when `None`.
    pub window: Option<u32>,
    /// Every window adjust the server sends raises the window to this (u32::MAX: the largest
    /// RFC 4254 allows, so each further adjust would overflow a client that adds without care).
    pub adjust_to: Option<u32>,
    /// Keepalive requests (`keepalive@openssh.com`, want-reply) queued when the shell opens.
    pub keepalives: usize,
}

/// The shell channel the gateway opened, handed to a test's script.
pub struct Shell {
    pub handle: server::Handle,
    pub channel: ChannelId,
    /// The gateway's keys, as they arrive.
    pub keys: mpsc::UnboundedReceiver<Vec<u8>>,
}

pub type Script = Arc<dyn Fn(Shell) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A script from an async function of the shell.
pub fn script<F, Fut>(f: F) -> Script
where
    F: Fn(Shell) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |shell| Box::pin(f(shell)))
}

impl Shell {
    /// Writes `bytes` to the channel; false once the gateway is gone.
    pub async fn send(&self, bytes: &[u8]) -> bool {
        self.handle.data(self.channel, bytes.to_vec()).await.is_ok()
    }

    /// The next line typed (up to CR), echoed as a terminal does; `None` when the gateway left.
    pub async fn line(&mut self) -> Option<String> {
        let mut line = Vec::new();
        loop {
            let keys = self.keys.recv().await?;
            let typed = keys.split(|&k| k == b'\r').next().unwrap_or_default();
            self.send(typed).await;
            line.extend_from_slice(typed);
            if typed.len() < keys.len() {
                self.send(b"\r\n").await;
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
        }
    }

    /// A shell that answers `echo WORDS` with WORDS and everything else with nothing, until the
    /// gateway leaves.
    pub async fn echo(mut self) {
        while self.send(PROMPT.as_bytes()).await {
            let Some(line) = self.line().await else {
                return;
            };
            if let Some(words) = line.strip_prefix("echo ") {
                self.send(format!("{words}\r\n").as_bytes()).await;
            }
        }
    }
}

/// The honest script: a prompt and the echo shell.
pub async fn echo(shell: Shell) {
    shell.echo().await;
}

struct Scripted {
    options: Options,
    script: Script,
    keys: Option<mpsc::UnboundedSender<Vec<u8>>>,
}

impl server::Handler for Scripted {
    type Error = russh::Error;

    async fn auth_password(&mut self, _user: &str, _password: &str) -> Result<Auth, Self::Error> {
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        for _ in 0..self.options.keepalives {
            session.keepalive_request()?;
        }
        let (keys, received) = mpsc::unbounded_channel();
        self.keys = Some(keys);
        let shell = Shell {
            handle: session.handle(),
            channel,
            keys: received,
        };
        tokio::spawn((self.script)(shell));
        Ok(())
    }

    async fn data(
        &mut self,
        _channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(keys) = &self.keys {
            let _ = keys.send(data.to_vec());
        }
        Ok(())
    }

    fn adjust_window(&mut self, _channel: ChannelId, current: u32) -> u32 {
        self.options.adjust_to.unwrap_or(current)
    }
}

/// Serves one connection with russh's server: any password logs in, the shell runs `script`.
pub async fn serve_shell(tcp: TcpStream, options: Options, script: Script) -> io::Result<()> {
    let mut config = server::Config {
        keys: vec![identity().key.clone()],
        auth_rejection_time: Duration::from_millis(10),
        auth_rejection_time_initial: Some(Duration::ZERO),
        ..server::Config::default()
    };
    if let Some(window) = options.window {
        config.window_size = window;
    }
    let handler = Scripted {
        options,
        script,
        keys: None,
    };
    let running = server::run_stream(Arc::new(config), tcp, handler)
        .await
        .map_err(io::Error::other)?;
    // The gateway hanging up is how every session ends here.
    let _ = running.await;
    Ok(())
}

/// A serve function for [`Stage::new`]: russh's server with `options`, the shell running `f`.
pub fn shell<F, Fut>(
    options: Options,
    f: F,
) -> impl Fn(TcpStream) -> Pin<Box<dyn Future<Output = io::Result<()>> + Send>> + Send + Sync + 'static
where
    F: Fn(Shell) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let script = script(f);
    move |tcp| Box::pin(serve_shell(tcp, options, script.clone()))
}

// ---- The stage ----

/// Guacamole status codes the terminal's end message carries (hoshu_guac::Status).
pub const SUCCESS: u64 = 0;
pub const UPSTREAM_TIMEOUT: u64 = 514;
pub const UPSTREAM_ERROR: u64 = 515;
pub const SESSION_CLOSED: u64 = 523;

/// How much the gateway's memory may grow for one hostile session.
const MEMORY_HEADROOM_KIB: u64 = 100 * 1024;
const HEALTHY: &str = "healthy-sshd";

/// A gateway with a normal session on a real sshd and one SSH target served by a script.
pub struct Stage {
    pub name: &'static str,
    pub gateway: Gateway,
    pub vendor: Login,
    healthy: Terminal,
    healthy_id: String,
    checks: usize,
    _sshd: Sshd,
    _server: SshScript,
    memory: MemoryMark,
}

/// How a hostile session ended, as its browser was told.
#[derive(Debug)]
pub struct End {
    pub reason: String,
    pub code: String,
    pub status: u64,
}

impl Stage {
    /// `extra`: more `target add` flags for the hostile target (such as `--clipboard both`).
    pub async fn new<F, Fut>(name: &'static str, extra: &[&str], serve: F) -> Stage
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        let sshd = Sshd::start();
        let gateway = Gateway::demo();
        let password = gateway.password_file(HEALTHY, sshd::PASSWORD);
        gateway.add_demo_target(
            HEALTHY,
            "ssh",
            sshd.port,
            &[
                "--accept-host-key",
                &sshd.fingerprint,
                "--username",
                sshd::USER,
                "--password-file",
                &password,
            ],
        );
        let vendor = gateway.login_ok(&Credential::demo_vendor()).await;
        let (healthy_id, mut healthy) = Terminal::open(&gateway, &vendor, HEALTHY).await;
        healthy.start(100, 30).await;

        let server = SshScript::start(serve);
        let password = gateway.password_file(name, "hostile-pw");
        let mut args = vec![
            "--accept-host-key",
            server.fingerprint.as_str(),
            "--username",
            "hoshu",
            "--password-file",
            &password,
        ];
        args.extend(extra);
        gateway.add_demo_target(name, "ssh", server.port, &args);
        Stage {
            name,
            memory: MemoryMark::of(gateway.pid()),
            gateway,
            vendor,
            healthy,
            healthy_id,
            checks: 0,
            _sshd: sshd,
            _server: server,
        }
    }

    /// Opens the hostile session and sends the terminal's size: its id and terminal.
    pub async fn open(&self) -> (String, Terminal) {
        let (id, mut terminal) = Terminal::open(&self.gateway, &self.vendor, self.name).await;
        terminal.resize(100, 30).await;
        (id, terminal)
    }

    /// Opens the hostile session and waits for the scripted shell's prompt.
    pub async fn shell(&self) -> (String, Terminal) {
        let (id, mut terminal) = self.open().await;
        terminal.wait_control("connected").await;
        terminal.wait_prompt().await;
        (id, terminal)
    }

    /// The gateway is healthy: it runs, `/healthz` answers, and the normal session still echoes
    /// a command on the real sshd.
    pub async fn assert_healthy(&mut self) {
        let name = self.name;
        assert!(self.gateway.is_running(), "{name}: the gateway died");
        let health = self
            .gateway
            .bare_client()
            .get(self.gateway.url("/healthz"))
            .send()
            .await
            .expect("healthz request");
        assert_eq!(health.status().as_u16(), 200, "{name}: /healthz");
        self.checks += 1;
        let line = format!("healthy-{}-{}", self.checks, std::process::id());
        self.healthy.keys(&format!("echo {line}\r")).await;
        self.healthy.wait_line(&line).await;
    }

    /// The gateway's memory stayed within the headroom of what it held before the session.
    pub fn assert_memory_bounded(&self) {
        self.memory
            .assert_peak_bounded(self.name, MEMORY_HEADROOM_KIB);
    }

    /// The hostile session ended with `status` and one of `codes`, its message saying each of
    /// `says` (the target's name among them where the target ended it); only it ended, its row holds the message, memory stayed bounded
    /// and the gateway is healthy.
    pub async fn finish(
        mut self,
        id: &str,
        bad: &mut Terminal,
        status: u64,
        codes: &[&str],
        says: &[&str],
    ) -> End {
        let name = self.name;
        let end = ending(bad).await;
        eprintln!(
            "outcome: {name}: {} {}: {}",
            end.status, end.code, end.reason
        );
        assert_eq!(
            end.status,
            status,
            "{name}: {end:?}; tail: {:?}",
            bad.tail()
        );
        assert!(
            codes.contains(&end.code.as_str()),
            "{name}: the code is one of {codes:?}: {end:?}"
        );
        for words in says {
            assert!(
                end.reason.contains(words),
                "{name}: the message says {words:?}: {end:?}"
            );
        }
        self.assert_memory_bounded();
        self.assert_healthy().await;
        // The session is sealed just after its browser is told.
        let row = ended_session(&self.gateway, &self.vendor, id).await;
        assert_eq!(
            row["outcome"].as_str(),
            Some(end.reason.as_str()),
            "{name}: {row}"
        );
        let live = list_sessions(&self.gateway, &self.vendor, "live").await;
        assert!(
            live.iter().any(|r| r["id"] == self.healthy_id.as_str()),
            "{name}: the healthy session is still live: {live:?}"
        );
        assert!(
            !live.iter().any(|r| r["id"] == id),
            "{name}: the hostile session is not live: {live:?}"
        );
        end
    }

    /// Ends the hostile session with the kill switch while it floods, reading all along as a
    /// browser does: the time from the request to the session's `end` message.
    pub async fn kill(&self, id: &str, bad: &mut Terminal) -> Duration {
        let admin = self.gateway.login_ok(&Credential::demo_admin()).await;
        let started = Instant::now();
        let ended = end_session(&self.gateway, &admin, id);
        let read = async {
            while !bad.controls.iter().any(|c| c["type"] == "end") && bad.closed.is_none() {
                bad.read_one(Duration::from_millis(100)).await;
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "{}: the kill switch did not end the session",
                    self.name
                );
            }
            started.elapsed()
        };
        let (reply, took) = tokio::join!(ended, read);
        assert_eq!(reply.status.as_u16(), 204, "{}", reply.body);
        took
    }
}

/// Reads to the end of the tunnel: the `end` message with its code.
pub async fn ending(terminal: &mut Terminal) -> End {
    let (reason, status) = terminal.ending().await;
    let end: Option<&Value> = terminal.controls.iter().find(|c| c["type"] == "end");
    let code = end
        .and_then(|c| c["code"].as_str())
        .unwrap_or_default()
        .to_owned();
    End {
        reason,
        code,
        status,
    }
}
