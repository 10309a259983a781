//! The audit chain streamed to a syslog collector (DESIGN §7): RFC 5424 messages with RFC 6587
//! octet-counting framing over TCP, or over TLS (RFC 5425). Nothing is lost: the sequence
//! number of the last event the collector took is kept in `audit.export` in the data
//! directory, so a collector that is down, or a gateway restart, only delays events.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hoshu_domain::ChainedEvent;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::app::services::Shutdown;
use crate::app::state::AppState;

/// `[audit.syslog]` in the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogSettings {
    /// The collector, `host:port`.
    pub address: String,
    /// RFC 5425 TLS; the collector's certificate must chain to `ca`.
    #[serde(default)]
    pub tls: bool,
    /// PEM file of the certificate authority that signed the collector's certificate.
    pub ca: Option<PathBuf>,
    /// The name in the collector's certificate; by default the host part of `address`.
    pub server_name: Option<String>,
    /// HOSTNAME field; by default this machine's host name.
    pub hostname: Option<String>,
}

/// Structured-data ID: "hoshu" under the documentation enterprise number of RFC 5612 — an
/// organisation that registers its own number puts it here.
const SD_ID: &str = "hoshu@32473";
/// Syslog facility 13: "log audit" (RFC 5424 table 1).
const FACILITY_LOG_AUDIT: u8 = 13;
/// Events per write; the position is saved after each batch.
const BATCH: u32 = 500;

/// Severity of an audit event: failures, refusals and stops are warnings, the rest notices.
fn severity(kind: &str) -> u8 {
    const WARNING: u8 = 4;
    const NOTICE: u8 = 5;
    let warn = [
        "failure",
        "refused",
        "lockout",
        "emergency",
        "revoked",
        "lock",
    ];
    if warn.iter().any(|w| kind.contains(w)) {
        WARNING
    } else {
        NOTICE
    }
}

