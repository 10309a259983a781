//! Lent devices (DESIGN §6): the device CA's sealed key, the registry, one-time enrolment
//! codes and the last posture report of each device.

use hoshu_domain::{PolicyOverride, UserId, VendorId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Result, StorageError, Store};

/// The device CA as stored: its certificate and (opened) private key, both PEM.
#[derive(Clone)]
pub struct DeviceCa {
    pub certificate_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for DeviceCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCa")
            .field("certificate_pem", &self.certificate_pem)
            .field("key_pem", &"***")
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceId(pub i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub asset_tag: String,
    pub user: UserId,
    pub user_login: String,
    /// The holder's company, when the holder is a vendor user.
    pub vendor: Option<String>,
    /// The holder's company's own posture rules (see [`Store::set_vendor_posture`]).
    pub vendor_policy: Option<PolicyOverride>,
    /// Lending period, Unix seconds; the certificate is valid until `lent_until`.
    pub lent_from: i64,
    pub lent_until: i64,
    /// Hardware fingerprint sent at enrolment (64 hex digits).
    pub fingerprint: Option<String>,
    /// Serial of the issued client certificate, lowercase hex without separators.
    pub cert_serial: Option<String>,
    pub cert_pem: Option<String>,
    pub enrolled_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The last posture report as received (JSON), when and whether it was compliant.
    pub last_report: Option<String>,
    pub last_report_at: Option<i64>,
    pub compliant: Option<bool>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewDevice<'a> {
    pub asset_tag: &'a str,
    pub user: UserId,
    pub lent_from: i64,
    pub lent_until: i64,
}

const DEVICE_COLUMNS: &str = "d.id, d.asset_tag, d.user_id, u.login AS user_login, v.name AS vendor, \
     v.posture_policy AS vendor_policy, d.lent_from, d.lent_until, d.fingerprint, d.cert_serial, d.cert_pem, d.enrolled_at, \
     d.revoked_at, d.last_report, d.last_report_at, d.compliant, d.created_at \
     FROM devices d JOIN users u ON u.id = d.user_id LEFT JOIN vendors v ON v.id = u.vendor_id";

fn device_from_row(row: &SqliteRow) -> Result<Device> {
    Ok(Device {
        id: DeviceId(row.try_get("id")?),
        asset_tag: row.try_get("asset_tag")?,
        user: UserId(row.try_get("user_id")?),
        user_login: row.try_get("user_login")?,
        vendor: row.try_get("vendor")?,
        vendor_policy: crate::vendors::parse_policy(row.try_get("vendor_policy")?)?,
        lent_from: row.try_get("lent_from")?,
        lent_until: row.try_get("lent_until")?,
        fingerprint: row.try_get("fingerprint")?,
        cert_serial: row.try_get("cert_serial")?,
        cert_pem: row.try_get("cert_pem")?,
        enrolled_at: row.try_get("enrolled_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_report: row.try_get("last_report")?,
        last_report_at: row.try_get("last_report_at")?,
        compliant: row.try_get("compliant")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Associated data of the sealed CA key: a sealed value moved to another row does not open.
const DEVICE_CA_AAD: &[u8] = b"hoshu-device-ca-v1";

impl Store {
    /// The device CA, when one was made.
    pub async fn device_ca(&self) -> Result<Option<DeviceCa>> {
        let row = sqlx::query("SELECT certificate_pem, sealed_key FROM device_ca WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let sealed: Vec<u8> = row.try_get("sealed_key")?;
        let key = self
            .key
            .open(&sealed, DEVICE_CA_AAD)
            .ok_or(StorageError::DecryptDeviceCa)?;
        let key_pem = String::from_utf8(key)
            .map_err(|_| StorageError::Corrupt("device CA key is not UTF-8 PEM".to_owned()))?;
        Ok(Some(DeviceCa {
            certificate_pem: row.try_get("certificate_pem")?,
            key_pem,
        }))
    }

    /// Stores a newly made CA unless another process stored one first; returns the CA in
    /// force either way, so two first uses at once agree on one CA.
    pub async fn install_device_ca(&self, ca: &DeviceCa, now: i64) -> Result<DeviceCa> {
        let sealed = self.key.seal(ca.key_pem.as_bytes(), DEVICE_CA_AAD);
        sqlx::query(
            "INSERT INTO device_ca (id, certificate_pem, sealed_key, created_at) VALUES (1, ?, ?, ?) \
             ON CONFLICT(id) DO NOTHING",
        )
        .bind(&ca.certificate_pem)
        .bind(sealed)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.device_ca()
            .await?
            .ok_or_else(|| StorageError::Corrupt("device CA vanished after insert".to_owned()))
    }

    /// Registers a device and its one-time enrolment code (only the hash is kept).
    pub async fn add_device(
        &self,
        new: &NewDevice<'_>,
        code_hash: &[u8; 32],
        code_expires_at: i64,
        now: i64,
    ) -> Result<DeviceId> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO devices (asset_tag, user_id, lent_from, lent_until, created_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT(asset_tag) DO NOTHING RETURNING id",
        )
        .bind(new.asset_tag)
        .bind(new.user.0)
        .bind(new.lent_from)
        .bind(new.lent_until)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = inserted else {
            return Err(StorageError::AssetTagTaken(new.asset_tag.to_owned()));
        };
        sqlx::query(
            "INSERT INTO device_enrolment_codes (code_hash, device_id, expires_at) VALUES (?, ?, ?)",
        )
        .bind(&code_hash[..])
        .bind(id)
        .bind(code_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(DeviceId(id))
    }

    pub async fn devices(&self) -> Result<Vec<Device>> {
        let rows = sqlx::query(&format!("SELECT {DEVICE_COLUMNS} ORDER BY d.asset_tag"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(device_from_row).collect()
    }

    /// The devices assigned to a user (for the access decision).
    pub async fn devices_of_user(&self, user: UserId) -> Result<Vec<Device>> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} WHERE d.user_id = ? ORDER BY d.asset_tag"
        ))
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(device_from_row).collect()
    }

    /// The devices lent to a vendor's users, revoked ones included (the vendor page lists
    /// them all).
    pub async fn vendor_devices(&self, vendor: VendorId) -> Result<Vec<Device>> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} WHERE u.vendor_id = ? ORDER BY d.asset_tag"
        ))
        .bind(vendor.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(device_from_row).collect()
    }

    pub async fn device_by_tag(&self, asset_tag: &str) -> Result<Option<Device>> {
        let row = sqlx::query(&format!("SELECT {DEVICE_COLUMNS} WHERE d.asset_tag = ?"))
            .bind(asset_tag)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(device_from_row).transpose()
    }

    /// The device a client certificate was issued to, by its serial.
    pub async fn device_by_serial(&self, serial: &str) -> Result<Option<Device>> {
        let row = sqlx::query(&format!("SELECT {DEVICE_COLUMNS} WHERE d.cert_serial = ?"))
            .bind(serial)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(device_from_row).transpose()
    }

    /// The device a still-usable enrolment code belongs to, without using it up (the gateway
    /// issues the certificate in between, then [`Store::complete_enrolment`]).
    pub async fn enrolment_code_device(
        &self,
        code_hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<Device>> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} JOIN device_enrolment_codes c ON c.device_id = d.id \
             WHERE c.code_hash = ? AND c.used_at IS NULL AND c.expires_at > ? \
             AND d.revoked_at IS NULL"
        ))
        .bind(&code_hash[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(device_from_row).transpose()
    }

    /// Uses up the enrolment code and stores the certificate, in one transaction. `false` when
    /// the code was used (or expired) meanwhile: nothing is stored then.
    pub async fn complete_enrolment(
        &self,
        code_hash: &[u8; 32],
        device: DeviceId,
        fingerprint: &str,
        cert_serial: &str,
        cert_pem: &str,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let used: Option<i64> = sqlx::query_scalar(
            "UPDATE device_enrolment_codes SET used_at = ? \
             WHERE code_hash = ? AND device_id = ? AND used_at IS NULL AND expires_at > ? \
             RETURNING device_id",
        )
        .bind(now)
        .bind(&code_hash[..])
        .bind(device.0)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if used.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE devices SET fingerprint = ?, cert_serial = ?, cert_pem = ?, enrolled_at = ?, \
             last_report = NULL, last_report_at = NULL, compliant = NULL WHERE id = ?",
        )
        .bind(fingerprint)
        .bind(cert_serial)
        .bind(cert_pem)
        .bind(now)
        .bind(device.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Revokes a device (lost or returned): its certificate stops working at once and its
    /// unused enrolment code is dropped. `false` when it was already revoked.
    pub async fn revoke_device(&self, device: DeviceId, now: i64) -> Result<bool> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let changed =
            sqlx::query("UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(now)
                .bind(device.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        sqlx::query("DELETE FROM device_enrolment_codes WHERE device_id = ? AND used_at IS NULL")
            .bind(device.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(changed > 0)
    }

    /// Stores a posture report (as received) with its evaluation.
    pub async fn record_posture_report(
        &self,
        device: DeviceId,
        report_json: &str,
        compliant: bool,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("UPDATE devices SET last_report = ?, last_report_at = ? WHERE id = ?")
            .bind(report_json)
            .bind(now)
            .bind(device.0)
            .execute(&mut *tx)
            .await?;
        // Only a change of compliance touches the row's `compliant`: its trigger re-checks
        // every live session, which a report a minute per device must not do.
        sqlx::query("UPDATE devices SET compliant = ? WHERE id = ? AND compliant IS NOT ?")
            .bind(compliant)
            .bind(device.0)
            .bind(compliant)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewUser;
    use hoshu_domain::Role;

    async fn store_with_user() -> (tempfile::TempDir, Store, UserId) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let user = store
            .create_user(
                &NewUser {
                    login: "v1",
                    name: "Vendor One",
                    role: Role::Vendor,
                    vendor: Some("ACME"),
                },
                0,
            )
            .await
            .unwrap();
        (dir, store, user)
    }

    #[tokio::test]
    async fn an_enrolment_code_works_once() {
        let (_dir, store, user) = store_with_user().await;
        let new = NewDevice {
            asset_tag: "PC-001",
            user,
            lent_from: 0,
            lent_until: 1000,
        };
        let id = store.add_device(&new, &[7; 32], 100, 10).await.unwrap();
        assert!(matches!(
            store.add_device(&new, &[8; 32], 100, 10).await,
            Err(StorageError::AssetTagTaken(_))
        ));
        let device = store.enrolment_code_device(&[7; 32], 20).await.unwrap();
        assert_eq!(device.as_ref().map(|d| d.id), Some(id));
        assert_eq!(device.and_then(|d| d.vendor).as_deref(), Some("ACME"));
        let fp = "ab".repeat(32);
        assert!(
            store
                .complete_enrolment(&[7; 32], id, &fp, "01", "PEM", 21)
                .await
                .unwrap()
        );
        assert!(
            !store
                .complete_enrolment(&[7; 32], id, &fp, "02", "PEM", 22)
                .await
                .unwrap()
        );
        assert!(
            store
                .enrolment_code_device(&[7; 32], 23)
                .await
                .unwrap()
                .is_none()
        );
        let device = store.device_by_serial("01").await.unwrap().unwrap();
        assert_eq!(device.fingerprint.as_deref(), Some(fp.as_str()));
        assert!(store.revoke_device(id, 30).await.unwrap());
        assert!(!store.revoke_device(id, 31).await.unwrap());
    }

    #[tokio::test]
    async fn the_ca_key_is_sealed_and_the_first_ca_stays() {
        let (_dir, store, _) = store_with_user().await;
        assert!(store.device_ca().await.unwrap().is_none());
        let first = DeviceCa {
            certificate_pem: "CERT1".to_owned(),
            key_pem: "KEY1".to_owned(),
        };
        let second = DeviceCa {
            certificate_pem: "CERT2".to_owned(),
            key_pem: "KEY2".to_owned(),
        };
        store.install_device_ca(&first, 1).await.unwrap();
        let kept = store.install_device_ca(&second, 2).await.unwrap();
        assert_eq!(kept.key_pem, "KEY1");
        let raw: Vec<u8> = sqlx::query_scalar("SELECT sealed_key FROM device_ca")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(!raw.windows(4).any(|w| w == b"KEY1"));
    }
}
