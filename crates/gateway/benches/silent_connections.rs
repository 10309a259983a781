//! Many silent connections (hardening, "descriptor exhaustion"): the real `hoshu demo` binary
//! and 10,000 connections from loopback that say nothing — first plain TCP connections that
//! never start TLS, then TLS connections that finish the handshake and never send a request.
//! Prints the gateway's descriptors and resident memory while they are held, how long
//! `/healthz` takes on a fresh connection meanwhile and after, and how long the gateway takes
//! to close them (its handshake and first-request timeouts, 10 s each).
//!
//! The connections come from many addresses of 127.0.0.0/8 (Linux routes all of it to `lo`),
//! at most [`PER_SOURCE`] each, below the gateway's bound of 256 per source: the figures are
//! those of an attacker with many addresses, the worst case for the total bound.
//!
//! Run: `cargo bench -p hoshu-gateway --bench silent_connections` (optionally
//! `HOSHU_BENCH_CONNECTIONS=N`). A figure, not a test.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use support::{Error, Handle, Table, env_usize, mib, open_descriptors, spread_ms, status_kb};
use tokio::io::AsyncReadExt;
use tokio::net::TcpSocket;
use tokio::sync::Semaphore;
use tokio_rustls::TlsConnector;

/// Connections from one source address.
const PER_SOURCE: usize = 200;
/// Connects (and TLS handshakes) under way at once.
const CONNECTING: usize = 256;
/// `/healthz` requests while the connections are held, and after they closed.
const PROBES: usize = 20;
/// Every wait is bounded; the benchmark stops by itself.
const CLOSE_WITHIN: Duration = Duration::from_secs(120);

/// What one kind of silent connection measured.
struct Round {
    /// The most open at once, and how many could not connect (or finish the handshake).
    opened: usize,
    refused: usize,
    open_secs: f64,
    peak_fds: usize,
    peak_rss: u64,
    healthz_during: Vec<u64>,
    healthz_failed: usize,
    closed_secs: f64,
    still_open: usize,
    fds_after: usize,
    rss_after: u64,
    healthz_after: Vec<u64>,
}

/// Connections open now, the most open at once, and those whose connect (and handshake) is
/// over, whether it worked or not.
#[derive(Default)]
struct Counts {
    open: AtomicUsize,
    attempted: AtomicUsize,
    peak: AtomicUsize,
}

/// The `i`th source address: 127.1.0.1, 127.1.0.2, … (never 127.0.0.1, the probes' own).
fn source(i: usize) -> SocketAddr {
    let n = u32::try_from(i / PER_SOURCE).unwrap_or(0) + 1;
    let [_, b, c, d] = n.to_be_bytes();
    SocketAddr::from((Ipv4Addr::new(127, 1 + b, c, d), 0))
}

/// One silent connection from `from`: TCP only, or TLS up to the end of the handshake. Waits
/// until the gateway closes it; counts it in `open` while it is.
async fn silent(
    gateway: SocketAddr,
    from: SocketAddr,
    tls: Option<TlsConnector>,
    connecting: Arc<Semaphore>,
    counts: Arc<Counts>,
) -> Result<(), Error> {
    let Counts {
        open,
        attempted,
        peak,
    } = &*counts;
    let permit = connecting.acquire_owned().await?;
    let connected = async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(from)?;
        socket.connect(gateway).await
    }
    .await;
    let mut tcp = match connected {
        Ok(tcp) => tcp,
        Err(e) => {
            attempted.fetch_add(1, Ordering::Relaxed);
            return Err(e.into());
        }
    };
    let mut buf = [0u8; 512];
    match tls {
        None => {
            peak.fetch_max(open.fetch_add(1, Ordering::Relaxed) + 1, Ordering::Relaxed);
            attempted.fetch_add(1, Ordering::Relaxed);
            drop(permit);
            // The gateway sends nothing before a ClientHello; a read ends when it closes.
            while tcp.read(&mut buf).await.unwrap_or(0) > 0 {}
        }
        Some(tls) => {
            let handshake = tls.connect(ServerName::try_from("127.0.0.1")?, tcp).await;
            attempted.fetch_add(1, Ordering::Relaxed);
            let mut stream = handshake?;
            peak.fetch_max(open.fetch_add(1, Ordering::Relaxed) + 1, Ordering::Relaxed);
            drop(permit);
            // A TLS 1.3 server's session tickets may come first; then the close.
            while stream.read(&mut buf).await.unwrap_or(0) > 0 {}
        }
    }
    open.fetch_sub(1, Ordering::Relaxed);
    Ok(())
}

/// `GET /healthz` on a fresh connection each time, `count` times `every` apart: milliseconds
/// of each answered one, and how many failed.
async fn probe(
    gateway: &Handle,
    count: usize,
    every: Duration,
) -> Result<(Vec<u64>, usize), Error> {
    let http = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&gateway.pem)?)
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()?;
    let mut answered = Vec::new();
    let mut failed = 0;
    for _ in 0..count {
        let started = Instant::now();
        match http.get(format!("{}/healthz", gateway.base)).send().await {
            Ok(r) if r.status().is_success() => {
                answered.push(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
            }
            _ => failed += 1,
        }
        tokio::time::sleep(every).await;
    }
    Ok((answered, failed))
}