/// PARAM-VALUE escaping of RFC 5424 §6.3.3: `"`, `\` and `]` take a backslash.
fn escape_param(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A header field: printable US-ASCII without spaces, at most `max` characters, or "-".
fn header_field(value: &str, max: usize) -> String {
    let field: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if field.is_empty() {
        "-".to_owned()
    } else {
        field
    }
}

/// One event as an RFC 5424 message (without framing).
pub fn rfc5424(event: &ChainedEvent, hostname: &str, procid: u32) -> String {
    let pri = FACILITY_LOG_AUDIT * 8 + severity(&event.kind);
    let timestamp = OffsetDateTime::from_unix_timestamp_nanos(i128::from(event.at_ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".to_owned());
    let mut sd = format!("[{SD_ID} seq=\"{}\"", event.seq);
    for (name, value) in [
        ("actor", &event.actor),
        ("subject", &event.subject),
        ("source", &event.source),
    ] {
        if let Some(value) = value {
            sd.push_str(&format!(" {name}=\"{}\"", escape_param(value)));
        }
    }
    sd.push_str(&format!(
        " prev=\"{}\" hash=\"{}\"]",
        hex::encode(event.prev_hash),
        hex::encode(event.hash)
    ));
    // The detail is the exact JSON that was hashed, so a collector can re-verify the chain.
    format!(
        "<{pri}>1 {timestamp} {} hoshu {procid} {} {sd} \u{feff}{}",
        header_field(hostname, 255),
        header_field(&event.kind, 32),
        event.detail
    )
}

/// RFC 6587 octet counting: the message's length in bytes, a space, the message.
pub fn frame(message: &str) -> String {
    format!("{} {message}", message.len())
}

fn this_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

fn read_position(path: &Path) -> i64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

fn write_position(path: &Path, seq: i64) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{seq}\n"))?;
    std::fs::rename(tmp, path)
}

type Stream = Box<dyn AsyncWrite + Unpin + Send>;

async fn connect(
    settings: &SyslogSettings,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> anyhow::Result<Stream> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(5),
        TcpStream::connect(&settings.address),
    )
    .await
    .context("timed out")?
    .with_context(|| format!("connecting to {}", settings.address))?;
    tcp.set_nodelay(true)?;
    let Some(config) = tls else {
        return Ok(Box::new(tcp));
    };
    let name = match &settings.server_name {
        Some(name) => name.clone(),
        None => settings
            .address
            .rsplit_once(':')
            .map_or(settings.address.clone(), |(host, _)| {
                host.trim_matches(['[', ']']).to_owned()
            }),
    };
    let server_name = ServerName::try_from(name.clone())
        .with_context(|| format!("{name:?} is not a valid TLS server name"))?;
    let stream = tokio_rustls::TlsConnector::from(config.clone())
        .connect(server_name, tcp)
        .await
        .with_context(|| format!("TLS with {}", settings.address))?;
    Ok(Box::new(stream))
}

/// The TLS client configuration trusting only the configured CA.
pub fn tls_config(settings: &SyslogSettings) -> anyhow::Result<Option<Arc<rustls::ClientConfig>>> {
    if !settings.tls {
        return Ok(None);
    }
    let ca = settings
        .ca
        .as_ref()
        .context("[audit.syslog] tls = true needs ca = \"collector-ca.pem\"")?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        CertificateDer::pem_file_iter(ca).with_context(|| format!("reading {}", ca.display()))?
    {
        roots
            .add(cert.with_context(|| format!("reading {}", ca.display()))?)
            .with_context(|| format!("a certificate in {} is not usable", ca.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(Arc::new(config)))
}

/// The exporter service: streams the chain to the collector until shutdown; reconnects with
/// back-off. A batch cut by the shutdown is sent again at the next start (the position is
/// saved only after a batch went out).
pub async fn run(
    state: AppState,
    settings: SyslogSettings,
    tls: Option<Arc<rustls::ClientConfig>>,
    mut shutdown: Shutdown,
) {
    tokio::select! {
        () = export(&state, &settings, tls) => {}
        () = shutdown.requested() => {}
    }
}

async fn export(
    state: &AppState,
    settings: &SyslogSettings,
    tls: Option<Arc<rustls::ClientConfig>>,
) {
    {
        let position_file = state.config.data_dir.join("audit.export");
        let hostname = settings.hostname.clone().unwrap_or_else(this_hostname);
        let procid = std::process::id();
        let mut backoff = Duration::from_secs(1);
        loop {
            let mut stream = match connect(settings, tls.as_ref()).await {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), retry_secs = backoff.as_secs(), "Syslog collector unreachable");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            };
            tracing::info!(collector = %settings.address, tls = settings.tls, "Streaming the audit chain to syslog");
            backoff = Duration::from_secs(1);
            let failure = loop {
                let after = read_position(&position_file);
                let events = match state.store.audit_events_after(after, BATCH).await {
                    Ok(events) => events,
                    Err(e) => break format!("reading the audit chain: {e}"),
                };
                let Some(last) = events.last().map(|e| e.seq) else {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                };
                let batch: String = events
                    .iter()
                    .map(|e| frame(&rfc5424(e, &hostname, procid)))
                    .collect();
                if let Err(e) = stream.write_all(batch.as_bytes()).await {
                    break format!("writing: {e}");
                }
                if let Err(e) = stream.flush().await {
                    break format!("writing: {e}");
                }
                if let Err(e) = write_position(&position_file, last) {
                    break format!("saving the position in {}: {e}", position_file.display());
                }
            };
            tracing::warn!(error = %failure, "Syslog export interrupted; reconnecting");
            tokio::time::sleep(backoff).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> ChainedEvent {
        ChainedEvent {
            seq: 42,
            at_ms: 1_800_000_000_123,
            kind: "login.failure".to_owned(),
            actor: Some("a\"b]c\\".to_owned()),
            subject: Some("保守 太郎".to_owned()),
            source: None,
            detail: "{\"reason\":\"x\"}".to_owned(),
            prev_hash: [1; 32],
            hash: [2; 32],
        }
    }

    #[test]
    fn messages_follow_rfc_5424() {
        let message = rfc5424(&event(), "gw 1", 7);
        let expected_start = "<108>1 2027-01-15T08:00:00.123Z gw1 hoshu 7 login.failure \
            [hoshu@32473 seq=\"42\" actor=\"a\\\"b\\]c\\\\\" subject=\"保守 太郎\" prev=\"";
        assert!(message.starts_with(expected_start), "{message}");
        assert!(
            message.ends_with(" \u{feff}{\"reason\":\"x\"}"),
            "{message}"
        );
        assert!(message.contains(&format!("hash=\"{}\"]", "02".repeat(32))));
    }

    #[test]
    fn routine_events_are_notices_and_frames_count_bytes() {
        let mut routine = event();
        routine.kind = "session.open".to_owned();
        assert!(rfc5424(&routine, "-", 1).starts_with("<109>1 "));
        let framed = frame("ä");
        assert_eq!(framed, "2 ä");
    }
}
