//! The device CA (DESIGN §6): made with rcgen on first use, its key sealed in the store; issues
//! client certificates for enrolled devices from their CSRs.

use hoshu_storage::{DeviceCa, Store};
use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// A CSR larger than this is not one an agent made; refused before parsing.
pub const MAX_CSR_PEM: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum DeviceCaError {
    #[error("the certificate signing request is not a valid PEM CSR with a correct signature")]
    BadCsr,
    #[error("the certificate signing request is larger than {MAX_CSR_PEM} bytes")]
    CsrTooLarge,
    #[error("the stored device CA key cannot be used: {0}")]
    BadCaKey(rcgen::Error),
    #[error("cannot make the device CA: {0}")]
    Generate(rcgen::Error),
    #[error("cannot sign the device certificate: {0}")]
    Sign(rcgen::Error),
    #[error(transparent)]
    Storage(#[from] hoshu_storage::StorageError),
}

/// A certificate issued to a device.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Lowercase hex of the serial's bytes, as stored and as looked up from a peer certificate.
    pub serial: String,
    pub pem: String,
}

/// The CA's distinguished name and extensions. Built the same way for the stored certificate and
/// for signing, so the issuer name and key identifier of every device certificate match the
/// CA certificate clients and the TLS verifier hold.
fn ca_params(not_before: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "Hoshu");
    name.push(DnType::CommonName, "Hoshu device CA");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = not_before;
    // Longer than any lending period; the CA is replaced by making a new data directory.
    params.not_after = not_before + Duration::days(365 * 20);
    params
}

/// The device CA, made and stored on first use.
pub async fn load_or_create(store: &Store) -> Result<DeviceCa, DeviceCaError> {
    if let Some(ca) = store.device_ca().await? {
        return Ok(ca);
    }
    let key = KeyPair::generate().map_err(DeviceCaError::Generate)?;
    let now = OffsetDateTime::now_utc();
    let certificate = ca_params(now - Duration::days(1))
        .self_signed(&key)
        .map_err(DeviceCaError::Generate)?;
    let made = DeviceCa {
        certificate_pem: certificate.pem(),
        key_pem: key.serialize_pem(),
    };
    // Another process may have stored one meanwhile; the first one stays.
    let ca = store.install_device_ca(&made, now.unix_timestamp()).await?;
    tracing::info!("Device CA created");
    Ok(ca)
}

/// Issues a client certificate for the key in `csr_pem` (its signature proves the device holds
/// the key), with CN = the asset tag, valid from `not_before` until `not_after`. Nothing else
/// the CSR asks for is taken over: names and usages are the gateway's to decide.
pub fn issue(
    ca: &DeviceCa,
    csr_pem: &str,
    asset_tag: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Issued, DeviceCaError> {
    if csr_pem.len() > MAX_CSR_PEM {
        return Err(DeviceCaError::CsrTooLarge);
    }
    let csr =
        CertificateSigningRequestParams::from_pem(csr_pem).map_err(|_| DeviceCaError::BadCsr)?;
    let ca_key = KeyPair::from_pem(&ca.key_pem).map_err(DeviceCaError::BadCaKey)?;
    let issuer = ca_params(not_before)
        .self_signed(&ca_key)
        .map_err(DeviceCaError::BadCaKey)?;

    let mut serial = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut serial);
    // RFC 5280 §4.1.2.2: a positive integer; a clear top bit keeps DER from padding it, so the
    // stored hex equals what a parser of the certificate reads back.
    serial[0] &= 0x7f;
    serial[0] |= 0x01;

    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, asset_tag);
    params.distinguished_name = name;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = not_before;
    params.not_after = not_after;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let request = CertificateSigningRequestParams {
        params,
        public_key: csr.public_key,
    };
    let certificate = request
        .signed_by(&issuer, &ca_key)
        .map_err(DeviceCaError::Sign)?;
    Ok(Issued {
        serial: hex::encode(serial),
        pem: certificate.pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_ca() -> DeviceCa {
        let key = KeyPair::generate().unwrap();
        let cert = ca_params(OffsetDateTime::now_utc())
            .self_signed(&key)
            .unwrap();
        DeviceCa {
            certificate_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    #[test]
    fn a_csr_becomes_a_client_certificate_named_after_the_asset_tag() {
        let ca = test_ca();
        let device_key = KeyPair::generate().unwrap();
        let csr = CertificateParams::default()
            .serialize_request(&device_key)
            .unwrap()
            .pem()
            .unwrap();
        let now = OffsetDateTime::now_utc();
        let issued = issue(&ca, &csr, "PC-001", now, now + Duration::days(30)).unwrap();
        assert_eq!(issued.serial.len(), 32);
        let parsed = CertificateParams::from_ca_cert_pem(&issued.pem).unwrap();
        assert_eq!(
            parsed.serial_number.unwrap().to_bytes(),
            hex::decode(&issued.serial).unwrap()
        );
    }

    #[test]
    fn garbage_and_oversized_csrs_are_refused() {
        let ca = test_ca();
        let now = OffsetDateTime::now_utc();
        assert!(matches!(
            issue(&ca, "not a csr", "PC", now, now),
            Err(DeviceCaError::BadCsr)
        ));
        let big = "A".repeat(MAX_CSR_PEM + 1);
        assert!(matches!(
            issue(&ca, &big, "PC", now, now),
            Err(DeviceCaError::CsrTooLarge)
        ));
    }
}
