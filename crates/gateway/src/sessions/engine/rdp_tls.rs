//! The RDP security upgrade (MS-RDPBCGR 5.4.5.1) with the target's pinned certificate: TLS
//! over the negotiated connection, accepting only the certificate whose SHA-256 was pinned at
//! registration, and the server's public key CredSSP binds the credentials to.

use std::sync::{Arc, Mutex};

use hoshu_rdp::pin::CertificatePin;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName as TlsServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Accepts exactly the pinned certificate (or, to fetch one, any certificate), and records what
/// was presented so a refusal can say what the server shows now. The handshake signature is
/// still verified, so the server holds the certificate's key.
#[derive(Debug)]
pub(super) struct PinnedCertificate {
    pin: Option<CertificatePin>,
    presented: Mutex<Option<Vec<u8>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &TlsServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut presented) = self.presented.lock() {
            *presented = Some(end_entity.to_vec());
        }
        match self.pin {
            Some(pin) if !pin.matches(end_entity) => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Why the TLS upgrade failed.
pub(super) enum TlsFailure {
    /// The server presented another certificate than the pinned one.
    Changed(CertificatePin),
    /// The server hung up during the handshake.
    Closed,
    Other(String),
}

/// The RDP security upgrade (MS-RDPBCGR 5.4.5.1): TLS over the negotiated connection. Returns
/// the stream and the certificate's DER.
pub(super) async fn upgrade(
    tcp: TcpStream,
    host: &str,
    pin: Option<CertificatePin>,
) -> Result<(TlsStream<TcpStream>, Vec<u8>), TlsFailure> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedCertificate {
        pin,
        presented: Mutex::new(None),
        provider: provider.clone(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsFailure::Other(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    // MS-CSSP 1.3: CredSSP does not support TLS session resumption.
    config.resumption = rustls::client::Resumption::disabled();
    let name = TlsServerName::try_from(host.to_owned())
        .map_err(|_| TlsFailure::Other(format!("{host:?} is not a valid host name")))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match connector.connect(name, tcp).await {
        Ok(tls) => {
            let der = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .map(|c| c.to_vec())
                .ok_or_else(|| TlsFailure::Other("the server sent no certificate".to_owned()))?;
            Ok((tls, der))
        }
        Err(e) => {
            let presented = verifier.presented.lock().ok().and_then(|p| p.clone());
            match (pin, presented) {
                (Some(pin), Some(der)) if !pin.matches(&der) => {
                    Err(TlsFailure::Changed(CertificatePin::of_der(&der)))
                }
                _ if hoshu_rdp::failure::is_closed(&e) => Err(TlsFailure::Closed),
                _ => Err(TlsFailure::Other(e.to_string())),
            }
        }
    }
}

/// The subject public key of a DER certificate: CredSSP binds the credentials to it (MS-CSSP
/// 3.1.5), so a man in the middle cannot relay them.
pub(super) fn server_public_key(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}
