//! Appending to and verifying the audit chain (DESIGN §7).

use std::path::Path;

use hoshu_domain::{AuditEvent, ChainBreak, ChainedEvent, GENESIS_HASH, verify_chain};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Result, StorageError, Store, now_ms};

/// What the audit viewer and the JSON-lines export select.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// A kind or a family of kinds by prefix ("login", "session.open").
    pub kind: Option<String>,
    /// Actor or subject (a login ID, a target or vendor name).
    pub who: Option<String>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Page backwards from this sequence number (exclusive).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// The outcome of `hoshu audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerification {
    Intact { events: i64 },
    Broken(ChainBreak),
}

fn hash_from(row: &SqliteRow, column: &str) -> Result<[u8; 32]> {
    let bytes: Vec<u8> = row.try_get(column)?;
    bytes
        .try_into()
        .map_err(|_| StorageError::Corrupt(format!("audit {column} is not 32 bytes")))
}

fn event_from_row(row: &SqliteRow) -> Result<ChainedEvent> {
    Ok(ChainedEvent {
        seq: row.try_get("seq")?,
        at_ms: row.try_get("at_ms")?,
        kind: row.try_get("kind")?,
        actor: row.try_get("actor")?,
        subject: row.try_get("subject")?,
        source: row.try_get("source")?,
        detail: row.try_get("detail")?,
        prev_hash: hash_from(row, "prev_hash")?,
        hash: hash_from(row, "hash")?,
    })
}

impl Store {
    /// Appends one event to the chain and returns its sequence number. The write lock is taken
    /// first (`BEGIN IMMEDIATE`) so the gateway and the admin CLI never link to the same event.
    pub async fn append_audit(&self, event: &AuditEvent) -> Result<i64> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let last = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (seq, prev) = match last {
            Some(row) => (row.try_get::<i64, _>("seq")? + 1, hash_from(&row, "hash")?),
            None => (1, GENESIS_HASH),
        };
        let sealed = ChainedEvent::seal(event, seq, now_ms(), prev);
        sqlx::query(
            "INSERT INTO audit_events (seq, at_ms, kind, actor, subject, source, detail, prev_hash, hash) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(sealed.seq)
        .bind(sealed.at_ms)
        .bind(&sealed.kind)
        .bind(&sealed.actor)
        .bind(&sealed.subject)
        .bind(&sealed.source)
        .bind(&sealed.detail)
        .bind(&sealed.prev_hash[..])
        .bind(&sealed.hash[..])
        .execute(&mut *tx)
        .await?;
        // INVARIANT: the head file is written while this transaction holds the database's write
        // lock, so appends (of this process and of the admin command line) move it one at a
        // time, never backwards. A head write that fails undoes the append (nothing happened
        // that was not anchored); a commit that fails puts the previous head back.
        write_head(&self.audit_head, sealed.seq, &sealed.hash)?;
        if let Err(e) = tx.commit().await {
            let restored = if seq > 1 {
                write_head(&self.audit_head, seq - 1, &prev)
            } else {
                std::fs::remove_file(&self.audit_head).or(Ok(()))
            };
            if let Err(restore) = restored {
                tracing::error!(error = %restore, "Cannot put the audit head back after a failed commit");
            }
            return Err(e.into());
        }
        Ok(seq)
    }

