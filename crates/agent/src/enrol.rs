//! Enrolment with the gateway's device CA and posture reports over mTLS (DESIGN §6).
//!
//! The key pair is made here and never leaves the device: the gateway gets a CSR (whose
//! signature proves the device holds the key) and the one-time code, and answers with the
//! client certificate. The files live in one directory: `device.key` (0600), `device.crt`
//! and `device-ca.crt`, and `device.p12` (0600): the same certificate and key with the CA in
//! the chain, password-protected, for importing into the browser, which presents it (mTLS).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hoshu_domain::PostureReport;
use serde::Deserialize;
use sha2::Digest;

/// Longer than any answer of a healthy gateway; a report is small.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot make the device key pair or its certificate request: {0}")]
    Key(#[from] rcgen::Error),
    #[error("cannot read the gateway's CA certificate: {0}")]
    GatewayCa(reqwest::Error),
    #[error("the stored device certificate and key do not form an identity: {0}")]
    Identity(reqwest::Error),
    #[error("cannot reach the gateway: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the gateway refused ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the gateway's answer is not what an enrolment returns")]
    BadAnswer,
    #[error("cannot read or write {path}: {source}; check the directory's permissions")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("this device is not enrolled ({path} is missing); run `hoshu-agent enroll` first")]
    NotEnrolled { path: PathBuf },
    #[error("the stored device certificate or key cannot be read: {0}")]
    BadPem(String),
    #[error("cannot write the PKCS#12 file: {0}")]
    Pkcs12(String),
}

/// What enrolment gives the device.
#[derive(Clone, Deserialize)]
pub struct Enrolled {
    pub certificate_pem: String,
    pub ca_pem: String,
    #[serde(skip)]
    pub key_pem: String,
}

impl std::fmt::Debug for Enrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolled")
            .field("certificate_pem", &self.certificate_pem)
            .field("key_pem", &"***")
            .finish_non_exhaustive()
    }
}

/// An HTTPS client for the gateway: trusting `gateway_ca` (PEM; the self-signed certificate of
/// a test or demo gateway) or else the usual public roots, presenting `identity` if given.
pub fn client(
    gateway_ca: Option<&[u8]>,
    identity: Option<reqwest::Identity>,
) -> Result<reqwest::Client, AgentError> {
    let mut builder = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = gateway_ca {
        let certificate = reqwest::Certificate::from_pem(pem).map_err(AgentError::GatewayCa)?;
        builder = builder
            .tls_built_in_root_certs(false)
            .add_root_certificate(certificate);
    }
    if let Some(identity) = identity {
        builder = builder.identity(identity);
    }
    Ok(builder.build()?)
}

fn endpoint(gateway: &str, path: &str) -> String {
    format!("{}{path}", gateway.trim_end_matches('/'))
}

/// The gateway's `{"error": …}` message, or the status alone.
async fn refusal(response: reqwest::Response) -> AgentError {
    let status = response.status().as_u16();
    let message = response
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|body| body["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "no reason given".to_owned());
    AgentError::Refused { status, message }
}

/// Makes a key pair and a CSR, and enrols with the one-time `code`.
pub async fn enroll(
    client: &reqwest::Client,
    gateway: &str,
    code: &str,
    fingerprint: &str,
) -> Result<Enrolled, AgentError> {
    let key = rcgen::KeyPair::generate()?;
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)?
        .pem()?;
    let response = client
        .post(endpoint(gateway, "/api/v1/devices/enroll"))
        .json(&serde_json::json!({
            "code": code.trim(), "csr_pem": csr, "fingerprint": fingerprint,
        }))
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    let mut enrolled: Enrolled = response.json().await.map_err(|_| AgentError::BadAnswer)?;
    enrolled.key_pem = key.serialize_pem();
    Ok(enrolled)
}

/// The device's files in `dir`.
#[derive(Debug, Clone)]
pub struct DeviceFiles {
    pub key: PathBuf,
    pub certificate: PathBuf,
    pub ca: PathBuf,
    /// The certificate, key and CA as one PKCS#12, for the browser.
    pub pkcs12: PathBuf,
}

