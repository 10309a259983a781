//! TLS for the gateway: rustls with the ring provider, and a self-signed certificate made on
//! first start when no certificate is configured.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum::middleware::AddExtension;
use axum_server::accept::{Accept, NoDelayAcceptor};
use axum_server::tls_rustls::RustlsAcceptor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tower::Layer;

/// How long a self-signed certificate is valid, and how long before its end it is replaced.
const SELF_SIGNED_DAYS: i64 = 365;
const RENEW_DAYS_BEFORE: i64 = 30;

/// Certificate and key paths to use, creating a self-signed pair under `data_dir/tls` when the
/// configuration names none (or renewing it when its end is near); whether they are that
/// self-signed pair.
pub fn certificate_paths(
    configured: &crate::app::config::TlsFile,
    data_dir: &Path,
) -> anyhow::Result<(PathBuf, PathBuf, bool)> {
    if let (Some(cert), Some(key)) = (&configured.cert, &configured.key) {
        return Ok((cert.clone(), key.clone(), false));
    }
    let dir = data_dir.join("tls");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    if !cert.exists() || !key.exists() {
        make_self_signed(&dir, &cert, &key)?;
    } else {
        renew_self_signed_if_due(&cert, &key)?;
    }
    Ok((cert, key, true))
}

/// Replaces the self-signed certificate when it ends within [`RENEW_DAYS_BEFORE`] days (or
/// cannot be read); whether it did.
pub fn renew_self_signed_if_due(cert: &Path, key: &Path) -> anyhow::Result<bool> {
    let ends = std::fs::read(cert)
        .ok()
        .and_then(|pem| CertificateDer::from_pem_slice(&pem).ok())
        .and_then(|der| {
            let (_, parsed) = x509_parser::parse_x509_certificate(&der).ok()?;
            Some(parsed.validity().not_after.timestamp())
        });
    let due = ends.is_none_or(|ends| {
        ends - time::OffsetDateTime::now_utc().unix_timestamp() < RENEW_DAYS_BEFORE * 86_400
    });
    if due {
        let dir = cert.parent().unwrap_or(Path::new("."));
        make_self_signed(dir, cert, key)?;
    }
    Ok(due)
}

fn make_self_signed(dir: &Path, cert_path: &Path, key_path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        if !host.is_empty() {
            names.push(host.to_owned());
        }
    }
    let mut params =
        rcgen::CertificateParams::new(names).context("naming the self-signed TLS certificate")?;
    // One year (browsers distrust longer server certificates), from a day ago so a client
    // whose clock is a little behind accepts it.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_DAYS);
    let key_pair = rcgen::KeyPair::generate().context("generating the TLS key")?;
    let certificate = params
        .self_signed(&key_pair)
        .context("generating a self-signed TLS certificate")?;
    write_private(key_path, key_pair.serialize_pem().as_bytes())?;
    std::fs::write(cert_path, certificate.pem())
        .with_context(|| format!("writing {}", cert_path.display()))?;
    tracing::info!(cert = %cert_path.display(), days = SELF_SIGNED_DAYS, "Self-signed TLS certificate created");
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))
}

