//! What the gateway's benchmarks share: the real `hoshu demo` binary as a child process, the
//! demo vendor's login, a session client that behaves like guacamole-common-js, readings of
//! /proc, and the printed table. Each benchmark is a plain program (`harness = false`): it
//! prints figures and fails only when the gateway does not do what the benchmark needs.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use hoshu_guac::{Decoder, Limits};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc as channel, watch};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

pub const BIN: &str = env!("CARGO_BIN_EXE_hoshu");
/// `hoshu demo`'s built-in desktop and vendor (crates/gateway/src/demo).
pub const DEMO_TARGET: &str = "demo-desktop";

/// A demo user's credentials, as `hoshu demo` prints them: login, pattern cells, fixed
/// password, and after how many digits the fixed password goes.
pub struct DemoUser(&'static str, [u8; 8], &'static str, usize);
pub const DEMO_VENDOR: DemoUser =
    DemoUser("demo-vendor", [9, 14, 27, 33, 44, 50, 58, 3], "demo", 0);
pub const DEMO_ADMIN: DemoUser = DemoUser("demo-admin", [1, 18, 35, 52, 7, 30, 41, 60], "hoshu", 4);
const STARTUP: Duration = Duration::from_secs(120);

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM).
pub fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(&format!("{field}:")))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The descriptors process `pid` holds open.
pub fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// utime + stime of the whole process (all threads), in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at state (field 3).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    // USER_HZ is 100 on Linux (getconf CLK_TCK); asking needs libc, which this crate avoids.
    ticks as f64 / 100.0
}

pub fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

/// The `p` quantile (0 to 1) of sorted values; 0 when there are none.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// p50 / p99 / max of `values` in milliseconds, as printed.
pub fn spread_ms(values: &mut [u64]) -> String {
    values.sort_unstable();
    format!(
        "{} / {} / {} ms",
        percentile(values, 0.5),
        percentile(values, 0.99),
        percentile(values, 1.0)
    )
}

pub fn versions() -> String {
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "hoshu {} (release, {}), {rustc}, {cpus} CPUs",
        env!("CARGO_PKG_VERSION"),
        Path::new(BIN).display()
    )
}

/// The running gateway; killed on drop so a failed run leaves nothing behind.
pub struct Gateway {
    child: Child,
    log: Arc<Mutex<String>>,
    pub handle: Handle,
    _dir: tempfile::TempDir,
}

/// What a benchmark's body needs of the running gateway.
#[derive(Debug, Clone)]
pub struct Handle {
    pub pid: u32,
    /// `https://127.0.0.1:PORT`.
    pub base: String,
    /// `127.0.0.1:PORT`.
    pub host_port: String,
    pub data: PathBuf,
    /// The gateway's self-signed certificate.
    pub pem: Vec<u8>,
}

impl Gateway {
    /// `hoshu demo --listen 127.0.0.1:0` with `args` after it.
    pub fn start(args: &[&str]) -> Result<Gateway, Error> {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let mut child = Command::new(BIN)
            .args(["demo", "--listen", "127.0.0.1:0"])
            .args(args)
            .arg("--data")
            .arg(&data)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        drain(child.stdout.take(), log.clone(), Some(tx));
        drain(child.stderr.take(), log.clone(), None);
        let url = loop {
            match rx.recv_timeout(STARTUP) {
                Ok(line) if line.starts_with("https://") => break line,
                Ok(_) => {}
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "hoshu demo printed no URL ({e}); it said:\n{}",
                        log.lock().map(|l| l.clone()).unwrap_or_default()
                    )
                    .into());
                }
            }
        };
        let pem = std::fs::read(data.join("tls").join("cert.pem"))?;
        let base = url.trim().trim_end_matches('/').to_owned();
        let host_port = base
            .strip_prefix("https://")
            .ok_or("the URL is not https")?
            .to_owned();
        Ok(Gateway {
            handle: Handle {
                pid: child.id(),
                base,
                host_port,
                data,
                pem,
            },
            child,
            log,
            _dir: dir,
        })
    }

    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// SIGTERM (through kill(1): no libc here), then SIGKILL after 10 s.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.handle.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Handle {
    /// `hoshu admin --data DATA ARGS…`, which must succeed.
    pub fn admin(&self, args: &[&str]) -> Result<String, Error> {
        let output = Command::new(BIN)
            .arg("admin")
            .arg("--data")
            .arg(&self.data)
            .args(args)
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "hoshu admin {args:?}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// A VNC target of the demo vendor's at 127.0.0.1:`port`, security None.
    pub fn add_vnc_target(&self, name: &str, port: u16) -> Result<(), Error> {
        self.admin(&[
            "target",
            "add",
            "--demo",
            "--name",
            name,
            "--protocol",
            "vnc",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .map(drop)
    }

    /// An HTTPS client that trusts only the gateway's certificate.
    pub fn http(&self) -> Result<reqwest::Client, Error> {
        Ok(reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&self.pem)?)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()?)
    }

    pub fn tls_connector(&self) -> Result<TlsConnector, Error> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&self.pem) {
            roots.add(cert?)?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(TlsConnector::from(Arc::new(config)))
    }
}

