//! Users, vendors and matrix credentials.

use hoshu_domain::{LoginChannel, LoginState, Role, UserId};
use hoshu_otp::{FixedHash, Secret};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Result, StorageError, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub login: String,
    pub name: String,
    pub role: Role,
    pub vendor: Option<String>,
    /// Locked by an administrator until unlocked by one.
    pub admin_locked: bool,
    /// A demo user may open demo targets only, until this Unix time (seed §6).
    pub demo_until: Option<i64>,
    /// A vendor user who manages the company's account (sees its sessions and recordings).
    pub vendor_manager: bool,
    /// Failed answers without the user's own device certificate.
    pub login_state: LoginState,
    /// Failed answers from a connection presenting the user's own lent device's certificate.
    pub device_login_state: LoginState,
    /// Whether a pattern is registered (a user without one can only register).
    pub registered: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub vendor: Option<&'a str>,
}

const USER_COLUMNS: &str = "u.id, u.login, u.name, u.role, v.name AS vendor, u.admin_locked, \
     u.consecutive_failures, u.lockouts, u.locked_until, u.device_failures, u.device_lockouts, \
     u.device_locked_until, u.demo_until, u.vendor_manager, u.created_at, \
     EXISTS (SELECT 1 FROM credentials c WHERE c.user_id = u.id) AS registered \
     FROM users u LEFT JOIN vendors v ON v.id = u.vendor_id";

