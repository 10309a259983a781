//! Targets and the remote sessions opened on them.

use hoshu_domain::{ClipboardPolicy, Protocol, TargetId, UserId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Result, StorageError, Store};

/// A target as everyone but the session engine sees it: no password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: TargetId,
    pub name: String,
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub has_password: bool,
    /// SSH: a private key is stored for the target.
    pub has_private_key: bool,
    /// The pinned server identity: SSH, the host key as an OpenSSH public-key line; RDP, the
    /// server certificate's `SHA256:` fingerprint.
    pub host_key: Option<String>,
    pub system: Option<String>,
    pub clipboard: ClipboardPolicy,
    pub standing_access: bool,
    /// A target for demo users (no production data behind it).
    pub demo: bool,
    pub idle_timeout_secs: i64,
    pub max_duration_secs: i64,
    /// RDP: the keyboard layout the server is told (`us`, `jis`).
    pub keyboard: String,
    /// RDP: the security the gateway accepts (`any`, `tls`, `nla`).
    pub rdp_security: String,
}

#[derive(Clone)]
pub struct NewTarget<'a> {
    pub name: &'a str,
    pub protocol: Protocol,
    pub host: &'a str,
    pub port: u16,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    /// SSH: a private key (OpenSSH or PEM text), sealed like the password.
    pub private_key: Option<&'a str>,
    /// The server identity to pin (see [`Target::host_key`]).
    pub host_key: Option<&'a str>,
    pub system: Option<&'a str>,
    pub clipboard: ClipboardPolicy,
    pub standing_access: bool,
    pub demo: bool,
    pub idle_timeout_secs: i64,
    pub max_duration_secs: i64,
    /// RDP: `us` or `jis`.
    pub keyboard: &'a str,
    /// RDP: `any`, `tls` or `nla`.
    pub rdp_security: &'a str,
}

impl std::fmt::Debug for NewTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewTarget")
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("password", &self.password.map(|_| "***"))
            .field("private_key", &self.private_key.map(|_| "***"))
            .field("host_key", &self.host_key)
            .finish_non_exhaustive()
    }
}

/// A remote session as listed (DESIGN §8 session list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSession {
    pub id: String,
    pub user_id: UserId,
    pub user_login: String,
    /// The user's vendor, for the vendor manager's view.
    pub vendor: Option<String>,
    pub target: String,
    pub protocol: String,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub outcome: Option<String>,
    pub bytes_to_browser: i64,
    pub recording: Option<String>,
    pub recording_sha256: Option<String>,
}

fn target_aad(id: TargetId) -> Vec<u8> {
    format!("hoshu-target-password-v1:target:{}", id.0).into_bytes()
}

/// A different label than the password's, so one sealed secret cannot stand in for the other.
fn private_key_aad(id: TargetId) -> Vec<u8> {
    format!("hoshu-target-private-key-v1:target:{}", id.0).into_bytes()
}

/// One recorded command of an SSH session (DESIGN §7 command log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCommand {
    pub at_ms: i64,
    pub command: String,
}

const TARGET_COLUMNS: &str = "id, name, protocol, host, port, username, sealed_password IS NOT NULL AS has_password, \
     sealed_private_key IS NOT NULL AS has_private_key, host_key, system, clipboard, standing_access, demo, \
     idle_timeout_secs, max_duration_secs, keyboard, rdp_security FROM targets";

fn target_from_row(row: &SqliteRow) -> Result<Target> {
    let protocol: String = row.try_get("protocol")?;
    let clipboard: String = row.try_get("clipboard")?;
    let port: i64 = row.try_get("port")?;
    Ok(Target {
        id: TargetId(row.try_get("id")?),
        name: row.try_get("name")?,
        protocol: protocol
            .parse()
            .map_err(|e| StorageError::Corrupt(format!("{e}")))?,
        host: row.try_get("host")?,
        port: u16::try_from(port)
            .map_err(|_| StorageError::Corrupt(format!("target port {port}")))?,
        username: row.try_get("username")?,
        has_password: row.try_get("has_password")?,
        has_private_key: row.try_get("has_private_key")?,
        host_key: row.try_get("host_key")?,
        system: row.try_get("system")?,
        clipboard: clipboard
            .parse()
            .map_err(|e| StorageError::Corrupt(format!("{e}")))?,
        standing_access: row.try_get("standing_access")?,
        demo: row.try_get("demo")?,
        idle_timeout_secs: row.try_get("idle_timeout_secs")?,
        max_duration_secs: row.try_get("max_duration_secs")?,
        keyboard: row.try_get("keyboard")?,
        rdp_security: row.try_get("rdp_security")?,
    })
}

