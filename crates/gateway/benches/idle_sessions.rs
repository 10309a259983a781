//! Memory per idle session: the real `hoshu demo` binary (release
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

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use support::{
    DEMO_TARGET as TARGET, Error, Handle, NONE, Seen, Table, Vendor, cpu_seconds, env_usize, mib,
    percentile, status_kb, versions,
};
use tokio::sync::{Semaphore, watch};

/// No frame for this long after every session's first one: the sessions are idle.
const QUIET: Duration = Duration::from_secs(3);
/// Every wait is bounded; the benchmark stops by itself.
const OPEN_ALL: Duration = Duration::from_secs(300);
const CLOSE_ALL: Duration = Duration::from_secs(60);
/// Gateway CPU is sampled over this idle stretch with every session open.
const IDLE_SAMPLE: Duration = Duration::from_secs(10);

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
    vendor: &Arc<Vendor>,
    pid: u32,
    count: usize,
    concurrency: usize,
) -> Result<Round, Error> {
    let now_ms = || vendor.now_ms();
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(concurrency));
    let open_started_ms = now_ms();
    let cpu_open_start = cpu_seconds(pid);
    let mut seen = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..count {
        let s = Seen::new();
        seen.push(s.clone());
        tasks.push(tokio::spawn(support::session(
            vendor.clone(),
            TARGET.to_owned(),
            s,
            gate.clone(),
            None,
            stop_rx.clone(),
        )));
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
    let live = vendor.sessions("live").await?;
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
        if vendor.sessions("live").await?.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(Round {
        rss_idle,
        rss_idle_later,
        rss_closed: status_kb(pid, "VmRSS"),
        still_live: vendor.sessions("live").await?.len(),
        open_secs: (all_open_ms - open_started_ms) as f64 / 1000.0,
        latencies,
        cpu_open,
        cpu_idle,
        frames,
        bytes,
    })
}

async fn run(gateway: Handle) -> Result<(), Error> {
    let count = env_usize("HOSHU_BENCH_SESSIONS", 100).max(1);
    let concurrency = env_usize("HOSHU_BENCH_CONCURRENCY", 10).max(1);
    let rounds = env_usize("HOSHU_BENCH_ROUNDS", 2).max(1);
    let pid = gateway.pid;
    let vendor = Arc::new(Vendor::log_in(&gateway).await?);

    // Settle, then the baseline: logged in, no session yet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = status_kb(pid, "VmRSS");
    let mut done = Vec::new();
    for _ in 0..rounds {
        done.push(round(&vendor, pid, count, concurrency).await?);
    }
    let hwm = status_kb(pid, "VmHWM");

    let header: Vec<String> = (1..=done.len()).map(|i| format!("round {i}")).collect();
    let mut table = Table::new(&header.iter().map(String::as_str).collect::<Vec<_>>());
    let mut line = |label: String, f: &dyn Fn(&Round) -> String| {
        table.row(label, done.iter().map(f).collect());
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
    table.print();
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
    let sessions = env_usize("HOSHU_BENCH_SESSIONS", 100).max(1).to_string();
    support::main(
        "idle_sessions",
        &["--live-sessions-per-user", &sessions],
        Duration::from_secs(900),
        run,
    );
}