fn drain(
    pipe: Option<impl Read + Send + 'static>,
    log: Arc<Mutex<String>>,
    lines: Option<mpsc::Sender<String>>,
) {
    let Some(pipe) = pipe else { return };
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut log) = log.lock()
                && log.len() < 1 << 20
            {
                log.push_str(&line);
                log.push('\n');
            }
            if let Some(tx) = &lines {
                let _ = tx.send(line);
            }
        }
    });
}

/// Runs `body` against a gateway started with `args`, within `limit`; on failure prints why
/// and the gateway's last lines, and exits 1.
pub fn main<F, Fut>(name: &str, args: &[&str], limit: Duration, body: F)
where
    F: FnOnce(Handle) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    // `cargo bench` passes `--bench` (and a filter, if any); nothing here takes arguments.
    let mut gateway = match Gateway::start(args) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let handle = gateway.handle.clone();
    let result = runtime.block_on(async { tokio::time::timeout(limit, body(handle)).await });
    runtime.shutdown_timeout(Duration::from_secs(5));
    let failed = match result {
        Ok(Ok(())) => false,
        Ok(Err(e)) => {
            eprintln!("{name}: {e}");
            true
        }
        Err(_) => {
            eprintln!("{name}: did not finish within {} s", limit.as_secs());
            true
        }
    };
    gateway.stop();
    if failed {
        let log = gateway.log();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        eprintln!("gateway output (last lines):\n{tail}");
        std::process::exit(1);
    }
}

/// A table of figures, one column per run, printed with aligned columns.
#[derive(Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, label: impl Into<String>, values: Vec<String>) {
        self.rows.push((label.into(), values));
    }

    pub fn print(&self) {
        let width = |s: &String| s.chars().count();
        let label_w = self.rows.iter().map(|(l, _)| width(l)).max().unwrap_or(0);
        let value_w = self
            .rows
            .iter()
            .flat_map(|(_, v)| v.iter().map(width))
            .chain(self.header.iter().map(width))
            .max()
            .unwrap_or(0)
            .max(8);
        let pad =
            |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
        let header: Vec<String> = self.header.iter().map(|h| pad(h, value_w)).collect();
        println!("  | {} | {} |", pad("", label_w), header.join(" | "));
        println!(
            "  |{}|{}|",
            "-".repeat(label_w + 2),
            vec!["-".repeat(value_w + 2); self.header.len()].join("|")
        );
        for (label, values) in &self.rows {
            let values: Vec<String> = values.iter().map(|v| pad(v, value_w)).collect();
            println!("  | {} | {} |", pad(label, label_w), values.join(" | "));
        }
    }
}

/// A demo user logged in: what its sessions and requests need.
pub struct Vendor {
    pub base: String,
    pub host_port: String,
    pub cookie: String,
    pub tls: TlsConnector,
    pub http: reqwest::Client,
    pub started: Instant,
}

impl Vendor {
    /// Logs the demo vendor in with its printed matrix credentials.
    pub async fn log_in(gateway: &Handle) -> Result<Vendor, Error> {
        Vendor::log_in_as(gateway, &DEMO_VENDOR).await
    }

