//! Vendors and their application flow, business systems, contracts, documents and lent devices.

use hoshu_domain::{ApplicationState, PolicyOverride, VendorId};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::Date;
use time::macros::format_description;

use crate::{Result, StorageError, Store};

#[derive(Debug, Clone, PartialEq)]
pub struct Vendor {
    pub id: VendorId,
    pub name: String,
    pub state: ApplicationState,
    /// The hearing sheet as submitted (contacts, systems, tools, protocols, frequency).
    pub hearing_sheet: serde_json::Value,
    /// The vendor's own posture rules; `None` follows `[posture.policy]`.
    pub posture_policy: Option<PolicyOverride>,
    pub created_at: i64,
}

/// One move of a vendor's application, for its timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationEvent {
    pub from: Option<ApplicationState>,
    pub to: ApplicationState,
    pub actor: String,
    pub note: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub id: i64,
    pub vendor_id: VendorId,
    pub vendor: String,
    pub title: String,
    pub valid_from: Date,
    pub valid_until: Date,
    pub systems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContract<'a> {
    pub vendor_id: VendorId,
    pub title: &'a str,
    pub valid_from: Date,
    pub valid_until: Date,
    pub systems: &'a [String],
}

/// A document's metadata (the content is fetched on its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: i64,
    pub vendor_id: VendorId,
    pub contract_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub vendor_id: VendorId,
    pub contract_id: Option<i64>,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
    pub uploaded_by: &'a str,
}

fn corrupt(what: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(what.to_string())
}

pub(crate) fn parse_day(text: &str) -> Result<Date> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|e| corrupt(format!("date {text:?}: {e}")))
}