impl DeviceFiles {
    pub fn in_dir(dir: &Path) -> DeviceFiles {
        DeviceFiles {
            key: dir.join("device.key"),
            certificate: dir.join("device.crt"),
            ca: dir.join("device-ca.crt"),
            pkcs12: dir.join("device.p12"),
        }
    }

    /// Writes what enrolment gave; the key readable by its owner only.
    pub fn store(&self, enrolled: &Enrolled) -> Result<(), AgentError> {
        if let Some(dir) = self.key.parent() {
            std::fs::create_dir_all(dir).map_err(|source| AgentError::File {
                path: dir.to_owned(),
                source,
            })?;
        }
        write_file(&self.key, enrolled.key_pem.as_bytes(), true)?;
        write_file(
            &self.certificate,
            enrolled.certificate_pem.as_bytes(),
            false,
        )?;
        write_file(&self.ca, enrolled.ca_pem.as_bytes(), false)
    }

    /// The client identity for mTLS: the certificate and its key.
    pub fn identity(&self) -> Result<reqwest::Identity, AgentError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => AgentError::NotEnrolled {
                    path: path.to_owned(),
                },
                _ => AgentError::File {
                    path: path.to_owned(),
                    source,
                },
            })
        };
        let mut pem = read(&self.certificate)?;
        pem.push(b'\n');
        pem.extend_from_slice(&read(&self.key)?);
        reqwest::Identity::from_pem(&pem).map_err(AgentError::Identity)
    }
}

/// PBKDF2 iterations of the PKCS#12's encryption and MAC: a password from a file may be weak,
/// and importing happens once, so make guessing it from a copied file slow.
const PKCS12_ITERATIONS: u32 = 100_000;

/// The name the browser shows for the certificate.
const PKCS12_NAME: &str = "Hoshu lent device";

impl DeviceFiles {
    /// Writes `device.p12` (0600) from the stored certificate, key and CA, protected by
    /// `password`.
    pub fn write_pkcs12(&self, password: &str) -> Result<(), AgentError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => AgentError::NotEnrolled {
                    path: path.to_owned(),
                },
                _ => AgentError::File {
                    path: path.to_owned(),
                    source,
                },
            })
        };
        let der = pkcs12(
            &read(&self.certificate)?,
            &read(&self.key)?,
            &read(&self.ca)?,
            password,
        )?;
        write_file(&self.pkcs12, &der, true)
    }
}

/// A PKCS#12 of the device certificate and its key (PEM), the CA certificate (PEM) completing
/// the chain: PBES2 with PBKDF2-HMAC-SHA-256 and AES-256-CBC, MAC HMAC-SHA-256 (RFC 9579's
/// profile, what OpenSSL 3 writes by default).
pub fn pkcs12(
    certificate_pem: &[u8],
    key_pem: &[u8],
    ca_pem: &[u8],
    password: &str,
) -> Result<Vec<u8>, AgentError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};

    let certificate = |pem: &[u8], what: &str| {
        CertificateDer::from_pem_slice(pem)
            .map_err(|e| AgentError::BadPem(format!("{what}: {e}")))
            .and_then(|der| {
                p12_keystore::Certificate::from_der(&der)
                    .map_err(|e| AgentError::BadPem(format!("{what}: {e}")))
            })
    };
    let device = certificate(certificate_pem, "device certificate")?;
    let ca = certificate(ca_pem, "CA certificate")?;
    let key = PrivatePkcs8KeyDer::from_pem_slice(key_pem)
        .map_err(|e| AgentError::BadPem(format!("device key: {e}")))?;
    let key = p12_keystore::PrivateKey::from_der(key.secret_pkcs8_der())
        .map_err(|e| AgentError::BadPem(format!("device key: {e}")))?;
    // The local key id ties the key to its certificate (RFC 7292 §4.2): the certificate's
    // SHA-256, as unique as the certificate.
    let key_id = sha2::Sha256::digest(device.as_der()).to_vec();
    let chain = p12_keystore::PrivateKeyChain::new(key_id, key, [device, ca]);
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        PKCS12_NAME,
        p12_keystore::KeyStoreEntry::PrivateKeyChain(chain),
    );
    store
        .writer(password)
        .encryption_algorithm(p12_keystore::EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
        .encryption_iterations(PKCS12_ITERATIONS)
        .mac_algorithm(p12_keystore::MacAlgorithm::HmacSha256)
        .mac_iterations(PKCS12_ITERATIONS)
        .write()
        .map_err(|e| AgentError::Pkcs12(e.to_string()))
}

