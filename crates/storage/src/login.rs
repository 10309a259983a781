//! Matrix challenges and browser sessions.

use hoshu_domain::UserId;
use hoshu_otp::Matrix;
use sqlx::Row;

use crate::{Result, StorageError, Store};

/// A matrix shown for one login attempt. `user` is `None` for an unknown login ID: the attempt
/// looks the same from outside and always fails.
#[derive(Debug, Clone, PartialEq)]
pub struct Challenge {
    pub id: String,
    pub user: Option<UserId>,
    pub login: String,
    pub matrix: Matrix,
    pub source: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A logged-in browser (or API client). Found by the SHA-256 of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSession {
    pub user: UserId,
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
    pub source: Option<String>,
}

/// One login attempt, from the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    pub at_ms: i64,
    pub source: Option<String>,
    pub success: bool,
}

impl Store {
    pub async fn put_challenge(&self, challenge: &Challenge) -> Result<()> {
        // Expired challenges are useless; drop them as new ones arrive so the table stays small.
        sqlx::query("DELETE FROM challenges WHERE expires_at < ?")
            .bind(challenge.created_at - 3600)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO challenges (id, user_id, login, matrix, source, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&challenge.id)
        .bind(challenge.user.map(|u| u.0))
        .bind(&challenge.login)
        .bind(challenge.matrix.digits())
        .bind(&challenge.source)
        .bind(challenge.created_at)
        .bind(challenge.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks the challenge used and returns it — once. Any answer, right or wrong, uses it up
    /// (DESIGN §4); expiry is the caller's check, since an expired challenge is used up as well.
    pub async fn take_challenge(&self, id: &str, now: i64) -> Result<Option<Challenge>> {
        let row = sqlx::query(
            "UPDATE challenges SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL \
             RETURNING id, user_id, login, matrix, source, created_at, expires_at",
        )
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let matrix: String = row.try_get("matrix")?;
        Ok(Some(Challenge {
            id: row.try_get("id")?,
            user: row.try_get::<Option<i64>, _>("user_id")?.map(UserId),
            login: row.try_get("login")?,
            matrix: Matrix::from_digits(&matrix)
                .map_err(|e| StorageError::Corrupt(format!("stored matrix: {e}")))?,
            source: row.try_get("source")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    pub async fn create_session(
        &self,
        token_hash: &[u8; 32],
        session: &BrowserSession,
        user_agent: Option<&str>,
    ) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at < ?")
            .bind(session.created_at)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen, expires_at, source, user_agent) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&token_hash[..])
        .bind(session.user.0)
        .bind(session.created_at)
        .bind(session.last_seen)
        .bind(session.expires_at)
        .bind(&session.source)
        .bind(user_agent)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &[u8; 32]) -> Result<Option<BrowserSession>> {
        let row = sqlx::query(
            "SELECT user_id, created_at, last_seen, expires_at, source FROM sessions WHERE token_hash = ?",
        )
        .bind(&token_hash[..])
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(BrowserSession {
                user: UserId(row.try_get("user_id")?),
                created_at: row.try_get("created_at")?,
                last_seen: row.try_get("last_seen")?,
                expires_at: row.try_get("expires_at")?,
                source: row.try_get("source")?,
            })
        })
        .transpose()
    }

    pub async fn touch_session(&self, token_hash: &[u8; 32], now: i64) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen = ? WHERE token_hash = ?")
            .bind(now)
            .bind(&token_hash[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn end_session(&self, token_hash: &[u8; 32]) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(&token_hash[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The latest login attempts for a login ID, newest first, read from the audit log.
    pub async fn recent_logins(&self, login: &str, limit: u32) -> Result<Vec<LoginRecord>> {
        let rows = sqlx::query(
            "SELECT at_ms, source, kind FROM audit_events WHERE subject = ? \
             AND kind IN ('login.success', 'login.failure', 'login.refused_locked') \
             ORDER BY seq DESC LIMIT ?",
        )
        .bind(login)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                Ok(LoginRecord {
                    at_ms: row.try_get("at_ms")?,
                    source: row.try_get("source")?,
                    success: kind == "login.success",
                })
            })
            .collect()
    }
}
