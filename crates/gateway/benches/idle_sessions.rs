//! Memory per idle session (issue 3, "Benchmarks"): the real `hoshu demo` binary (release
//! build), 100 sessions on its built-in `demo-desktop`, each held by a WebSocket client that
//! behaves like guacamole-common-js (answers every `sync`, pings every 500 ms). Prints the
//! gateway's resident memory before, with 100 idle sessions, and after they closed, and how
//! long opening them took.
//!
//! Run: `cargo bench -p hoshu-gateway --bench idle_sessions` (optionally
//! `HOSHU_BENCH_SESSIONS=N`, `HOSHU_BENCH_CONCURRENCY=N`). A figure, not a test: nothing here
//! fails on a number; it fails only when the gateway does not do what the benchmark needs.
//!
//! Caveat printed with the figures: the demo target runs inside the gateway process, so the
//! RSS includes the demo target's side of each connection too.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
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
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const BIN: &str = env!("CARGO_BIN_EXE_hoshu");
const TARGET: &str = "demo-desktop";
/// `hoshu demo`'s vendor (crates/gateway/src/demo.rs).
const LOGIN: &str = "demo-vendor";
const CELLS: [u8; 8] = [9, 14, 27, 33, 44, 50, 58, 3];
const FIXED: &str = "demo";
const INSERT: usize = 0;
/// No frame for this long after every session's first one: the sessions are idle.
const QUIET: Duration = Duration::from_secs(3);
/// Every wait is bounded; the benchmark stops by itself.
const STARTUP: Duration = Duration::from_secs(120);
const OPEN_ALL: Duration = Duration::from_secs(300);
const CLOSE_ALL: Duration = Duration::from_secs(60);
/// Gateway CPU is sampled over this idle stretch with every session open.
const IDLE_SAMPLE: Duration = Duration::from_secs(10);