async fn round(gateway: &Handle, count: usize, tls: Option<TlsConnector>) -> Result<Round, Error> {
    let address: SocketAddr = gateway.host_port.parse()?;
    let connecting = Arc::new(Semaphore::new(CONNECTING));
    let counts = Arc::new(Counts::default());
    let Counts {
        open,
        attempted,
        peak,
    } = &*counts;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..count {
        tasks.push(tokio::spawn(silent(
            address,
            source(i),
            tls.clone(),
            connecting.clone(),
            counts.clone(),
        )));
    }
    // Every connection made (or refused), then the probes while they are held.
    while attempted.load(Ordering::Relaxed) < count && started.elapsed() < CLOSE_WITHIN {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let open_secs = started.elapsed().as_secs_f64();
    let mut peak_fds = open_descriptors(gateway.pid);
    let mut peak_rss = status_kb(gateway.pid, "VmRSS");
    let (healthz_during, healthz_failed) = probe(gateway, PROBES / 2, Duration::ZERO).await?;
    peak_fds = peak_fds.max(open_descriptors(gateway.pid));
    peak_rss = peak_rss.max(status_kb(gateway.pid, "VmRSS"));

    // The gateway closes them by itself.
    while open.load(Ordering::Relaxed) > 0 && started.elapsed() < CLOSE_WITHIN {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let closed_secs = started.elapsed().as_secs_f64();
    let still_open = open.load(Ordering::Relaxed);
    let mut refused = 0;
    for task in tasks {
        task.abort();
        if let Ok(Err(_)) = task.await {
            refused += 1;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (healthz_after, _) = probe(gateway, PROBES / 2, Duration::from_millis(100)).await?;
    Ok(Round {
        opened: peak.load(Ordering::Relaxed),
        refused,
        open_secs,
        peak_fds,
        peak_rss,
        healthz_during,
        healthz_failed,
        closed_secs,
        still_open,
        fds_after: open_descriptors(gateway.pid),
        rss_after: status_kb(gateway.pid, "VmRSS"),
        healthz_after,
    })
}

async fn run(gateway: Handle) -> Result<(), Error> {
    // Each connection is one descriptor here too; leave room for the rest of this process.
    let wanted = env_usize("HOSHU_BENCH_CONNECTIONS", 10_000).max(1);
    let count = wanted.min(own_descriptor_limit().saturating_sub(512));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fds_before = open_descriptors(gateway.pid);
    let rss_before = status_kb(gateway.pid, "VmRSS");
    let (healthz_before, _) = probe(&gateway, PROBES / 2, Duration::from_millis(100)).await?;
    let tcp = round(&gateway, count, None).await?;
    let tls = round(&gateway, count, Some(gateway.tls_connector()?)).await?;

    let mut table = Table::new(&["silent TCP", "silent TLS"]);
    let both = [&tcp, &tls];
    let mut line = |label: &str, f: &dyn Fn(&Round) -> String| {
        table.row(label, both.iter().map(|r| f(r)).collect());
    };
    line("most held at once (could not connect)", &|r| {
        format!("{} ({})", r.opened, r.refused)
    });
    line("time to open them all", &|r| {
        format!("{:.1} s", r.open_secs)
    });
    line("gateway descriptors while held", &|r| {
        r.peak_fds.to_string()
    });
    line("gateway RSS while held", &|r| mib(r.peak_rss));
    line("/healthz while held, p50 / p99 / max", &|r| {
        spread_ms(&mut r.healthz_during.clone())
    });
    line("/healthz failures while held", &|r| {
        format!("{} of {}", r.healthz_failed, PROBES / 2)
    });
    line("all closed by the gateway, from the first connect", &|r| {
        format!("{:.1} s ({} left)", r.closed_secs, r.still_open)
    });
    line("gateway descriptors after", &|r| r.fds_after.to_string());
    line("gateway RSS after", &|r| mib(r.rss_after));
    line("/healthz after, p50 / p99 / max", &|r| {
        spread_ms(&mut r.healthz_after.clone())
    });

    println!();
    println!(
        "silent_connections: {count} connections that say nothing, from {} loopback addresses ({PER_SOURCE} each)",
        count.div_ceil(PER_SOURCE)
    );
    println!("  {}", support::versions());
    println!(
        "  before: {fds_before} descriptors, {}, /healthz p50 / p99 / max {}",
        mib(rss_before),
        spread_ms(&mut healthz_before.clone())
    );
    println!();
    table.print();
    println!();
    println!(
        "  /healthz is timed on a fresh TLS connection each time (connect, handshake, request). The gateway"
    );
    println!(
        "  closes a connection whose TLS handshake is not done within 10 s, and one that sends no request within"
    );
    println!("  10 s of its handshake. A noisy shared machine: compare figures within one run.");
    Ok(())
}

/// Raises this process's soft limit of open descriptors to the hard one, as the gateway does
/// for itself; the limit now.
fn own_descriptor_limit() -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(1024);
    usize::try_from(soft).unwrap_or(usize::MAX)
}

fn main() {
    support::main("silent_connections", &[], Duration::from_secs(600), run);
}