    /// Logs `user` in with its matrix credentials.
    pub async fn log_in_as(gateway: &Handle, user: &DemoUser) -> Result<Vendor, Error> {
        let DemoUser(login, cells, fixed, insert) = *user;
        let http = gateway.http()?;
        let base = &gateway.base;
        let challenge: Value = http
            .post(format!("{base}/api/v1/login/challenge"))
            .json(&json!({ "login": login }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let matrix = hoshu_otp::Matrix::from_digits(
            challenge["matrix"]
                .as_str()
                .ok_or("no matrix in the challenge")?,
        )?;
        let secret =
            hoshu_otp::enrol(&hoshu_otp::Policy::default(), &cells, Some(fixed), insert)
                .map_err(|v| format!("the demo credentials break the default policy: {v:?}"))?;
        let answer = hoshu_otp::answer(&matrix, &secret, fixed);
        let reply = http
            .post(format!("{base}/api/v1/login/answer"))
            .json(&json!({ "challenge": challenge["challenge"], "answer": answer }))
            .send()
            .await?
            .error_for_status()?;
        let cookie = reply
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.split(';').next().filter(|kv| {
                    kv.starts_with("hoshu_session=") && kv.len() > "hoshu_session=".len()
                })
            })
            .map(str::to_owned)
            .ok_or("the login set no session cookie")?;
        Ok(Vendor {
            base: base.clone(),
            host_port: gateway.host_port.clone(),
            cookie,
            tls: gateway.tls_connector()?,
            http,
            started: Instant::now(),
        })
    }

    /// Milliseconds since the login.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(0)
    }

    /// Ends session `id` (an administrator's `DELETE`).
    pub async fn end_session(&self, id: &str) -> Result<(), Error> {
        self.http
            .delete(format!("{}/api/v1/sessions/{id}", self.base))
            .header("Cookie", &self.cookie)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// The vendor's sessions in `state` (`live`, `ended`).
    pub async fn sessions(&self, state: &str) -> Result<Vec<Value>, Error> {
        let list: Value = self
            .http
            .get(format!("{}/api/v1/sessions?state={state}", self.base))
            .header("Cookie", &self.cookie)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(list.as_array().cloned().unwrap_or_default())
    }
}

/// One Guacamole element `LEN.VALUE` (LEN in UTF-16 code units).
fn element(out: &mut String, value: &str) {
    out.push_str(&value.encode_utf16().count().to_string());
    out.push('.');
    out.push_str(value);
}

pub fn instruction(opcode: &str, args: &[&str]) -> String {
    let mut out = String::new();
    element(&mut out, opcode);
    for a in args {
        out.push(',');
        element(&mut out, a);
    }
    out.push(';');
    out
}

/// What one session's client saw.
#[derive(Default)]
pub struct Seen {
    /// The session's id, once it is open.
    pub id: Mutex<Option<String>>,
    /// Milliseconds after the login: first frame (first `sync`), latest frame.
    pub first_frame_ms: AtomicU64,
    pub last_frame_ms: AtomicU64,
    pub frames: AtomicU64,
    pub bytes: AtomicU64,
    /// Milliseconds between consecutive frames, while `record_gaps` is on (at most
    /// [`MAX_GAPS`] kept).
    pub gaps: Mutex<Vec<u64>>,
    pub record_gaps: std::sync::atomic::AtomicBool,
    /// Why the tunnel ended, if it did before the client stopped it.
    pub ended: Mutex<Option<String>>,
}

pub const NONE: u64 = u64::MAX;
const MAX_GAPS: usize = 1 << 20;

impl Seen {
    pub fn new() -> Arc<Seen> {
        let seen = Seen::default();
        seen.first_frame_ms.store(NONE, Ordering::Relaxed);
        seen.last_frame_ms.store(NONE, Ordering::Relaxed);
        Arc::new(seen)
    }

    pub fn has_drawn(&self) -> bool {
        self.first_frame_ms.load(Ordering::Relaxed) != NONE
    }

    pub fn ending(&self) -> Option<String> {
        self.ended.lock().ok().and_then(|e| e.clone())
    }

    fn frame(&self, now: u64) {
        let last = self.last_frame_ms.swap(now, Ordering::Relaxed);
        self.frames.fetch_add(1, Ordering::Relaxed);
        if last != NONE
            && self.record_gaps.load(Ordering::Relaxed)
            && let Ok(mut gaps) = self.gaps.lock()
            && gaps.len() < MAX_GAPS
        {
            gaps.push(now.saturating_sub(last));
        }
        if self.first_frame_ms.load(Ordering::Relaxed) == NONE {
            self.first_frame_ms.store(now, Ordering::Relaxed);
        }
    }
}

