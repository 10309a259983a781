//! Hostile targets beside real sessions (hardening, "a target that stalls the whole gateway"):
//! the real `hoshu demo` binary, 10 sessions on its built-in desktop being typed on, and then
//! 50 sessions on hostile VNC targets beside them — half flood the gateway with undecodable
//! noise as fast as it reads, half resize their desktop between 2048² and 16² every 400 ms
//! (below the churn limit, so they are not ended for it). Prints the normal sessions' frame
//! interval (p50, p99, max) alone and with the hostile neighbours, the gateway's CPU and memory,
//! and how long an administrator's end of each hostile session takes to close its tunnel.
//!
//! The typing: one key every 100 ms, on each normal session in turn. The demo desktop is one
//! desktop shared by its connections, so every normal session should see a frame about every
//! 100 ms; longer intervals are the stall the hostile targets cause.
//!
//! Run: `cargo bench -p hoshu-gateway --bench hostile_neighbours`. A figure, not a test.

#[path = "../tests/common/rfb_server.rs"]
#[allow(dead_code)]
mod rfb_server;
mod support;

use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rfb_server::{RfbServer, connected, drain, rect_header, update_header};
use support::{
    DEMO_ADMIN, DEMO_TARGET, Error, Handle, Seen, Table, Vendor, cpu_seconds, instruction, mib,
    spread_ms, status_kb,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};

const NORMAL: usize = 10;
const FLOODING: usize = 25;
const CHURNING: usize = 25;
/// The typing's pace, and how long each phase is measured.
const KEY_EVERY: Duration = Duration::from_millis(100);
const PHASE: Duration = Duration::from_secs(20);
/// Every wait is bounded; the benchmark stops by itself.
const OPEN_WITHIN: Duration = Duration::from_secs(120);
const END_WITHIN: Duration = Duration::from_secs(30);
/// RFC 6143 §7.7.1 Raw, §7.8.2 DesktopSize.
const RAW: i32 = 0;
const DESKTOP_SIZE: i32 = -223;
const NOISE_SIDE: u16 = 256;

/// 256×256 pixels that compress to nothing, made once.
fn noise() -> &'static [u8] {
    static NOISE: OnceLock<Vec<u8>> = OnceLock::new();
    NOISE.get_or_init(|| {
        let mut state = 0x9E37_79B9u32;
        (0..usize::from(NOISE_SIDE) * usize::from(NOISE_SIDE) * 4)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect()
    })
}

/// A FramebufferUpdate of noise at (`x`, `y`), after a DesktopSize to `side`² if given.
fn noise_update(x: u16, y: u16, side: Option<u16>) -> Vec<u8> {
    let mut update = update_header(if side.is_some() { 2 } else { 1 });
    if let Some(side) = side {
        update.extend_from_slice(&rect_header(0, 0, side, side, DESKTOP_SIZE));
    }
    update.extend_from_slice(&rect_header(x, y, NOISE_SIDE, NOISE_SIDE, RAW));
    update.extend_from_slice(noise());
    update
}

