//! A scripted server for the hostile-target tests, on a thread and runtime of its own: `hoshu
//! admin target add` blocks the test's thread while it fetches the target's identity (an RDP
//! certificate, an SSH host key), so the server cannot run on the test's runtime. The first
//! connection is that fetch, answered honestly; every later one is served by the test's
//! function. Stops, with every connection, when dropped.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::tunnel::proc_status_kib;

type Served = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

#[derive(Debug)]
pub struct ScriptedServer {
    pub port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        // Its runtime ends, and drops every connection's task with it.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl ScriptedServer {
    /// Listens on 127.0.0.1:0; `what` names the server in its messages.
    pub fn start<A, AF, F, Fut>(what: &'static str, fetch: A, serve: F) -> ScriptedServer
    where
        A: FnOnce(TcpStream) -> AF + Send + 'static,
        AF: Future<Output = io::Result<()>> + Send + 'static,
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime for the scripted server");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a loopback port for the scripted server");
                let _ = port_tx.send(listener.local_addr().expect("its address").port());
                let connections = AtomicUsize::new(0);
                let mut fetch = Some(fetch);
                let accept = async {
                    while let Ok((stream, _)) = listener.accept().await {
                        let _ = stream.set_nodelay(true);
                        let first = connections.fetch_add(1, Ordering::Relaxed) == 0;
                        let served: Served = match fetch.take().filter(|_| first) {
                            Some(fetch) => Box::pin(fetch(stream)),
                            None => Box::pin(serve(stream)),
                        };
                        // The gateway ending the connection mid-write is what most tests
                        // expect; the error is printed for a failing test's output.
                        tokio::spawn(async move {
                            if let Err(e) = served.await {
                                eprintln!("scripted {what} server: {e}");
                            }
                        });
                    }
                };
                tokio::select! {
                    _ = stopped => {}
                    () = accept => {}
                }
            });
        });
        ScriptedServer {
            port: port_rx.recv().expect("the scripted server listens"),
            stop: Some(stop),
        }
    }
}

/// Reads until the peer closes the connection (or it fails), discarding what it sends.
pub async fn drain<S: AsyncRead + Unpin>(mut s: S) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

/// Writes `chunk` again and again, up to `total` bytes, until the gateway stops reading.
pub async fn flood<S: AsyncWrite + Unpin>(s: &mut S, chunk: &[u8], total: u64) -> io::Result<()> {
    let mut sent = 0u64;
    while sent < total {
        if s.write_all(chunk).await.is_err() {
            return Ok(());
        }
        sent += chunk.len() as u64;
    }
    Ok(())
}

/// The gateway's memory before a hostile session, to check it stayed bounded after.
#[derive(Debug, Clone, Copy)]
pub struct MemoryMark {
    pid: u32,
    rss_before: u64,
    peak_before: u64,
}

impl MemoryMark {
    pub fn of(pid: u32) -> MemoryMark {
        MemoryMark {
            pid,
            rss_before: proc_status_kib(pid, "VmRSS"),
            peak_before: proc_status_kib(pid, "VmHWM"),
        }
    }

    /// The peak stayed under the earlier peak or the RSS before plus `headroom_kib`; the RSS
    /// now, in KiB.
    pub fn assert_peak_bounded(&self, name: &str, headroom_kib: u64) -> u64 {
        let peak = proc_status_kib(self.pid, "VmHWM");
        let rss = proc_status_kib(self.pid, "VmRSS");
        eprintln!(
            "figure: {name}: gateway RSS {} KiB before, {rss} KiB now, peak {peak} KiB",
            self.rss_before
        );
        let ceiling = self.peak_before.max(self.rss_before + headroom_kib);
        assert!(
            peak <= ceiling,
            "{name}: the gateway's peak RSS grew to {peak} KiB from {} KiB (peak before {} KiB)",
            self.rss_before,
            self.peak_before
        );
        rss
    }

    /// [`MemoryMark::assert_peak_bounded`], and the RSS now is within the headroom too.
    pub fn assert_bounded(&self, name: &str, headroom_kib: u64) {
        let rss = self.assert_peak_bounded(name, headroom_kib);
        assert!(
            rss <= self.rss_before + headroom_kib,
            "{name}: the gateway's RSS is {rss} KiB after the session, {} KiB before",
            self.rss_before
        );
    }
}