fn user_from_row(row: &SqliteRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: UserId(row.try_get("id")?),
        login: row.try_get("login")?,
        name: row.try_get("name")?,
        role: role
            .parse()
            .map_err(|e| StorageError::Corrupt(format!("{e}")))?,
        vendor: row.try_get("vendor")?,
        admin_locked: row.try_get("admin_locked")?,
        demo_until: row.try_get("demo_until")?,
        vendor_manager: row.try_get("vendor_manager")?,
        login_state: LoginState {
            consecutive_failures: row.try_get("consecutive_failures")?,
            lockouts: row.try_get("lockouts")?,
            locked_until: row.try_get("locked_until")?,
        },
        device_login_state: LoginState {
            consecutive_failures: row.try_get("device_failures")?,
            lockouts: row.try_get("device_lockouts")?,
            locked_until: row.try_get("device_locked_until")?,
        },
        registered: row.try_get("registered")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Associated data for a user's sealed credential.
fn credential_aad(user: UserId) -> Vec<u8> {
    format!("hoshu-credential-v1:user:{}", user.0).into_bytes()
}

impl Store {
    /// Adds a user (and their vendor, when new). Fails when the login ID is taken.
    pub async fn create_user(&self, new: &NewUser<'_>, now: i64) -> Result<UserId> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let vendor_id: Option<i64> = match new.vendor {
            Some(name) => {
                sqlx::query("INSERT INTO vendors (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING")
                    .bind(name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                Some(
                    sqlx::query_scalar("SELECT id FROM vendors WHERE name = ?")
                        .bind(name)
                        .fetch_one(&mut *tx)
                        .await?,
                )
            }
            None => None,
        };
        let inserted = sqlx::query(
            "INSERT INTO users (login, name, role, vendor_id, created_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT(login) DO NOTHING RETURNING id",
        )
        .bind(new.login)
        .bind(new.name)
        .bind(new.role.as_str())
        .bind(vendor_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = inserted else {
            return Err(StorageError::LoginTaken(new.login.to_owned()));
        };
        let id = UserId(row.try_get("id")?);
        tx.commit().await?;
        Ok(id)
    }

    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} WHERE u.login = ?"))
            .bind(login)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Like [`Store::user_by_login`], but a missing user is an error naming the login ID.
    pub async fn existing_user(&self, login: &str) -> Result<User> {
        self.user_by_login(login)
            .await?
            .ok_or_else(|| StorageError::NoSuchUser(login.to_owned()))
    }

    pub async fn user(&self, id: UserId) -> Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} WHERE u.id = ?"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} ORDER BY u.login"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Makes a vendor user their company's manager, or not.
    pub async fn set_vendor_manager(&self, id: UserId, manager: bool) -> Result<()> {
        sqlx::query("UPDATE users SET vendor_manager = ? WHERE id = ? AND role = 'vendor'")
            .bind(manager)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores the user's standing after a failed answer on `channel`.
    pub async fn set_login_state(
        &self,
        id: UserId,
        channel: LoginChannel,
        state: LoginState,
    ) -> Result<()> {
        let sql = match channel {
            LoginChannel::Anywhere => {
                "UPDATE users SET consecutive_failures = ?, lockouts = ?, locked_until = ? WHERE id = ?"
            }
            LoginChannel::OwnDevice => {
                "UPDATE users SET device_failures = ?, device_lockouts = ?, device_locked_until = ? \
                 WHERE id = ?"
            }
        };
        sqlx::query(sql)
            .bind(state.consecutive_failures)
            .bind(state.lockouts)
            .bind(state.locked_until)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An administrator's lock: indefinite, and every browser session of the user ends.
    pub async fn lock_user(&self, id: UserId) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("UPDATE users SET admin_locked = 1 WHERE id = ?")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Clears both an administrator's lock and a lock-out after failures.
    pub async fn unlock_user(&self, id: UserId) -> Result<()> {
        sqlx::query(
            "UPDATE users SET admin_locked = 0, consecutive_failures = 0, lockouts = 0, \
             locked_until = NULL, device_failures = 0, device_lockouts = 0, \
             device_locked_until = NULL WHERE id = ?",
        )
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the user's pattern and ends their sessions; the caller issues a new code.
    pub async fn reset_credential(&self, id: UserId) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for statement in [
            "DELETE FROM credentials WHERE user_id = ?",
            "DELETE FROM sessions WHERE user_id = ?",
            "UPDATE users SET consecutive_failures = 0, lockouts = 0, locked_until = NULL, \
             device_failures = 0, device_lockouts = 0, device_locked_until = NULL WHERE id = ?",
        ] {
            sqlx::query(statement).bind(id.0).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The user's pattern (decrypted) and fixed-password hash, when registered.
    pub async fn credential(&self, id: UserId) -> Result<Option<(Secret, FixedHash)>> {
        let row = sqlx::query("SELECT sealed, fixed_hash FROM credentials WHERE user_id = ?")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Vec<u8> = row.try_get("sealed")?;
        let fixed_hash: String = row.try_get("fixed_hash")?;
        let plain = self
            .key
            .open(&sealed, &credential_aad(id))
            .ok_or(StorageError::Decrypt(id.0))?;
        let secret =
            Secret::from_bytes(&plain).map_err(|_| StorageError::CorruptCredential(id.0))?;
        let hash =
            FixedHash::from_phc(fixed_hash).map_err(|_| StorageError::CorruptCredential(id.0))?;
        Ok(Some((secret, hash)))
    }

    /// Stores a registration code (only its hash) for `user`, replacing any earlier one.
    pub async fn issue_registration_code(
        &self,
        user: UserId,
        code_hash: &[u8; 32],
        expires_at: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM registration_codes WHERE user_id = ?")
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO registration_codes (code_hash, user_id, expires_at) VALUES (?, ?, ?)",
        )
        .bind(&code_hash[..])
        .bind(user.0)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user a still-usable registration code belongs to, without using it up.
    pub async fn registration_code_owner(
        &self,
        code_hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<User>> {
        let user_id: Option<i64> = sqlx::query_scalar(
            "SELECT user_id FROM registration_codes WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
        )
        .bind(&code_hash[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match user_id {
            Some(id) => self.user(UserId(id)).await,
            None => Ok(None),
        }
    }

    /// Uses up the registration code and stores the credential, in one transaction. `None` when
    /// the code is unknown, used or expired (nothing is stored then).
    pub async fn register(
        &self,
        code_hash: &[u8; 32],
        now: i64,
        secret: &Secret,
        fixed_hash: &FixedHash,
    ) -> Result<Option<User>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let user_id: Option<i64> = sqlx::query_scalar(
            "UPDATE registration_codes SET used_at = ? \
             WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id",
        )
        .bind(now)
        .bind(&code_hash[..])
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user_id) = user_id else {
            return Ok(None);
        };
        let id = UserId(user_id);
        let sealed = self.key.seal(&secret.to_bytes(), &credential_aad(id));
        sqlx::query(
            "INSERT INTO credentials (user_id, sealed, fixed_hash, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT(user_id) DO UPDATE SET sealed = excluded.sealed, \
             fixed_hash = excluded.fixed_hash, created_at = excluded.created_at",
        )
        .bind(id.0)
        .bind(sealed)
        .bind(fixed_hash.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // A new pattern starts with a clean slate.
        sqlx::query(
            "UPDATE users SET consecutive_failures = 0, lockouts = 0, locked_until = NULL, \
             device_failures = 0, device_lockouts = 0, device_locked_until = NULL WHERE id = ?",
        )
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.user(id).await
    }
}