/// A 1024×768 desktop that draws noise somewhere new as fast as the gateway reads it.
async fn flooding(mut s: TcpStream) -> io::Result<()> {
    connected(&mut s, 1024, 768).await?;
    let (read, mut write) = s.into_split();
    tokio::spawn(drain(read));
    for i in 0u32.. {
        let x = u16::try_from((i * 97) % (1024 - u32::from(NOISE_SIDE))).unwrap_or(0);
        let y = u16::try_from((i * 61) % (768 - u32::from(NOISE_SIDE))).unwrap_or(0);
        if write.write_all(&noise_update(x, y, None)).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// A desktop alternating between 2048² (16 MiB) and 16² every 400 ms, drawing noise each time.
async fn churning(mut s: TcpStream) -> io::Result<()> {
    connected(&mut s, 640, 480).await?;
    let (read, mut write) = s.into_split();
    tokio::spawn(drain(read));
    for i in 0u32.. {
        let side = if i % 2 == 0 { 2048 } else { 16 };
        let update = if side == 16 {
            let mut update = update_header(1);
            update.extend_from_slice(&rect_header(0, 0, 16, 16, DESKTOP_SIZE));
            update
        } else {
            noise_update(0, 0, Some(side))
        };
        if write.write_all(&update).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    Ok(())
}

/// What the normal sessions saw over one phase.
struct Phase {
    gaps: Vec<u64>,
    frames: u64,
    cpu: f64,
    rss: u64,
}

/// Types on the normal sessions for [`PHASE`], recording their frame intervals.
async fn phase(normal: &[(Arc<Seen>, mpsc::Sender<String>)], pid: u32) -> Result<Phase, Error> {
    for (seen, _) in normal {
        seen.gaps.lock().map_err(|_| "poisoned")?.clear();
        // The first interval starts at the phase's first frame, not at the last one before.
        seen.last_frame_ms.store(support::NONE, Ordering::Relaxed);
        seen.record_gaps.store(true, Ordering::Relaxed);
    }
    let frames_before: u64 = normal
        .iter()
        .map(|(s, _)| s.frames.load(Ordering::Relaxed))
        .sum();
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let mut tick = tokio::time::interval(KEY_EVERY);
    let mut rss = 0;
    for i in 0usize.. {
        tick.tick().await;
        if started.elapsed() >= PHASE {
            break;
        }
        let (_, keys) = &normal[i % normal.len()];
        // 'x' pressed and released (X11 keysym 0x78).
        let typed = instruction("key", &["120", "1"]) + &instruction("key", &["120", "0"]);
        keys.send(typed).await?;
        rss = rss.max(status_kb(pid, "VmRSS"));
    }
    let mut gaps = Vec::new();
    for (seen, _) in normal {
        seen.record_gaps.store(false, Ordering::Relaxed);
        gaps.extend(seen.gaps.lock().map_err(|_| "poisoned")?.iter().copied());
        if let Some(ended) = seen.ending() {
            return Err(format!("a normal session ended: {ended}").into());
        }
    }
    let frames_after: u64 = normal
        .iter()
        .map(|(s, _)| s.frames.load(Ordering::Relaxed))
        .sum();
    Ok(Phase {
        gaps,
        frames: frames_after - frames_before,
        cpu: cpu_seconds(pid) - cpu_before,
        rss,
    })
}

async fn run(gateway: Handle) -> Result<(), Error> {
    let pid = gateway.pid;
    let vendor = Arc::new(Vendor::log_in(&gateway).await?);
    let admin = Vendor::log_in_as(&gateway, &DEMO_ADMIN).await?;
    // The hostile servers on a runtime of their own, so their writing does not delay the
    // clients' clocks (both still share the machine with the gateway).
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let flood = servers.spawn(RfbServer::start(flooding)).await?;
    let churn = servers.spawn(RfbServer::start(churning)).await?;
    gateway.add_vnc_target("flood", flood.port)?;
    gateway.add_vnc_target("churn", churn.port)?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let opening = Arc::new(Semaphore::new(10));
    let mut normal = Vec::new();
    for _ in 0..NORMAL {
        let seen = Seen::new();
        let (keys, typed) = mpsc::channel(16);
        tokio::spawn(support::session(
            vendor.clone(),
            DEMO_TARGET.to_owned(),
            seen.clone(),
            opening.clone(),
            Some(typed),
            stop_rx.clone(),
        ));
        normal.push((seen, keys));
    }
    wait_drawn(normal.iter().map(|(s, _)| s)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let alone = phase(&normal, pid).await?;

    let (hostile_stop, hostile_rx) = watch::channel(false);
    let mut hostile = Vec::new();
    for target in
        std::iter::repeat_n("flood", FLOODING).chain(std::iter::repeat_n("churn", CHURNING))
    {
        let seen = Seen::new();
        tokio::spawn(support::session(
            vendor.clone(),
            target.to_owned(),
            seen.clone(),
            opening.clone(),
            None,
            hostile_rx.clone(),
        ));
        hostile.push((target, seen));
    }
    let opened_at = Instant::now();
    wait_drawn(hostile.iter().map(|(_, s)| s)).await?;
    let open_secs = opened_at.elapsed().as_secs_f64();
    let beside = phase(&normal, pid).await?;
    let live_hostile = hostile.iter().filter(|(_, s)| s.ending().is_none()).count();

    // An administrator ends each hostile session: how long until its tunnel closes.
    let mut ends = Vec::new();
    for (_, seen) in &hostile {
        let Some(id) = seen.id.lock().map_err(|_| "poisoned")?.clone() else {
            continue;
        };
        if seen.ending().is_some() {
            continue;
        }
        let asked = Instant::now();
        admin.end_session(&id).await?;
        while seen.ending().is_none() && asked.elapsed() < END_WITHIN {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        ends.push(u64::try_from(asked.elapsed().as_millis()).unwrap_or(u64::MAX));
    }
    let _ = hostile_stop.send(true);
    let after = phase(&normal, pid).await?;
    let hwm = status_kb(pid, "VmHWM");
    let _ = stop_tx.send(true);
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop((flood, churn));
    servers.shutdown_background();

    let mut table = Table::new(&["alone", "beside 50 hostile", "after they ended"]);
    let phases = [&alone, &beside, &after];
    table.row(
        "normal sessions' frame interval, p50 / p99 / max",
        phases
            .iter()
            .map(|p| spread_ms(&mut p.gaps.clone()))
            .collect(),
    );
    table.row(
        format!("frames drawn to the {NORMAL} normal sessions"),
        phases.iter().map(|p| p.frames.to_string()).collect(),
    );
    table.row(
        format!("gateway CPU over {} s", PHASE.as_secs()),
        phases.iter().map(|p| format!("{:.1} s", p.cpu)).collect(),
    );
    table.row(
        "gateway RSS (highest sampled)",
        phases.iter().map(|p| mib(p.rss)).collect(),
    );

    println!();
    println!(
        "hostile_neighbours: {NORMAL} sessions on `{DEMO_TARGET}` typed on (a key every {} ms), then {FLOODING} flooding and {CHURNING} churning VNC targets beside them",
        KEY_EVERY.as_millis()
    );
    println!("  {}", support::versions());
    println!();
    table.print();
    println!();
    println!(
        "  hostile sessions: all {} drew within {open_secs:.1} s; {live_hostile} still live after {} s beside the normal ones",
        hostile.len(),
        PHASE.as_secs()
    );
    println!(
        "  an administrator's end of a hostile session until its tunnel closed, p50 / p99 / max: {} ({} ended)",
        spread_ms(&mut ends.clone()),
        ends.len()
    );
    println!("  gateway peak RSS (VmHWM) over the run: {}", mib(hwm));
    println!();
    println!(
        "  The ideal interval is {} ms (one key, one frame, on a desktop all normal sessions share). The",
        KEY_EVERY.as_millis()
    );
    println!(
        "  hostile targets, the clients and the gateway share this machine's cores: compare within one run."
    );
    Ok(())
}

/// Waits until every session drew its first frame or ended.
async fn wait_drawn<'a>(
    sessions: impl Iterator<Item = &'a Arc<Seen>> + Clone,
) -> Result<(), Error> {
    let started = Instant::now();
    loop {
        if sessions
            .clone()
            .all(|s| s.has_drawn() || s.ending().is_some())
        {
            return Ok(());
        }
        if started.elapsed() > OPEN_WITHIN {
            let drawn = sessions.clone().filter(|s| s.has_drawn()).count();
            return Err(
                format!("only {drawn} sessions drew in {} s", OPEN_WITHIN.as_secs()).into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn main() {
    let sessions = (NORMAL + FLOODING + CHURNING).to_string();
    support::main(
        "hostile_neighbours",
        &["--live-sessions-per-user", &sessions],
        Duration::from_secs(600),
        run,
    );
}
