//! Binding, TLS and serving until a shutdown signal.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;
use hoshu_domain::{AuditEvent, AuditKind};
use hoshu_storage::Store;

use std::sync::Arc;

use super::config::Config;
use super::connections::{self, Limited};
use super::services::Services;
use super::state::AppState;
use crate::audit::export::SyslogSettings;
use crate::sessions::Outcome;

/// How long a shutdown may take in all (DESIGN §10: SIGTERM seals every session and exits
/// within 10 s).
const SHUTDOWN_WITHIN: Duration = Duration::from_secs(9);
/// Of that, how long HTTP connections get to finish after the listener closes.
const CONNECTIONS_WITHIN: Duration = Duration::from_secs(3);

/// The data directory held by one gateway: a second gateway on the same directory would seal
/// the first one's live sessions as orphans and re-point what it set up. The lock is the
/// operating system's (flock), so it goes with the process however that ends.
#[derive(Debug)]
pub struct DataDirLock {
    _held: std::fs::File,
}

impl DataDirLock {
    pub fn take(data_dir: &std::path::Path) -> anyhow::Result<DataDirLock> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data directory {}", data_dir.display()))?;
        let path = data_dir.join("gateway.lock");
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _held: file }),
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "another gateway is already running on {}; stop it first, or give this one its own data directory",
                data_dir.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }
}

pub async fn run(config: Config) -> anyhow::Result<ExitCode> {
    let lock = DataDirLock::take(&config.data_dir)?;
    let store = Store::open(&config.data_dir)
        .await
        .with_context(|| format!("opening data directory {}", config.data_dir.display()))?;
    serve(config, store, lock, Services::new(), |_| {}).await
}

/// The address people should type: an unspecified bind address is reachable as localhost.
pub fn url_for(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => format!("https://localhost:{}/", a.port()),
        SocketAddr::V6(a) if a.ip().is_unspecified() => format!("https://localhost:{}/", a.port()),
        SocketAddr::V4(a) => format!("https://{}:{}/", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("https://[{}]:{}/", a.ip(), a.port()),
    }
}

/// The gateway's own long-lived services, registered here and nowhere else (the caller may
/// have started more, such as the demo target).
fn start_services(
    services: &mut Services,
    state: &AppState,
    syslog: Option<(SyslogSettings, Option<Arc<rustls::ClientConfig>>)>,
) {
    let rechecker = state.clone();
    services.spawn("access re-checker", move |shutdown| {
        crate::sessions::policy::recheck(rechecker, shutdown)
    });
    let repeats = state.clone();
    services.spawn("repeated-challenge auditor", move |shutdown| {
        crate::login::repeats::run(repeats, shutdown)
    });
    let reaper = state.clone();
    services.spawn("unattached-session reaper", move |shutdown| {
        crate::sessions::reap_unattached(reaper, shutdown)
    });
    if let Some((settings, tls)) = syslog {
        let exporter = state.clone();
        services.spawn("syslog exporter", move |shutdown| {
            crate::audit::export::run(exporter, settings, tls, shutdown)
        });
    }
}