pub(crate) fn format_day(day: Date) -> String {
    day.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn vendor_from_row(row: &SqliteRow) -> Result<Vendor> {
    let state: String = row.try_get("application_state")?;
    let sheet: String = row.try_get("hearing_sheet")?;
    Ok(Vendor {
        id: VendorId(row.try_get("id")?),
        name: row.try_get("name")?,
        state: state.parse().map_err(corrupt)?,
        hearing_sheet: serde_json::from_str(&sheet).map_err(corrupt)?,
        posture_policy: parse_policy(row.try_get("posture_policy")?)?,
        created_at: row.try_get("created_at")?,
    })
}

const VENDOR_COLUMNS: &str =
    "id, name, application_state, hearing_sheet, posture_policy, created_at FROM vendors";

/// A vendor's stored posture override (JSON), as written by [`Store::set_vendor_posture`].
pub(crate) fn parse_policy(json: Option<String>) -> Result<Option<PolicyOverride>> {
    json.map(|json| serde_json::from_str(&json).map_err(corrupt))
        .transpose()
}
const DOCUMENT_COLUMNS: &str = "id, vendor_id, contract_id, filename, content_type, size, sha256, \
     uploaded_by, created_at FROM documents";

fn document_from_row(row: &SqliteRow) -> Result<Document> {
    Ok(Document {
        id: row.try_get("id")?,
        vendor_id: VendorId(row.try_get("vendor_id")?),
        contract_id: row.try_get("contract_id")?,
        filename: row.try_get("filename")?,
        content_type: row.try_get("content_type")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        uploaded_by: row.try_get("uploaded_by")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// A new vendor whose hearing sheet was submitted: the first step of the flow.
    pub async fn create_vendor(
        &self,
        name: &str,
        hearing_sheet: &serde_json::Value,
        actor: &str,
        now: i64,
    ) -> Result<VendorId> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(
            "INSERT INTO vendors (name, created_at, hearing_sheet) VALUES (?, ?, ?) \
             ON CONFLICT(name) DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(now)
        .bind(hearing_sheet.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StorageError::VendorTaken(name.to_owned()));
        };
        let id = VendorId(row.try_get("id")?);
        sqlx::query(
            "INSERT INTO application_events (vendor_id, from_state, to_state, actor, note, at) \
             VALUES (?, NULL, ?, ?, 'hearing sheet submitted', ?)",
        )
        .bind(id.0)
        .bind(ApplicationState::HearingSheet.as_str())
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn vendors(&self) -> Result<Vec<Vendor>> {
        let rows = sqlx::query(&format!("SELECT {VENDOR_COLUMNS} ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(vendor_from_row).collect()
    }

    pub async fn vendor(&self, id: VendorId) -> Result<Option<Vendor>> {
        let row = sqlx::query(&format!("SELECT {VENDOR_COLUMNS} WHERE id = ?"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(vendor_from_row).transpose()
    }

    pub async fn vendor_by_name(&self, name: &str) -> Result<Option<Vendor>> {
        let row = sqlx::query(&format!("SELECT {VENDOR_COLUMNS} WHERE name = ?"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(vendor_from_row).transpose()
    }

    /// The named vendor, or an error that says how to list them.
    pub async fn existing_vendor(&self, name: &str) -> Result<Vendor> {
        self.vendor_by_name(name)
            .await?
            .ok_or_else(|| StorageError::NoSuchVendor(name.to_owned()))
    }

    /// Moves the application from `from` to `to` — only if it is still in `from`, so two
    /// operators acting at once cannot both move it. False when it had moved meanwhile.
    pub async fn move_application(
        &self,
        vendor: VendorId,
        from: ApplicationState,
        to: ApplicationState,
        actor: &str,
        note: &str,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let moved = sqlx::query(
            "UPDATE vendors SET application_state = ? WHERE id = ? AND application_state = ?",
        )
        .bind(to.as_str())
        .bind(vendor.0)
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO application_events (vendor_id, from_state, to_state, actor, note, at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(vendor.0)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(actor)
        .bind(note)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The application's moves, oldest first.
    pub async fn application_events(&self, vendor: VendorId) -> Result<Vec<ApplicationEvent>> {
        let rows = sqlx::query(
            "SELECT from_state, to_state, actor, note, at FROM application_events \
             WHERE vendor_id = ? ORDER BY id",
        )
        .bind(vendor.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let from: Option<String> = row.try_get("from_state")?;
                let to: String = row.try_get("to_state")?;
                Ok(ApplicationEvent {
                    from: from.map(|s| s.parse().map_err(corrupt)).transpose()?,
                    to: to.parse().map_err(corrupt)?,
                    actor: row.try_get("actor")?,
                    note: row.try_get("note")?,
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }

    /// Adds the business system when it is new.
    pub async fn ensure_system(&self, name: &str, description: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO systems (name, description, created_at) VALUES (?, ?, ?) \
             ON CONFLICT(name) DO UPDATE SET description = excluded.description \
             WHERE excluded.description <> ''",
        )
        .bind(name)
        .bind(description)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn systems(&self) -> Result<Vec<System>> {
        let rows = sqlx::query("SELECT name, description FROM systems ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(System {
                    name: row.try_get("name")?,
                    description: row.try_get("description")?,
                })
            })
            .collect()
    }

    /// Adds a contract; its systems must exist.
    pub async fn add_contract(&self, new: &NewContract<'_>, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for system in new.systems {
            let known: Option<i64> = sqlx::query_scalar("SELECT id FROM systems WHERE name = ?")
                .bind(system)
                .fetch_optional(&mut *tx)
                .await?;
            if known.is_none() {
                return Err(StorageError::NoSuchSystem(system.clone()));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO contracts (vendor_id, title, valid_from, valid_until, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.vendor_id.0)
        .bind(new.title)
        .bind(format_day(new.valid_from))
        .bind(format_day(new.valid_until))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for system in new.systems {
            sqlx::query(
                "INSERT OR IGNORE INTO contract_systems (contract_id, system) VALUES (?, ?)",
            )
            .bind(id)
            .bind(system)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Changes a contract's validity (an extension, or ending it early).
    pub async fn set_contract_validity(&self, id: i64, from: Date, until: Date) -> Result<bool> {
        let done = sqlx::query("UPDATE contracts SET valid_from = ?, valid_until = ? WHERE id = ?")
            .bind(format_day(from))
            .bind(format_day(until))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn remove_contract(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM contracts WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Contracts, of one vendor or all, by vendor then start date.
    pub async fn contracts(&self, vendor: Option<VendorId>) -> Result<Vec<Contract>> {
        let rows = sqlx::query(
            "SELECT c.id, c.vendor_id, v.name AS vendor, c.title, c.valid_from, c.valid_until, \
             (SELECT group_concat(system, char(31)) FROM (SELECT system FROM contract_systems \
               WHERE contract_id = c.id ORDER BY system)) AS systems \
             FROM contracts c JOIN vendors v ON v.id = c.vendor_id \
             WHERE (? IS NULL OR c.vendor_id = ?) ORDER BY v.name, c.valid_from, c.id",
        )
        .bind(vendor.map(|v| v.0))
        .bind(vendor.map(|v| v.0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let systems: Option<String> = row.try_get("systems")?;
                let from: String = row.try_get("valid_from")?;
                let until: String = row.try_get("valid_until")?;
                Ok(Contract {
                    id: row.try_get("id")?,
                    vendor_id: VendorId(row.try_get("vendor_id")?),
                    vendor: row.try_get("vendor")?,
                    title: row.try_get("title")?,
                    valid_from: parse_day(&from)?,
                    valid_until: parse_day(&until)?,
                    systems: systems
                        .map(|s| s.split('\u{1f}').map(str::to_owned).collect())
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    pub async fn add_document(&self, new: &NewDocument<'_>, now: i64) -> Result<i64> {
        let sha256 = hex::encode(Sha256::digest(new.content));
        let size = i64::try_from(new.content.len()).unwrap_or(i64::MAX);
        let id = sqlx::query_scalar(
            "INSERT INTO documents (vendor_id, contract_id, filename, content_type, size, sha256, \
             content, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.vendor_id.0)
        .bind(new.contract_id)
        .bind(new.filename)
        .bind(new.content_type)
        .bind(size)
        .bind(sha256)
        .bind(new.content)
        .bind(new.uploaded_by)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn documents(&self, vendor: VendorId) -> Result<Vec<Document>> {
        let rows = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS} WHERE vendor_id = ? ORDER BY id"
        ))
        .bind(vendor.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(document_from_row).collect()
    }

    /// A document with its content.
    pub async fn document(&self, id: i64) -> Result<Option<(Document, Vec<u8>)>> {
        let row = sqlx::query(&format!("SELECT content, {DOCUMENT_COLUMNS} WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((document_from_row(&row)?, row.try_get("content")?)))
            .transpose()
    }

    /// Asset tags recorded as lent before the device registry (migration 0007 says why they
    /// stay); nothing adds to them any more.
    /// Sets (or with `None` clears) the vendor's posture override; `false` for no such vendor.
    pub async fn set_vendor_posture(
        &self,
        vendor: VendorId,
        policy: Option<&PolicyOverride>,
    ) -> Result<bool> {
        let json = policy
            .filter(|p| !p.is_empty())
            .map(serde_json::to_string)
            .transpose()
            .map_err(corrupt)?;
        let changed = sqlx::query("UPDATE vendors SET posture_policy = ? WHERE id = ?")
            .bind(json)
            .bind(vendor.0)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(changed > 0)
    }

    pub async fn legacy_lent_devices(&self, vendor: VendorId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT asset_tag FROM lent_devices WHERE vendor_id = ? ORDER BY asset_tag",
        )
        .bind(vendor.0)
        .fetch_all(&self.pool)
        .await?)
    }
}