/// Opens a session on `target` (one of `opening` permits held until its first frame) and
/// holds its tunnel until `stop` turns true, answering every `sync` and pinging every 500 ms
/// as guacamole-common-js does; sends each instruction `input` gives it. Records the outcome
/// in `seen.ended` when the tunnel ends otherwise.
pub async fn session(
    vendor: Arc<Vendor>,
    target: String,
    seen: Arc<Seen>,
    opening: Arc<Semaphore>,
    input: Option<channel::Receiver<String>>,
    stop: watch::Receiver<bool>,
) {
    let outcome = hold(&vendor, &target, &seen, opening, input, stop).await;
    if let (Err(e), Ok(mut ended)) = (outcome, seen.ended.lock()) {
        *ended = Some(e.to_string());
    }
}

async fn hold(
    vendor: &Vendor,
    target: &str,
    seen: &Seen,
    opening: Arc<Semaphore>,
    mut input: Option<channel::Receiver<String>>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    let permit = opening.acquire_owned().await?;
    let response = vendor
        .http
        .post(format!("{}/api/v1/sessions", vendor.base))
        .header("Cookie", &vendor.cookie)
        .json(&json!({ "target": target }))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if status.as_u16() != 201 {
        return Err(format!("POST /api/v1/sessions: {status} {body}").into());
    }
    if let (Some(id), Ok(mut slot)) = (body["id"].as_str(), seen.id.lock()) {
        *slot = Some(id.to_owned());
    }
    let tunnel = body["tunnel"].as_str().ok_or("no tunnel in the reply")?;
    let tcp = TcpStream::connect(&vendor.host_port).await?;
    tcp.set_nodelay(true)?;
    let tls = vendor
        .tls
        .connect(ServerName::try_from("127.0.0.1")?, tcp)
        .await?;
    let mut request = format!("wss://{}{tunnel}", vendor.host_port).into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("guacamole"),
    );
    request
        .headers_mut()
        .insert("Cookie", HeaderValue::from_str(&vendor.cookie)?);
    let (mut ws, _) = tokio_tungstenite::client_async(request, tls).await?;
    // Limits sized for what the gateway sends (image blobs), not for what it accepts.
    let mut decoder = Decoder::new(Limits {
        max_elements: 64,
        max_element_length: 64 << 20,
        max_instruction_length: 64 << 20,
    });
    let mut ping = tokio::time::interval(Duration::from_millis(500));
    let mut permit = Some(permit);
    loop {
        let typed = async {
            match input.as_mut() {
                Some(input) => input.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            message = ws.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(frame))) => {
                        return Err(format!("the gateway closed the tunnel: {frame:?}").into());
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err("the tunnel ended".into()),
                };
                seen.bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
                let mut replies = String::new();
                for parsed in decoder.feed(text.as_bytes()) {
                    let parsed = parsed.map_err(|e| format!("undecodable instruction: {e}"))?;
                    match parsed.opcode.as_str() {
                        "sync" => {
                            let ts = parsed.args.first().map_or("0", String::as_str);
                            replies.push_str(&instruction("sync", &[ts]));
                            seen.frame(vendor.now_ms());
                            // The next session may start opening.
                            permit.take();
                        }
                        "error" => {
                            return Err(format!("the gateway sent error {:?}", parsed.args).into());
                        }
                        _ => {}
                    }
                }
                if !replies.is_empty() {
                    ws.send(Message::Text(replies.into())).await?;
                }
            }
            Some(typed) = typed => {
                ws.send(Message::Text(typed.into())).await?;
            }
            _ = ping.tick() => {
                let ts = unix_ms().to_string();
                ws.send(Message::Text(instruction("", &["ping", &ts]).into())).await?;
            }
            _ = stop.changed() => {
                ws.send(Message::Text(instruction("disconnect", &[]).into())).await?;
                let _ = ws.close(None).await;
                // Drain until the gateway closes its side (bounded by the caller's timeout).
                while let Some(Ok(_)) = ws.next().await {}
                return Ok(());
            }
        }
    }
}