    /// The whole chain, oldest first.
    pub async fn audit_events(&self) -> Result<Vec<ChainedEvent>> {
        let rows = sqlx::query(
            "SELECT seq, at_ms, kind, actor, subject, source, detail, prev_hash, hash \
             FROM audit_events ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Up to `limit` events after `seq`, oldest first (the syslog exporter's next batch).
    pub async fn audit_events_after(&self, seq: i64, limit: u32) -> Result<Vec<ChainedEvent>> {
        let rows = sqlx::query(
            "SELECT seq, at_ms, kind, actor, subject, source, detail, prev_hash, hash \
             FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Events matching `filter`, newest first, at most `filter.limit`.
    pub async fn search_audit(&self, filter: &AuditFilter) -> Result<Vec<ChainedEvent>> {
        // Kinds are dotted words ("login.failure"): a prefix selects a family.
        let kind_prefix = filter
            .kind
            .as_deref()
            .map(|k| format!("{}%", k.replace(['%', '_'], "")));
        let rows = sqlx::query(
            "SELECT seq, at_ms, kind, actor, subject, source, detail, prev_hash, hash \
             FROM audit_events WHERE (?1 IS NULL OR kind LIKE ?1) \
             AND (?2 IS NULL OR actor = ?2 OR subject = ?2) \
             AND (?3 IS NULL OR at_ms >= ?3) AND (?4 IS NULL OR at_ms < ?4) \
             AND (?5 IS NULL OR seq < ?5) \
             ORDER BY seq DESC LIMIT ?6",
        )
        .bind(kind_prefix)
        .bind(filter.who.as_deref())
        .bind(filter.from_ms)
        .bind(filter.until_ms)
        .bind(filter.before_seq)
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Checks every link of the chain, then that the chain still reaches the head recorded
    /// outside the database (so a truncated tail is noticed).
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        let events = self.audit_events().await?;
        let by_seq: Vec<(i64, [u8; 32])> = events.iter().map(|e| (e.seq, e.hash)).collect();
        let (count, _) = match verify_chain(events) {
            Ok(done) => done,
            Err(chain_break) => return Ok(AuditVerification::Broken(chain_break)),
        };
        if let Some((head_seq, head_hash)) = read_head(&self.audit_head)? {
            // The head file names the last event appended; it may never point past the end of
            // the chain or disagree with the event it names.
            let at_head = by_seq.iter().find(|(seq, _)| *seq == head_seq);
            match at_head {
                None => {
                    return Ok(AuditVerification::Broken(ChainBreak {
                        seq: count + 1,
                        reason: format!(
                            "missing: the chain ends at event {count} but event {head_seq} was written \
                             (events at the end were deleted)"
                        ),
                    }));
                }
                Some((_, hash)) if *hash != head_hash => {
                    return Ok(AuditVerification::Broken(ChainBreak {
                        seq: head_seq,
                        reason: "differs from the hash recorded when it was written".to_owned(),
                    }));
                }
                Some(_) => {}
            }
        }
        Ok(AuditVerification::Intact { events: count })
    }
}

fn write_head(path: &Path, seq: i64, hash: &[u8; 32]) -> Result<()> {
    let head_error = |source| StorageError::AuditHead {
        path: path.to_owned(),
        source,
    };
    // Named by process and event: the write lock orders the writers, the name keeps two
    // processes' files apart.
    let tmp = path.with_extension(format!("tmp-{}-{seq}", std::process::id()));
    std::fs::write(&tmp, format!("{seq} {}\n", hex::encode(hash))).map_err(head_error)?;
    std::fs::rename(&tmp, path).map_err(head_error)
}

fn read_head(path: &Path) -> Result<Option<(i64, [u8; 32])>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StorageError::AuditHead {
                path: path.to_owned(),
                source,
            });
        }
    };
    let corrupt =
        || StorageError::Corrupt(format!("audit head file {} is malformed", path.display()));
    let (seq, hash) = text.trim().split_once(' ').ok_or_else(corrupt)?;
    let seq = seq.parse().map_err(|_| corrupt())?;
    let hash: [u8; 32] = hex::decode(hash)
        .ok()
        .and_then(|h| h.try_into().ok())
        .ok_or_else(corrupt)?;
    Ok(Some((seq, hash)))
}

#[cfg(test)]
mod tests {
    use hoshu_domain::AuditKind;

    use super::*;

    async fn store_with_events(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        for i in 0..n {
            let event = AuditEvent::new(AuditKind::LoginFailure)
                .subject(format!("user{i}"))
                .source("127.0.0.1");
            store.append_audit(&event).await.unwrap();
        }
        (dir, store)
    }

    fn broken_at(v: AuditVerification) -> Option<i64> {
        match v {
            AuditVerification::Intact { .. } => None,
            AuditVerification::Broken(b) => Some(b.seq),
        }
    }

    #[tokio::test]
    async fn an_intact_chain_verifies() {
        let (_dir, store) = store_with_events(6).await;
        assert_eq!(
            store.verify_audit().await.unwrap(),
            AuditVerification::Intact { events: 6 }
        );
    }

    #[tokio::test]
    async fn edits_deletions_and_swaps_in_the_database_are_found() {
        let (_dir, store) = store_with_events(6).await;
        sqlx::query("UPDATE audit_events SET subject = 'mallory' WHERE seq = 3")
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(broken_at(store.verify_audit().await.unwrap()), Some(3));

        let (_dir, store) = store_with_events(6).await;
        sqlx::query("DELETE FROM audit_events WHERE seq = 4")
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(broken_at(store.verify_audit().await.unwrap()), Some(5));

        let (_dir, store) = store_with_events(6).await;
        // SQLite checks uniqueness row by row, so the swap goes through a free number.
        for (from, to) in [(2, -1), (5, 2), (-1, 5)] {
            sqlx::query("UPDATE audit_events SET seq = ? WHERE seq = ?")
                .bind(to)
                .bind(from)
                .execute(store.pool())
                .await
                .unwrap();
        }
        assert_eq!(broken_at(store.verify_audit().await.unwrap()), Some(2));
    }

    #[tokio::test]
    async fn a_truncated_tail_is_found_through_the_head_file() {
        let (_dir, store) = store_with_events(6).await;
        sqlx::query("DELETE FROM audit_events WHERE seq >= 5")
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(broken_at(store.verify_audit().await.unwrap()), Some(5));
    }

    #[tokio::test]
    async fn concurrent_appends_all_succeed_and_the_head_names_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let event = AuditEvent::new(AuditKind::LoginChallenge).subject(format!("u{i}"));
                store.append_audit(&event).await
            }));
        }
        for task in tasks {
            task.await.unwrap().expect("every append succeeds");
        }
        let (seq, hash) = read_head(&store.audit_head).unwrap().expect("a head");
        let last = store.audit_events().await.unwrap().pop().unwrap();
        assert_eq!((seq, hash), (last.seq, last.hash));
        assert_eq!(seq, 64);
        assert!(matches!(
            store.verify_audit().await.unwrap(),
            AuditVerification::Intact { events: 64 }
        ));
    }
}