/// Serves until Ctrl-C or SIGTERM. Once listening, `before_url` runs and then the URL is printed
/// on a line of its own (scripts and tests wait for it, DESIGN §8).
///
/// At the signal the listener closes, every live session is ended with "the gateway is shutting
/// down" (its user sees why) and sealed, the services stop, and the process exits 0.
pub async fn serve(
    config: Config,
    store: Store,
    _lock: DataDirLock,
    mut services: Services,
    before_url: impl FnOnce(SocketAddr),
) -> anyhow::Result<ExitCode> {
    let (cert, key, self_signed) =
        crate::app::tls::certificate_paths(&config.tls, &config.data_dir)?;
    // The device CA is made here on first start, so the TLS listener can request client
    // certificates from it from the first connection on.
    let device_ca = crate::devices::ca::load_or_create(&store)
        .await
        .context("loading the device CA")?;
    let tls = RustlsConfig::from_config(crate::app::tls::server_config(
        &cert,
        &key,
        &device_ca.certificate_pem,
    )?);
    if self_signed {
        let tls = tls.clone();
        let device_ca = device_ca.certificate_pem.clone();
        services.spawn("self-signed certificate renewal", move |shutdown| {
            renew_certificate(tls, cert, key, device_ca, shutdown)
        });
    }
    let connection_limit = connections::raise_descriptor_limit();
    let listener = std::net::TcpListener::bind(config.listen).with_context(|| {
        format!(
            "listening on {}; is another program using it?",
            config.listen
        )
    })?;
    listener
        .set_nonblocking(true)
        .context("making the listening socket non-blocking")?;
    let addr = listener.local_addr().context("reading the bound address")?;

    // Sessions a previous run left open (a crash or a kill) cannot still be live: their
    // recordings are finished and sealed now.
    let orphans =
        crate::sessions::live::seal_orphans(&store, &config.data_dir.join("recordings")).await;
    if orphans > 0 {
        tracing::info!(
            sessions = orphans,
            "Sessions left open by a previous run sealed"
        );
    }
    // A syslog collector that is misconfigured stops the start; one that is down does not.
    let syslog = match &config.audit.syslog {
        Some(settings) => Some((
            settings.clone(),
            crate::audit::export::tls_config(settings).context("[audit.syslog]")?,
        )),
        None => None,
    };
    let state = AppState::new(store, config);
    start_services(&mut services, &state, syslog);
    state
        .audit(AuditEvent::new(AuditKind::GatewayStarted).detail("listen", addr.to_string()))
        .await
        .context("writing the start event to the audit log")?;

    let handle = axum_server::Handle::new();
    let stopping = {
        let handle = handle.clone();
        let state = state.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("Shutting down");
            let deadline = tokio::time::Instant::now() + SHUTDOWN_WITHIN;
            // No new connections; every live session told why and ended (its task seals it).
            handle.graceful_shutdown(Some(CONNECTIONS_WITHIN));
            state.sessions.end_all(&Outcome::ShuttingDown);
            deadline
        })
    };

    tracing::info!(listen = %addr, "Gateway listening");
    before_url(addr);
    println!("{}", url_for(addr));
    // TCP_NODELAY: session frames and the final error/close of a tunnel must not wait for
    // Nagle's algorithm.
    let acceptor = crate::app::tls::ClientCertAcceptor::new(
        axum_server::tls_rustls::RustlsAcceptor::new(tls)
            .acceptor(axum_server::accept::NoDelayAcceptor::new()),
    );
    let acceptor = Limited::new(acceptor, connections::PER_SOURCE, connection_limit);
    let mut server = axum_server::from_tcp(listener)
        .acceptor(acceptor)
        .handle(handle);
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(connections::FIRST_REQUEST_WITHIN);
    let served = server
        .serve(crate::app::routes::make_service(state.clone()))
        .await;
    let deadline = stopping
        .await
        .unwrap_or_else(|_| tokio::time::Instant::now() + SHUTDOWN_WITHIN);
    // Sessions run on their own tasks (upgraded WebSockets outlive their HTTP connection):
    // wait until every one is sealed.
    if !state.sessions.wait_sealed(deadline).await {
        tracing::error!(
            sessions = state.sessions.len(),
            "Sessions not sealed before the shutdown deadline; the next start seals them"
        );
    }
    services
        .stop(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await;
    if let Err(e) = state
        .audit(AuditEvent::new(AuditKind::GatewayStopped))
        .await
    {
        tracing::error!(error = %e, "Cannot audit the gateway's stop");
    }
    state.store.close().await;
    served.context("serving HTTPS")?;
    Ok(ExitCode::SUCCESS)
}

/// The renewal service of the self-signed certificate: twice a day, a certificate that ends
/// within a month is replaced and the listener takes it for new connections.
async fn renew_certificate(
    tls: RustlsConfig,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    device_ca: String,
    mut shutdown: super::services::Shutdown,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(12 * 3600)) => {}
            () = shutdown.requested() => return,
        }
        let renewed = crate::app::tls::renew_self_signed_if_due(&cert, &key).and_then(|due| {
            due.then(|| crate::app::tls::server_config(&cert, &key, &device_ca))
                .transpose()
        });
        match renewed {
            Ok(Some(config)) => tls.reload_from_config(config),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "Cannot renew the TLS certificate")
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_reachable_host() {
        assert_eq!(
            url_for("127.0.0.1:8443".parse().unwrap()),
            "https://127.0.0.1:8443/"
        );
        assert_eq!(
            url_for("0.0.0.0:443".parse().unwrap()),
            "https://localhost:443/"
        );
        assert_eq!(url_for("[::1]:9".parse().unwrap()), "https://[::1]:9/");
    }
}
