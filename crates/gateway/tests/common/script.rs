//! A scripted server for the hostile-target tests, on a thread and runtime of its own: `hoshu
//! admin target add` blocks the test's thread while it fetches the target's identity (an RDP
//! certificate, an SSH host key), so the server cannot run on the test's runtime. The first
//! connection is that fetch, answered honestly; every later one is served by the test's
//! function. Stops, with every connection, when dropped.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};

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
