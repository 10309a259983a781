//! Real RDP servers for the RDP tests (issue 4), started by `tests/fixtures/rdp-server.sh`, the
//! script the browser tests (web/tests/rdp-servers.mjs) start too, so both see the same servers:
//!
//! - [`RdpServer::xrdp`]: xrdp 0.9 with xorgxrdp, TLS security (xrdp has no NLA), logging in
//!   the local account [`XRDP_USER`]. A wrong password is no protocol error there: the
//!   connection stays up and shows xrdp's login dialog.
//! - [`RdpServer::shadow_nla`]: FreeRDP's shadow server on an Xvfb, NLA against a SAM file; a
//!   wrong password fails the connection.
//!
//! Both show the root window solid [`ROOT_COLOUR`] and, at +0+0, a white-on-black xterm (80×24,
//! core font 9x15, title `hoshu-xterm`) running bash with the prompt `$ `. Each server runs in
//! its own PID and mount namespaces (see the script), so several test processes can run xrdp at
//! the same time, and dropping the fixture leaves no process, X socket or file behind.
//! Headless and as root, like the other fixtures (the script creates the account).

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The local account xrdp logs in (created by the script if absent).
pub const XRDP_USER: &str = "hoshu-rdp";
/// Its password (a test account reachable only through a loopback server started by the test).
pub const XRDP_PASSWORD: &str = "hoshu-Rdp-pw-4";
/// The NLA user of the shadow server (an entry in its SAM file, no local account).
pub const NLA_USER: &str = "hoshu-nla";
pub const NLA_PASSWORD: &str = "hoshu-Nla-pw-7";
/// The root window of both servers.
pub const ROOT_COLOUR: [u8; 3] = [0x33, 0x66, 0x99];

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rdp-server.sh");
/// The script gives up after 60 s itself; this only guards against a hung script.
const STARTUP: Duration = Duration::from_secs(90);
const SHUTDOWN: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Xrdp,
    ShadowNla,
}

impl Kind {
    fn mode(self) -> &'static str {
        match self {
            Kind::Xrdp => "xrdp",
            Kind::ShadowNla => "shadow-nla",
        }
    }
}

/// A running RDP server on 127.0.0.1; stopped when dropped.
#[derive(Debug)]
pub struct RdpServer {
    pub kind: Kind,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// SHA-256 of the DER of the certificate it presents, lowercase hex without colons.
    pub cert_sha256: String,
    /// What the xterm showed so far is logged here (its `-lf` file).
    pub xterm_log: PathBuf,
    script: Option<Script>,
}

#[derive(Debug)]
struct Script {
    child: Child,
    /// Closing it tells the script to stop.
    stdin: Option<ChildStdin>,
    stderr: mpsc::Receiver<String>,
}

impl RdpServer {
    /// xrdp with a new certificate on a free port.
    pub fn xrdp() -> RdpServer {
        RdpServer::start(Kind::Xrdp, None)
    }

    /// freerdp-shadow-cli with NLA on a new Xvfb, with a new certificate on a free port.
    pub fn shadow_nla() -> RdpServer {
        RdpServer::start(Kind::ShadowNla, None)
    }

    /// Stops the server and starts it again on the same port with a new certificate (a
    /// reinstalled server, or an impostor). The picture and the credentials stay the same.
    pub fn restart_with_new_certificate(&mut self) {
        self.stop();
        *self = RdpServer::start(self.kind, Some(self.port));
    }

    fn start(kind: Kind, port: Option<u16>) -> RdpServer {
        let mut command = Command::new("bash");
        command.arg(SCRIPT).arg(kind.mode());
        if let Some(port) = port {
            command.arg(port.to_string());
        }
        // Its own process group: the last-resort kill below must not reach the test.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("bash runs tests/fixtures/rdp-server.sh");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        // The script prints one line once the server accepts connections.
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut text);
            let _ = err_tx.send(text);
        });
        let mut script = Script {
            child,
            stdin,
            stderr: err_rx,
        };
        let line = match line_rx.recv_timeout(STARTUP) {
            Ok(line) if line.starts_with("ready ") => line,
            outcome => {
                script.stop();
                panic!(
                    "the {} fixture did not start ({}): {}",
                    kind.mode(),
                    if outcome.is_ok() {
                        "it stopped"
                    } else {
                        "timed out"
                    },
                    script.stderr()
                );
            }
        };
        let field = |name: &str| -> String {
            line.split_whitespace()
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("the fixture's ready line has {name}: {line}"))
                .to_owned()
        };
        RdpServer {
            kind,
            port: field("port").parse().expect("the port is a number"),
            user: field("user"),
            password: field("password"),
            cert_sha256: field("cert_sha256"),
            xterm_log: field("xterm_log").into(),
            script: Some(script),
        }
    }

    /// Stops the server (idempotent); every process of it has exited when this returns.
    pub fn stop(&mut self) {
        if let Some(mut script) = self.script.take() {
            script.stop();
        }
    }

    /// What the xterm showed so far (prompt, echoed input, output).
    pub fn xterm_output(&self) -> String {
        std::fs::read_to_string(&self.xterm_log).unwrap_or_default()
    }
}

impl Script {
    fn stop(&mut self) {
        // INVARIANT: the script stops and cleans up when its stdin closes.
        drop(self.stdin.take());
        let deadline = Instant::now() + SHUTDOWN;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // A hung script: kill its whole group; the namespaces die with it (--kill-child).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }

    /// What the script said on stderr; only once it has exited.
    fn stderr(&self) -> String {
        self.stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default()
    }
}

impl Drop for RdpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