const SESSION_COLUMNS: &str = "s.id, s.user_id, u.login AS user_login, v.name AS vendor, s.target_name, \
     s.protocol, s.started_at_ms, s.ended_at_ms, s.outcome, s.bytes_to_browser, s.recording, \
     s.recording_sha256 FROM remote_sessions s JOIN users u ON u.id = s.user_id \
     LEFT JOIN vendors v ON v.id = u.vendor_id";

fn session_from_row(row: &SqliteRow) -> Result<RemoteSession> {
    Ok(RemoteSession {
        id: row.try_get("id")?,
        user_id: UserId(row.try_get("user_id")?),
        user_login: row.try_get("user_login")?,
        vendor: row.try_get("vendor")?,
        target: row.try_get("target_name")?,
        protocol: row.try_get("protocol")?,
        started_at_ms: row.try_get("started_at_ms")?,
        ended_at_ms: row.try_get("ended_at_ms")?,
        outcome: row.try_get("outcome")?,
        bytes_to_browser: row.try_get("bytes_to_browser")?,
        recording: row.try_get("recording")?,
        recording_sha256: row.try_get("recording_sha256")?,
    })
}

impl Store {
    /// Adds a target; its password is sealed with the server key. Fails when the name is taken.
    pub async fn add_target(&self, new: &NewTarget<'_>, now: i64) -> Result<TargetId> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(
            "INSERT INTO targets (name, protocol, host, port, username, system, clipboard, \
             standing_access, demo, idle_timeout_secs, max_duration_secs, created_at, host_key, \
             keyboard, rdp_security) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING RETURNING id",
        )
        .bind(new.name)
        .bind(new.protocol.as_str())
        .bind(new.host)
        .bind(i64::from(new.port))
        .bind(new.username)
        .bind(new.system)
        .bind(new.clipboard.as_str())
        .bind(new.standing_access)
        .bind(new.demo)
        .bind(new.idle_timeout_secs)
        .bind(new.max_duration_secs)
        .bind(now)
        .bind(new.host_key)
        .bind(new.keyboard)
        .bind(new.rdp_security)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StorageError::NameTaken(new.name.to_owned()));
        };
        let id = TargetId(row.try_get("id")?);
        if let Some(password) = new.password {
            let sealed = self.key.seal(password.as_bytes(), &target_aad(id));
            sqlx::query("UPDATE targets SET sealed_password = ? WHERE id = ?")
                .bind(sealed)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(key) = new.private_key {
            let sealed = self.key.seal(key.as_bytes(), &private_key_aad(id));
            sqlx::query("UPDATE targets SET sealed_private_key = ? WHERE id = ?")
                .bind(sealed)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Pins another host key for a target (after an administrator checked the change).
    /// False when there is no such target.
    pub async fn set_target_host_key(&self, name: &str, host_key: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE targets SET host_key = ? WHERE name = ?")
            .bind(host_key)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The target's private key, decrypted — for the session engine only.
    pub async fn target_private_key(&self, id: TargetId) -> Result<Option<String>> {
        let sealed = sqlx::query_scalar("SELECT sealed_private_key FROM targets WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        self.open_target_secret(id, sealed, &private_key_aad(id))
    }

    /// A target secret sealed with the server key, decrypted (`None` when none is stored).
    fn open_target_secret(
        &self,
        id: TargetId,
        sealed: Option<Option<Vec<u8>>>,
        aad: &[u8],
    ) -> Result<Option<String>> {
        let Some(sealed) = sealed.flatten() else {
            return Ok(None);
        };
        let plain = self
            .key
            .open(&sealed, aad)
            .ok_or(StorageError::DecryptTarget(id.0))?;
        String::from_utf8(plain)
            .map(Some)
            .map_err(|_| StorageError::DecryptTarget(id.0))
    }

    /// Appends one command to an SSH session's command log.
    pub async fn add_session_command(
        &self,
        session: &str,
        at_ms: i64,
        command: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // The finished command replaces the line that was in progress.
        sqlx::query("DELETE FROM session_commands WHERE session_id = ? AND pending = 1")
            .bind(session)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO session_commands (session_id, at_ms, command) VALUES (?, ?, ?)")
            .bind(session)
            .bind(at_ms)
            .bind(command)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The command line an SSH user is still typing (`None`: none): it replaces the one stored
    /// before, and the next finished command replaces it.
    pub async fn set_command_in_progress(
        &self,
        session: &str,
        line: Option<(i64, &str)>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM session_commands WHERE session_id = ? AND pending = 1")
            .bind(session)
            .execute(&mut *tx)
            .await?;
        if let Some((at_ms, text)) = line {
            sqlx::query(
                "INSERT INTO session_commands (session_id, at_ms, command, pending) VALUES (?, ?, ?, 1)",
            )
            .bind(session)
            .bind(at_ms)
            .bind(text)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A session's command log, oldest first.
    pub async fn session_commands(&self, session: &str) -> Result<Vec<SessionCommand>> {
        let rows = sqlx::query(
            "SELECT at_ms, command FROM session_commands WHERE session_id = ? ORDER BY at_ms, id",
        )
        .bind(session)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionCommand {
                    at_ms: row.try_get("at_ms")?,
                    command: row.try_get("command")?,
                })
            })
            .collect()
    }

    /// Moves a target to another host and port (the demo target gets a new port each start).
    pub async fn set_target_address(&self, id: TargetId, host: &str, port: u16) -> Result<()> {
        sqlx::query("UPDATE targets SET host = ?, port = ? WHERE id = ?")
            .bind(host)
            .bind(i64::from(port))
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks a target as one for demo users, or not.
    pub async fn set_target_demo(&self, id: TargetId, demo: bool) -> Result<()> {
        sqlx::query("UPDATE targets SET demo = ? WHERE id = ?")
            .bind(demo)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn targets(&self) -> Result<Vec<Target>> {
        let rows = sqlx::query(&format!("SELECT {TARGET_COLUMNS} ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(target_from_row).collect()
    }

    pub async fn target_by_name(&self, name: &str) -> Result<Option<Target>> {
        let row = sqlx::query(&format!("SELECT {TARGET_COLUMNS} WHERE name = ?"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(target_from_row).transpose()
    }

    /// The target's password, decrypted — for the session engine only.
    pub async fn target_password(&self, id: TargetId) -> Result<Option<String>> {
        let sealed = sqlx::query_scalar("SELECT sealed_password FROM targets WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        self.open_target_secret(id, sealed, &target_aad(id))
    }

    /// Removes a target; its past sessions stay listed under its name.
    pub async fn remove_target(&self, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM targets WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn start_remote_session(
        &self,
        id: &str,
        user: UserId,
        target: &Target,
        started_at_ms: i64,
        recording: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO remote_sessions (id, user_id, target_id, target_name, protocol, started_at_ms, recording) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(user.0)
        .bind(target.id.0)
        .bind(&target.name)
        .bind(target.protocol.as_str())
        .bind(started_at_ms)
        .bind(recording)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn end_remote_session(
        &self,
        id: &str,
        ended_at_ms: i64,
        outcome: &str,
        bytes_to_browser: i64,
        recording_sha256: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE remote_sessions SET ended_at_ms = ?, outcome = ?, bytes_to_browser = ?, recording_sha256 = ? \
             WHERE id = ?",
        )
        .bind(ended_at_ms)
        .bind(outcome)
        .bind(bytes_to_browser)
        .bind(recording_sha256)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sessions, newest first; `live` filters on whether they have ended; `user` restricts to
    /// one user's sessions (and, with `vendor`, also to the sessions of that vendor's users).
    pub async fn remote_sessions(
        &self,
        live: Option<bool>,
        user: Option<UserId>,
        vendor: Option<&str>,
    ) -> Result<Vec<RemoteSession>> {
        let live_clause = match live {
            Some(true) => " AND s.ended_at_ms IS NULL",
            Some(false) => " AND s.ended_at_ms IS NOT NULL",
            None => "",
        };
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} WHERE (?1 IS NULL OR s.user_id = ?1 OR (?2 IS NOT NULL AND v.name = ?2)){live_clause} \
             ORDER BY s.started_at_ms DESC LIMIT 1000"
        ))
        .bind(user.map(|u| u.0))
        .bind(vendor)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    pub async fn remote_session(&self, id: &str) -> Result<Option<RemoteSession>> {
        let row = sqlx::query(&format!("SELECT {SESSION_COLUMNS} WHERE s.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// Appends lines of a graphical session's keystroke log.
    pub async fn add_keystrokes(&self, session: &str, lines: &[(i64, String)]) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        // The finished lines replace the line that was in progress.
        sqlx::query("DELETE FROM session_keystrokes WHERE session_id = ? AND pending = 1")
            .bind(session)
            .execute(&mut *tx)
            .await?;
        for (at_ms, text) in lines {
            sqlx::query(
                "INSERT INTO session_keystrokes (session_id, at_ms, text) VALUES (?, ?, ?)",
            )
            .bind(session)
            .bind(at_ms)
            .bind(text)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The keystroke line the user is still typing (`None`: none): it replaces the one stored
    /// before, and the next finished lines replace it.
    pub async fn set_keystrokes_in_progress(
        &self,
        session: &str,
        line: Option<(i64, &str)>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM session_keystrokes WHERE session_id = ? AND pending = 1")
            .bind(session)
            .execute(&mut *tx)
            .await?;
        if let Some((at_ms, text)) = line {
            sqlx::query(
                "INSERT INTO session_keystrokes (session_id, at_ms, text, pending) VALUES (?, ?, ?, 1)",
            )
            .bind(session)
            .bind(at_ms)
            .bind(text)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The keystroke line and the command a session was typing when it ended without finishing
    /// them (the gateway stopped) become part of its logs.
    pub async fn settle_logs_in_progress(&self, session: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["session_keystrokes", "session_commands"] {
            sqlx::query(&format!(
                "UPDATE {table} SET pending = 0 WHERE session_id = ?"
            ))
            .bind(session)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A session's keystroke log, oldest first (with the line in progress, if any).
    pub async fn keystrokes(&self, session: &str) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT at_ms, text FROM session_keystrokes WHERE session_id = ? ORDER BY at_ms, id",
        )
        .bind(session)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("at_ms")?, row.try_get("text")?)))
            .collect()
    }

    /// Keystroke lines of graphical sessions and commands of SSH sessions containing `needle`,
    /// newest first: (session id, at_ms, "keys" or "command", text). The caller keeps only the
    /// sessions the reader may see.
    pub async fn search_session_logs(
        &self,
        needle: &str,
        limit: u32,
    ) -> Result<Vec<(String, i64, String, String)>> {
        let pattern = format!(
            "%{}%",
            needle
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let rows = sqlx::query(
            "SELECT session_id, at_ms, 'keys' AS kind, text FROM session_keystrokes \
               WHERE text LIKE ?1 ESCAPE '\\' \
             UNION ALL \
             SELECT session_id, at_ms, 'command' AS kind, command AS text FROM session_commands \
               WHERE command LIKE ?1 ESCAPE '\\' \
             ORDER BY at_ms DESC LIMIT ?2",
        )
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("session_id")?,
                    row.try_get("at_ms")?,
                    row.try_get("kind")?,
                    row.try_get("text")?,
                ))
            })
            .collect()
    }

    /// Keeps a thumbnail of a graphical session at `at_ms` (a recording keyframe).
    pub async fn add_thumbnail(
        &self,
        session: &str,
        at_ms: i64,
        mimetype: &str,
        image: &[u8],
    ) -> Result<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO recording_thumbnails (session_id, at_ms, mimetype, image) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(session)
        .bind(at_ms)
        .bind(mimetype)
        .bind(image)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The times of a session's thumbnails, oldest first.
    pub async fn thumbnail_times(&self, session: &str) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT at_ms FROM recording_thumbnails WHERE session_id = ? ORDER BY at_ms",
        )
        .bind(session)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One thumbnail: (mimetype, image).
    pub async fn thumbnail(&self, session: &str, at_ms: i64) -> Result<Option<(String, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT mimetype, image FROM recording_thumbnails WHERE session_id = ? AND at_ms = ?",
        )
        .bind(session)
        .bind(at_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((row.try_get("mimetype")?, row.try_get("image")?)))
            .transpose()
    }

    /// The recording SHA-256 sealed in the audit chain when the session closed (the chain is
    /// the authority: the session row could be edited along with the file).
    pub async fn sealed_recording_sha256(&self, session: &str) -> Result<Option<String>> {
        let sealed: Option<Option<String>> = sqlx::query_scalar(
            "SELECT json_extract(detail, '$.recording_sha256') FROM audit_events \
             WHERE kind = 'session.close' AND json_extract(detail, '$.session') = ? \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(session)
        .fetch_optional(&self.pool)
        .await?;
        Ok(sealed.flatten())
    }

    /// Every session that has not ended, oldest first: at start-up, those a gateway that
    /// stopped (crash or kill) left open.
    pub async fn unfinished_remote_sessions(&self) -> Result<Vec<RemoteSession>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} WHERE s.ended_at_ms IS NULL ORDER BY s.started_at_ms"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use hoshu_domain::Role;

    use super::*;
    use crate::NewUser;

    fn ssh_target<'a>(name: &'a str, key: Option<&'a str>) -> NewTarget<'a> {
        NewTarget {
            name,
            protocol: Protocol::Ssh,
            host: "127.0.0.1",
            port: 22,
            username: Some("ops"),
            password: None,
            private_key: key,
            host_key: Some(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
            ),
            system: None,
            clipboard: ClipboardPolicy::Off,
            standing_access: false,
            demo: false,
            idle_timeout_secs: 900,
            max_duration_secs: 3600,
            keyboard: "us",
            rdp_security: "any",
        }
    }

    #[tokio::test]
    async fn private_keys_are_sealed_and_host_keys_repinned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let key =
            "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n-----END OPENSSH PRIVATE KEY-----\n";
        let id = store
            .add_target(&ssh_target("box", Some(key)), 1)
            .await
            .unwrap();
        let target = store.target_by_name("box").await.unwrap().unwrap();
        assert!(target.has_private_key && !target.has_password);
        assert!(
            target
                .host_key
                .as_deref()
                .unwrap()
                .starts_with("ssh-ed25519 ")
        );
        assert_eq!(
            store.target_private_key(id).await.unwrap().as_deref(),
            Some(key)
        );
        // Sealed at rest: the column does not hold the text, and it is not a password.
        let raw: Vec<u8> = sqlx::query_scalar("SELECT sealed_private_key FROM targets")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(!raw.windows(6).any(|w| w == b"secret"));
        assert_eq!(store.target_password(id).await.unwrap(), None);
        sqlx::query("UPDATE targets SET sealed_password = sealed_private_key")
            .execute(store.pool())
            .await
            .unwrap();
        assert!(
            store.target_password(id).await.is_err(),
            "a sealed key does not open as a password"
        );

        assert!(
            store
                .set_target_host_key("box", "ssh-ed25519 BBBB")
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_target_host_key("nothing", "ssh-ed25519 BBBB")
                .await
                .unwrap()
        );
        let target = store.target_by_name("box").await.unwrap().unwrap();
        assert_eq!(target.host_key.as_deref(), Some("ssh-ed25519 BBBB"));
    }

    #[tokio::test]
    async fn command_logs_are_kept_per_session_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.add_target(&ssh_target("box", None), 1).await.unwrap();
        let target = store.target_by_name("box").await.unwrap().unwrap();
        let user = store
            .create_user(
                &NewUser {
                    login: "ops",
                    name: "Ops",
                    role: Role::Admin,
                    vendor: None,
                },
                1,
            )
            .await
            .unwrap();
        for id in ["s1", "s2"] {
            store
                .start_remote_session(id, user, &target, 1, "x.cast.zst")
                .await
                .unwrap();
        }
        store.add_session_command("s1", 20, "ls -l").await.unwrap();
        store.add_session_command("s2", 15, "uptime").await.unwrap();
        store
            .add_session_command("s1", 10, "cd /etc")
            .await
            .unwrap();
        let log = store.session_commands("s1").await.unwrap();
        let texts: Vec<&str> = log.iter().map(|c| c.command.as_str()).collect();
        assert_eq!(texts, ["cd /etc", "ls -l"]);
        assert_eq!(log[0].at_ms, 10);
        assert!(store.session_commands("s3").await.unwrap().is_empty());
    }
}