type Error = Box<dyn std::error::Error + Send + Sync>;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM).
fn status_kb(pid: u32, field: &str) -> u64 {
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

/// utime + stime of the whole process (all threads), in seconds.
fn cpu_seconds(pid: u32) -> f64 {
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

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

/// The running gateway; killed on drop so a failed run leaves nothing behind.
struct Gateway {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// `hoshu demo`, letting the one demo vendor hold `sessions` sessions at once.
    fn start(sessions: usize) -> Result<(Gateway, Vec<u8>), Error> {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let mut child = Command::new(BIN)
            .args([
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--live-sessions-per-user",
            ])
            .arg(sessions.to_string())
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
        Ok((
            Gateway {
                child,
                base: url.trim().trim_end_matches('/').to_owned(),
                log,
                _dir: dir,
            },
            pem,
        ))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// SIGTERM (through kill(1): no libc here), then SIGKILL after 10 s.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
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

/// What one session's client saw.
#[derive(Default)]
struct Seen {
    /// Milliseconds after the run's start: first frame (first `sync`), latest frame.
    first_frame_ms: AtomicU64,
    last_frame_ms: AtomicU64,
    frames: AtomicU64,
    bytes: AtomicU64,
    /// Why the tunnel ended early, if it did.
    ended: Mutex<Option<String>>,
}

const NONE: u64 = u64::MAX;

impl Seen {
    fn new() -> Seen {
        let seen = Seen::default();
        seen.first_frame_ms.store(NONE, Ordering::Relaxed);
        seen.last_frame_ms.store(NONE, Ordering::Relaxed);
        seen
    }
}

/// One Guacamole element `LEN.VALUE` (LEN in UTF-16 code units).
fn element(out: &mut String, value: &str) {
    out.push_str(&value.encode_utf16().count().to_string());
    out.push('.');
    out.push_str(value);
}

fn instruction(opcode: &str, args: &[&str]) -> String {
    let mut out = String::new();
    element(&mut out, opcode);
    for a in args {
        out.push(',');
        element(&mut out, a);
    }
    out.push(';');
    out
}

struct Shared {
    base: String,
    host_port: String,
    cookie: String,
    tls: TlsConnector,
    http: reqwest::Client,
    started: Instant,
}

/// Opens one session and holds its tunnel until `stop` turns true, answering every `sync`.
async fn session(
    shared: Arc<Shared>,
    seen: Arc<Seen>,
    opened: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    let permit = opened.acquire().await?;
    let response = shared
        .http
        .post(format!("{}/api/v1/sessions", shared.base))
        .header("Cookie", &shared.cookie)
        .json(&json!({ "target": TARGET }))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if status.as_u16() != 201 {
        return Err(format!("POST /api/v1/sessions: {status} {body}").into());
    }
    let tunnel = body["tunnel"].as_str().ok_or("no tunnel in the reply")?;
    let tcp = TcpStream::connect(&shared.host_port).await?;
    tcp.set_nodelay(true)?;
    let tls = shared
        .tls
        .connect(ServerName::try_from("127.0.0.1")?, tcp)
        .await?;
    let mut request = format!("wss://{}{tunnel}", shared.host_port).into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("guacamole"),
    );
    request
        .headers_mut()
        .insert("Cookie", HeaderValue::from_str(&shared.cookie)?);
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
                            let now = u64::try_from(shared.started.elapsed().as_millis()).unwrap_or(0);
                            seen.frames.fetch_add(1, Ordering::Relaxed);
                            seen.last_frame_ms.store(now, Ordering::Relaxed);
                            if seen.first_frame_ms.load(Ordering::Relaxed) == NONE {
                                seen.first_frame_ms.store(now, Ordering::Relaxed);
                                // The next session may start opening.
                                permit.take();
                            }
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

async fn log_in(http: &reqwest::Client, base: &str) -> Result<String, Error> {
    let challenge: Value = http
        .post(format!("{base}/api/v1/login/challenge"))
        .json(&json!({ "login": LOGIN }))
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
    let secret = hoshu_otp::enrol(&hoshu_otp::Policy::default(), &CELLS, Some(FIXED), INSERT)
        .map_err(|v| format!("the demo credentials break the default policy: {v:?}"))?;
    let answer = hoshu_otp::answer(&matrix, &secret, FIXED);
    let reply = http
        .post(format!("{base}/api/v1/login/answer"))
        .json(&json!({ "challenge": challenge["challenge"], "answer": answer }))
        .send()
        .await?
        .error_for_status()?;
    reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.split(';')
                .next()
                .filter(|kv| kv.starts_with("hoshu_session=") && kv.len() > "hoshu_session=".len())
        })
        .map(str::to_owned)
        .ok_or_else(|| "the login set no session cookie".into())
}

async fn live_sessions(shared: &Shared) -> Result<Vec<Value>, Error> {
    let list: Value = shared
        .http
        .get(format!("{}/api/v1/sessions?state=live", shared.base))
        .header("Cookie", &shared.cookie)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(list.as_array().cloned().unwrap_or_default())
}

fn tls_connector(pem: &[u8]) -> Result<TlsConnector, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
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

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn versions() -> String {
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

/// What one round (open `count` sessions, hold them idle, close them) measured.
struct Round {
    rss_idle: u64,
    rss_idle_later: u64,
    rss_closed: u64,
    still_live: usize,
    open_secs: f64,
    latencies: Vec<u64>,
    cpu_open: f64,
    cpu_idle: f64,
    frames: u64,
    bytes: u64,
}

async fn round(
    shared: &Arc<Shared>,
    pid: u32,
    count: usize,
    concurrency: usize,
) -> Result<Round, Error> {
    let now_ms = || u64::try_from(shared.started.elapsed().as_millis()).unwrap_or(0);
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(concurrency));
    let open_started_ms = now_ms();
    let cpu_open_start = cpu_seconds(pid);
    let mut seen = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..count {
        let s = Arc::new(Seen::new());
        seen.push(s.clone());
        let task = tokio::spawn(session(
            shared.clone(),
            s.clone(),
            gate.clone(),
            stop_rx.clone(),
        ));
        tasks.push(tokio::spawn(async move {
            let outcome = match task.await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(e) => Some(format!("client task failed: {e}")),
            };
            if let (Some(o), Ok(mut ended)) = (outcome, s.ended.lock()) {
                *ended = Some(o);
            }
        }));
    }

    // Every session's first frame, then quiet.
    let deadline = Instant::now() + OPEN_ALL;
    let all_open_ms = loop {
        if let Some(failed) = seen
            .iter()
            .find_map(|s| s.ended.lock().ok().and_then(|e| e.clone()))
        {
            return Err(format!("a session ended before it was idle: {failed}").into());
        }
        let firsts: Vec<u64> = seen
            .iter()
            .map(|s| s.first_frame_ms.load(Ordering::Relaxed))
            .collect();
        if firsts.iter().all(|&f| f != NONE) {
            break firsts.iter().copied().max().unwrap_or(0);
        }
        if Instant::now() > deadline {
            let done = firsts.iter().filter(|&&f| f != NONE).count();
            return Err(format!(
                "only {done} of {count} sessions drew a first frame in {OPEN_ALL:?}"
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let cpu_open = cpu_seconds(pid) - cpu_open_start;
    loop {
        let last = seen
            .iter()
            .map(|s| s.last_frame_ms.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0);
        if now_ms().saturating_sub(last) >= QUIET.as_millis() as u64 {
            break;
        }
        if Instant::now() > deadline {
            return Err("the sessions never went quiet".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let live = live_sessions(shared).await?;
    let live_here = live.iter().filter(|s| s["target"] == TARGET).count();
    if live_here < count {
        return Err(
            format!("the gateway lists {live_here} live sessions, expected {count}").into(),
        );
    }
    let rss_idle = status_kb(pid, "VmRSS");
    let cpu_idle_start = cpu_seconds(pid);
    tokio::time::sleep(IDLE_SAMPLE).await;
    let cpu_idle = cpu_seconds(pid) - cpu_idle_start;
    let rss_idle_later = status_kb(pid, "VmRSS");
    let frames: u64 = seen.iter().map(|s| s.frames.load(Ordering::Relaxed)).sum();
    let bytes: u64 = seen.iter().map(|s| s.bytes.load(Ordering::Relaxed)).sum();
    let mut latencies: Vec<u64> = seen
        .iter()
        .map(|s| s.first_frame_ms.load(Ordering::Relaxed) - open_started_ms)
        .collect();
    latencies.sort_unstable();

    // Close every tunnel; wait for the gateway to seal them all.
    let _ = stop_tx.send(true);
    let close_deadline = Instant::now() + CLOSE_ALL;
    for task in tasks {
        let left = close_deadline.saturating_duration_since(Instant::now());
        let _ = tokio::time::timeout(left, task).await;
    }
    while Instant::now() < close_deadline {
        if live_sessions(shared).await?.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(Round {
        rss_idle,
        rss_idle_later,
        rss_closed: status_kb(pid, "VmRSS"),
        still_live: live_sessions(shared).await?.len(),
        open_secs: (all_open_ms - open_started_ms) as f64 / 1000.0,
        latencies,
        cpu_open,
        cpu_idle,
        frames,
        bytes,
    })
}

async fn run(gateway: &mut Gateway, pem: &[u8]) -> Result<(), Error> {
    let count = env_usize("HOSHU_BENCH_SESSIONS", 100).max(1);
    let concurrency = env_usize("HOSHU_BENCH_CONCURRENCY", 10).max(1);
    let rounds = env_usize("HOSHU_BENCH_ROUNDS", 2).max(1);
    let pid = gateway.pid();
    let cert = reqwest::Certificate::from_pem(pem)?;
    let http = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()?;
    let cookie = log_in(&http, &gateway.base).await?;
    let host_port = gateway
        .base
        .strip_prefix("https://")
        .ok_or("the URL is not https")?
        .to_owned();
    let shared = Arc::new(Shared {
        base: gateway.base.clone(),
        host_port,
        cookie,
        tls: tls_connector(pem)?,
        http,
        started: Instant::now(),
    });

    // Settle, then the baseline: logged in, no session yet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = status_kb(pid, "VmRSS");
    let mut done = Vec::new();
    for _ in 0..rounds {
        done.push(round(&shared, pid, count, concurrency).await?);
    }
    let hwm = status_kb(pid, "VmHWM");

    let mut table: Vec<(String, Vec<String>)> = Vec::new();
    let mut line = |label: String, f: &dyn Fn(&Round) -> String| {
        table.push((label, done.iter().map(f).collect()));
    };
    line(format!("gateway RSS, {count} sessions idle"), &|r| {
        mib(r.rss_idle)
    });
    line(
        format!(
            "gateway RSS, {count} sessions idle {} s later",
            IDLE_SAMPLE.as_secs()
        ),
        &|r| mib(r.rss_idle_later),
    );
    line(
        format!("RSS per idle session ((idle − before) / {count})"),
        &|r| {
            format!(
                "{:.0} KiB",
                (r.rss_idle_later as f64 - rss_before as f64) / count as f64
            )
        },
    );
    line("gateway RSS after all closed (+2 s)".to_owned(), &|r| {
        format!("{} ({} live)", mib(r.rss_closed), r.still_live)
    });
    line(
        format!("time to open all {count} (first POST → last first frame)"),
        &|r| format!("{:.2} s", r.open_secs),
    );
    line(
        "each: POST → first frame, p50 / p90 / max".to_owned(),
        &|r| {
            format!(
                "{} / {} / {} ms",
                percentile(&r.latencies, 0.5),
                percentile(&r.latencies, 0.9),
                percentile(&r.latencies, 1.0)
            )
        },
    );
    line("gateway CPU while opening".to_owned(), &|r| {
        format!("{:.2} s", r.cpu_open)
    });
    line(
        format!("gateway CPU over {} s idle", IDLE_SAMPLE.as_secs()),
        &|r| {
            format!(
                "{:.2} s ({:.1}% of a core)",
                r.cpu_idle,
                r.cpu_idle / IDLE_SAMPLE.as_secs_f64() * 100.0
            )
        },
    );
    line(
        "frames / bytes to the clients until idle".to_owned(),
        &|r| format!("{} / {:.1} MiB", r.frames, r.bytes as f64 / 1048576.0),
    );

    let label_w = table
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let value_w = table
        .iter()
        .flat_map(|(_, v)| v.iter().map(|s| s.chars().count()))
        .max()
        .unwrap_or(0)
        .max(8);
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    println!();
    println!(
        "idle_sessions: {count} sessions on the built-in `{TARGET}` (1024×768) of `hoshu demo`, {rounds} round(s)"
    );
    println!("  {}", versions());
    println!(
        "  clients: this process (tokio-tungstenite over rustls), {concurrency} opening at a time; each answers every"
    );
    println!(
        "  sync and pings every 500 ms as guacamole-common-js does; a round opens {count}, holds them idle, closes them"
    );
    println!();
    println!(
        "  gateway RSS, logged in, before any session: {}; peak (VmHWM) over the run: {}",
        mib(rss_before),
        mib(hwm)
    );
    println!();
    let header: Vec<String> = (1..=done.len())
        .map(|i| pad(&format!("round {i}"), value_w))
        .collect();
    println!("  | {} | {} |", pad("", label_w), header.join(" | "));
    println!(
        "  |{}|{}|",
        "-".repeat(label_w + 2),
        vec!["-".repeat(value_w + 2); done.len()].join("|")
    );
    for (label, values) in &table {
        let values: Vec<String> = values.iter().map(|v| pad(v, value_w)).collect();
        println!("  | {} | {} |", pad(label, label_w), values.join(" | "));
    }
    println!();
    println!(
        "  RSS is VmRSS of the gateway process (/proc/PID/status). It includes the demo target's side of"
    );
    println!(
        "  each RFB connection (the demo target runs inside the gateway). Round 2 shows whether memory freed"
    );
    println!(
        "  by round 1 is reused (allocator keeps it) or grows again (a leak). No peer runs here: the named"
    );
    println!(
        "  peer (noVNC + websockify) is compared in web/bench/vnc-compare.mjs. A noisy shared machine:"
    );
    println!("  compare figures within one run.");
    Ok(())
}

fn main() {
    // `cargo bench` passes `--bench` (and a filter, if any); nothing here takes arguments.
    let (mut gateway, pem) = match Gateway::start(env_usize("HOSHU_BENCH_SESSIONS", 100).max(1)) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("idle_sessions: {e}");
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
            eprintln!("idle_sessions: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(900), run(&mut gateway, &pem)).await
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    let failed = match result {
        Ok(Ok(())) => false,
        Ok(Err(e)) => {
            eprintln!("idle_sessions: {e}");
            true
        }
        Err(_) => {
            eprintln!("idle_sessions: did not finish within 15 minutes");
            true
        }
    };
    gateway.stop();
    if failed {
        let log = gateway.log();
        let tail: String = log
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        eprintln!("gateway output (last lines):\n{tail}");
        std::process::exit(1);
    }
}