/// A rustls server configuration for HTTP/1.1 and HTTP/2. Client certificates issued by the
/// device CA are requested, not required (DESIGN §6): browsers and scripts without one still
/// connect, and the routes that need a device look at [`ClientCertificate`].
pub fn server_config(
    cert: &Path,
    key: &Path,
    device_ca_pem: &str,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading TLS certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing TLS certificate {}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!(
            "TLS certificate file {} holds no certificate",
            cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading TLS private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut device_roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_slice_iter(device_ca_pem.as_bytes()) {
        let der = der.context("parsing the stored device CA certificate")?;
        device_roots
            .add(der)
            .context("adding the device CA certificate to the client verifier")?;
    }
    let client_verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(device_roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()
    .context("building the device client certificate verifier")?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("choosing TLS protocol versions")?
        .with_client_cert_verifier(client_verifier)
        .with_single_cert(chain, key)
        .context("TLS certificate and private key do not match")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The client certificate a connection presented (already verified against the device CA by
/// the TLS handshake), in every request's extensions; `None` without one.
#[derive(Debug, Clone, Default)]
pub struct ClientCertificate(pub Option<Arc<CertificateDer<'static>>>);

impl ClientCertificate {
    /// The enrolled device behind this certificate (verified against the device CA by the
    /// handshake), when it is known, not revoked and the certificate is the one on file.
    pub async fn device(
        &self,
        store: &hoshu_storage::Store,
    ) -> Result<Option<hoshu_storage::Device>, hoshu_storage::StorageError> {
        let Some(der) = &self.0 else {
            return Ok(None);
        };
        let Ok(params) = rcgen::CertificateParams::from_ca_cert_der(der) else {
            return Ok(None);
        };
        let Some(serial) = params.serial_number else {
            return Ok(None);
        };
        let device = store
            .device_by_serial(&hex::encode(serial.to_bytes()))
            .await?;
        Ok(device.filter(|device| {
            // The serial is random, but a certificate is only accepted as the very one issued.
            let on_file = device
                .cert_pem
                .as_deref()
                .and_then(|pem| CertificateDer::from_pem_slice(pem.as_bytes()).ok());
            device.revoked_at.is_none() && on_file.as_deref() == Some(der.as_ref().as_ref())
        }))
    }
}

/// axum-server's rustls acceptor, plus the peer's certificate put into each request of the
/// connection: rustls knows it only on the TLS stream, which handlers never see.
#[derive(Debug, Clone)]
pub struct ClientCertAcceptor {
    inner: RustlsAcceptor<NoDelayAcceptor>,
}

impl ClientCertAcceptor {
    pub fn new(inner: RustlsAcceptor<NoDelayAcceptor>) -> Self {
        ClientCertAcceptor { inner }
    }
}

type Accepting<S> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = std::io::Result<(
                    tokio_rustls::server::TlsStream<TcpStream>,
                    AddExtension<S, ClientCertificate>,
                )>,
            > + Send,
    >,
>;

impl<S: Send + 'static> Accept<TcpStream, S> for ClientCertAcceptor {
    type Stream = tokio_rustls::server::TlsStream<TcpStream>;
    type Service = AddExtension<S, ClientCertificate>;
    type Future = Accepting<S>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let handshake = self.inner.accept(stream, service);
        Box::pin(async move {
            let (stream, service) = handshake.await?;
            // rustls lists the end-entity certificate first (RFC 8446 §4.4.2).
            let certificate = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|der| Arc::new(der.clone().into_owned()));
            Ok((
                stream,
                axum::Extension(ClientCertificate(certificate)).layer(service),
            ))
        })
    }
}

#[cfg(test)]
mod renewal_tests {
    use super::*;

    #[test]
    fn the_self_signed_certificate_lasts_a_year_and_is_renewed_before_it_ends() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (cert, key, self_signed) =
            certificate_paths(&Default::default(), dir.path()).expect("made");
        assert!(self_signed);
        let validity = |path: &Path| {
            let der =
                CertificateDer::from_pem_slice(&std::fs::read(path).expect("read")).expect("PEM");
            let (_, parsed) = x509_parser::parse_x509_certificate(&der).expect("X.509");
            let v = parsed.validity();
            (v.not_before.timestamp(), v.not_after.timestamp())
        };
        let (from, until) = validity(&cert);
        let days = (until - from) / 86_400;
        assert!((365..=367).contains(&days), "{days} days");
        assert!(
            !renew_self_signed_if_due(&cert, &key).expect("checked"),
            "not due yet"
        );
        // A certificate about to end (here: one that cannot be read) is replaced.
        std::fs::write(&cert, "not a certificate").expect("write");
        assert!(renew_self_signed_if_due(&cert, &key).expect("renewed"));
        assert!(validity(&cert).1 > time::OffsetDateTime::now_utc().unix_timestamp());
    }
}