/// A password for the PKCS#12 to type once into an import dialog: 5 groups of 4 characters
/// from 32 that are hard to mistake for one another (100 bits).
pub fn new_pkcs12_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..5)
        .map(|_| {
            (0..4)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), AgentError> {
    let error = |source| AgentError::File {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    file.sync_all().map_err(error)
}

/// Sends one report over mTLS (the client must present the device's identity); the gateway's
/// verdict, `{"compliant", "reasons": [{"code", "message"}]}`.
pub async fn send_report(
    client: &reqwest::Client,
    gateway: &str,
    report: &PostureReport,
) -> Result<serde_json::Value, AgentError> {
    let response = client
        .post(endpoint(gateway, "/api/v1/devices/report"))
        .json(report)
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    response.json().await.map_err(|_| AgentError::BadAnswer)
}

/// What the gateway decides about this device now (mTLS): its lending, whether it admits its
/// holder, and the verdict on its last report with the reasons.
pub async fn status(
    client: &reqwest::Client,
    gateway: &str,
) -> Result<serde_json::Value, AgentError> {
    let response = client
        .get(endpoint(gateway, "/api/v1/devices/status"))
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    response.json().await.map_err(|_| AgentError::BadAnswer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_key_is_private_and_the_identity_loads() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["device".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let files = DeviceFiles::in_dir(&dir.path().join("state"));
        assert!(matches!(
            files.identity(),
            Err(AgentError::NotEnrolled { .. })
        ));
        files
            .store(&Enrolled {
                certificate_pem: cert.pem(),
                ca_pem: cert.pem(),
                key_pem: key.serialize_pem(),
            })
            .unwrap();
        let mode = std::fs::metadata(&files.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        files.identity().unwrap();
    }

    #[test]
    fn the_pkcs12_holds_the_key_with_its_chain_and_only_its_owner_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["PC-001".to_owned()])
            .unwrap()
            .signed_by(&key, &ca, &ca_key)
            .unwrap();
        let files = DeviceFiles::in_dir(dir.path());
        files
            .store(&Enrolled {
                certificate_pem: cert.pem(),
                ca_pem: ca.pem(),
                key_pem: key.serialize_pem(),
            })
            .unwrap();
        let password = new_pkcs12_password();
        assert_eq!(password.len(), 24);
        files.write_pkcs12(&password).unwrap();

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.pkcs12)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let der = std::fs::read(&files.pkcs12).unwrap();
        assert!(
            p12_keystore::KeyStore::from_pkcs12(&der, "wrong", Default::default()).is_err(),
            "the MAC refuses a wrong password"
        );
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(&der, &password).unwrap();
        assert_eq!(archive.keys.len(), 1);
        assert_eq!(archive.keys[0].key.as_der(), key.serialize_der());
        let certs: Vec<&[u8]> = archive.certs.iter().map(|b| b.cert.as_der()).collect();
        assert_eq!(certs, [cert.der().as_ref(), ca.der().as_ref()]);
        // The key and the device certificate are tied by one local key id.
        assert_eq!(
            archive.certs[0].local_key_id,
            archive.keys[0].local_key_id.as_ref().map(|id| id.0.clone()),
            "the key's certificate is marked"
        );
    }
}
