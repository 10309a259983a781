//! The only crate that knows SQL. Callers ask [`Store`] for what they need in domain terms.
//!
//! Today the backend is SQLite (WAL, busy timeout, embedded migrations). A PostgreSQL backend is
//! added by giving `Store` a private backend enum and a second migrations folder
//! (`migrations/postgres`); the public methods and types stay as they are, so callers do not change.
#![forbid(unsafe_code)]

mod access;
mod audit;
mod devices;
mod key;
mod login;
mod targets;
mod users;
mod vendors;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use access::{Lock, Notification, WorkRequest, WorkRequestState};
pub use audit::{AuditFilter, AuditVerification};
pub use devices::{Device, DeviceCa, DeviceId, NewDevice};
pub use key::ServerKey;
pub use login::{BrowserSession, Challenge, LoginRecord};
pub use targets::{NewTarget, RemoteSession, SessionCommand, Target};
pub use users::{NewUser, User};
pub use vendors::{ApplicationEvent, Contract, Document, NewContract, NewDocument, System, Vendor};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "cannot create data directory {path}: {source}; check that the parent exists and is writable"
    )]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read or write the server key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "server key file {path} must hold exactly 32 bytes; restore it from backup (credentials cannot be read without it)"
    )]
    KeyFileLength { path: PathBuf },
    #[error(
        "the stored credential of user {0} cannot be decrypted with this server key; restore the key file or reset the user"
    )]
    Decrypt(i64),
    #[error("the stored credential of user {0} is malformed; reset the user")]
    CorruptCredential(i64),
    #[error("a user with login ID {0:?} already exists; choose another login ID")]
    LoginTaken(String),
    #[error("a target named {0:?} already exists; choose another name or remove it first")]
    NameTaken(String),
    #[error(
        "the stored password or private key of target {0} cannot be decrypted with this server key; restore the key file or add the target again"
    )]
    DecryptTarget(i64),
    #[error("a vendor named {0:?} already exists; choose another name")]
    VendorTaken(String),
    #[error("no vendor is named {0:?}; `hoshu admin vendor list` shows them")]
    NoSuchVendor(String),
    #[error("no business system is named {0:?}; add it first with `hoshu admin system add`")]
    NoSuchSystem(String),
    #[error("no user has login ID {0:?}; `hoshu admin user list` shows them")]
    NoSuchUser(String),
    #[error("a device with asset tag {0:?} is already registered; revoke it or choose another tag")]
    AssetTagTaken(String),
    #[error(
        "the device CA key cannot be decrypted with this server key; restore the key file (devices must enrol again otherwise)"
    )]
    DecryptDeviceCa,
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
    #[error("cannot write the audit head file {path}: {source}")]
    AuditHead {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Handle on Hoshu's persistent state. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    key: ServerKey,
    /// A copy of the last audit hash outside the database, so truncating the tail of the chain
    /// is noticed too (DESIGN §7).
    audit_head: PathBuf,
}

impl Store {
    /// Opens (creating when missing) the data directory: `hoshu.db`, `server.key`, `audit.head`.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|source| StorageError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let key = ServerKey::load_or_create(&data_dir.join("server.key"))?;
        let db_path = data_dir.join("hoshu.db");
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&db_path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // The admin CLI writes while the gateway runs; wait for the other writer, do not fail.
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Store {
            pool,
            key,
            audit_head: data_dir.join("audit.head"),
        })
    }

    /// The pool, for this crate's tests that tamper with rows.
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Current Unix time in seconds and milliseconds; the only clock reads in this crate are for
/// audit timestamps.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
