//! A real OpenSSH server for the SSH tests (Debian `openssh-server`): `/usr/sbin/sshd -D` on a
//! loopback port with its own host key and configuration file in a temporary directory.
//!
//! Headless and as root (how `make test` runs): the tests log in as a dedicated local user,
//! created once if absent (`useradd`), with a fixed password set by `chpasswd`. `UsePAM no`
//! makes sshd check that password against /etc/shadow itself, so no PAM stack is involved;
//! `StrictModes no` lets the authorized-keys file live in the temporary directory; without PAM
//! no locale is set, so `SetEnv LANG=C.UTF-8` gives the shell a UTF-8 locale (readline in the C
//! locale turns the bytes of Japanese text into Meta keys). The system's own sshd configuration
//! and keys are never touched.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The local account the tests log in as.
pub const USER: &str = "hoshu-ssh-test";
/// Its password (a test account on a loopback-only server started by the test).
pub const PASSWORD: &str = "hoshu-Test-pw-8";

static USER_READY: Mutex<bool> = Mutex::new(false);

fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Creates the test user (once per process) and sets its password.
fn ensure_user() {
    let mut ready = USER_READY.lock().unwrap_or_else(|p| p.into_inner());
    if *ready {
        return;
    }
    let exists = Command::new("id")
        .arg(USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !exists {
        // Another test binary may create it at the same moment: tolerate "already exists".
        let _ = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/bash", USER])
            .status();
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .expect("chpasswd runs (tests run as root)");
    {
        use std::io::Write;
        let mut stdin = chpasswd.stdin.take().expect("piped stdin");
        writeln!(stdin, "{USER}:{PASSWORD}").expect("chpasswd reads its input");
    }
    assert!(
        chpasswd.wait().expect("chpasswd ends").success(),
        "chpasswd failed"
    );
    // sshd's privilege-separation directory (Debian creates it only in its service unit).
    std::fs::create_dir_all("/run/sshd").expect("/run/sshd can be created");
    *ready = true;
}

/// `SHA256:…` of a public-key file, as ssh-keygen prints it.
pub fn fingerprint(public_key: &Path) -> String {
    let line = run(Command::new("ssh-keygen").arg("-lf").arg(public_key));
    line.split_whitespace()
        .nth(1)
        .expect("ssh-keygen -l prints bits, fingerprint, comment")
        .to_owned()
}

fn keygen(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("pub"));
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "hoshu-test", "-f"])
        .arg(path));
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("its address").port()
}

/// A running sshd; stopped when dropped.
#[derive(Debug)]
pub struct Sshd {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    /// `SHA256:…` of the host key it presents now.
    pub fingerprint: String,
    /// A private key whose public half is authorized for [`USER`].
    pub client_key: PathBuf,
}

impl Sshd {
    pub fn start() -> Sshd {
        ensure_user();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let client_key = dir.path().join("client_key");
        keygen(&client_key);
        std::fs::copy(
            client_key.with_extension("pub"),
            dir.path().join("authorized_keys"),
        )
        .expect("authorized_keys written");
        let mut sshd = Sshd {
            child: None,
            port: free_port(),
            dir,
            fingerprint: String::new(),
            client_key,
        };
        sshd.launch();
        sshd
    }

    /// Stops the server and starts it again on the same port with a new host key (a
    /// reinstalled server, or an impostor).
    pub fn restart_with_new_host_key(&mut self) {
        self.stop();
        self.launch();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn launch(&mut self) {
        let dir = self.dir.path();
        let host_key = dir.join("host_key");
        keygen(&host_key);
        self.fingerprint = fingerprint(&host_key.with_extension("pub"));
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {pid}\n\
                 AuthorizedKeysFile {keys}\nStrictModes no\nUsePAM no\nPasswordAuthentication yes\n\
                 KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin no\n\
                 AllowUsers {USER}\nUseDNS no\nPrintMotd no\nPrintLastLog no\nLogLevel VERBOSE\n\
                 SetEnv LANG=C.UTF-8\n",
                port = self.port,
                host_key = host_key.display(),
                pid = dir.join("sshd.pid").display(),
                keys = dir.join("authorized_keys").display(),
            ),
        )
        .expect("sshd_config written");
        let log = std::fs::File::create(dir.join("sshd.log")).expect("sshd log file");
        let child = Command::new("/usr/sbin/sshd")
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("/usr/sbin/sshd starts (Debian package openssh-server)");
        self.child = Some(child);
        // Ready when it answers with its version line.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::Read;
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let mut banner = [0u8; 8];
                if tcp.read_exact(&mut banner).is_ok() && &banner == b"SSH-2.0-" {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not start on port {}: {}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}
