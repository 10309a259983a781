//! The built-in demo target's driver: a TCP listener on loopback serving the sans-IO RFB server
//! of crates/demo-target. All connections share one desktop; a change made through one
//! connection wakes the others so they send it too.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use hoshu_demo_target::{Connection, Desktop, ServerConfig};
use rand::RngCore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::app::services::Services;

/// Starts the demo desktop on a loopback port chosen by the system, as one of the gateway's
/// services; returns its address.
pub async fn start(name: &str, services: &mut Services) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("starting the demo target on loopback")?;
    let addr = listener
        .local_addr()
        .context("reading the demo target's address")?;
    let desktop = Arc::new(Mutex::new(Desktop::new()));
    let (changes, _) = watch::channel(0u64);
    let config = ServerConfig {
        name: name.to_owned(),
        password: None,
    };
    services.spawn("demo target", move |mut shutdown| async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = shutdown.requested() => return,
            };
            let Ok((stream, _)) = accepted else {
                continue;
            };
            let desktop = desktop.clone();
            let changes = changes.clone();
            let config = config.clone();
            tokio::spawn(async move {
                if let Err(e) = serve(stream, config, desktop, changes).await {
                    tracing::debug!(error = %e, "Demo target connection ended");
                }
            });
        }
    });
    Ok(addr)
}

async fn serve(
    mut stream: TcpStream,
    config: ServerConfig,
    desktop: Arc<Mutex<Desktop>>,
    changes: watch::Sender<u64>,
) -> anyhow::Result<()> {
    let mut challenge = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut challenge);
    let mut connection = Connection::new(config, challenge);
    let mut changed = changes.subscribe();
    let mut buf = vec![0u8; 16 * 1024];
    // A poisoned lock (below) means another connection panicked mid-update; the picture is
    // still usable, so it is taken anyway.
    loop {
        let output = {
            let desktop = desktop.lock().unwrap_or_else(|p| p.into_inner());
            connection.take_output(&desktop)
        };
        if !output.is_empty() {
            stream.write_all(&output).await?;
        }
        tokio::select! {
            read = stream.read(&mut buf) => {
                let n = read?;
                if n == 0 {
                    return Ok(());
                }
                let (result, count) = {
                    let mut desktop = desktop.lock().unwrap_or_else(|p| p.into_inner());
                    let result = connection.receive(&buf[..n], &mut desktop);
                    (result, desktop.change_count())
                };
                changes.send_if_modified(|c| std::mem::replace(c, count) != count);
                if let Err(e) = result {
                    let output = {
                        let desktop = desktop.lock().unwrap_or_else(|p| p.into_inner());
                        connection.take_output(&desktop)
                    };
                    let _ = stream.write_all(&output).await;
                    return Err(e.into());
                }
            }
            _ = changed.changed() => {}
        }
    }
}
