//! The vendor life cycle as operations shared by the admin command line, the JSON API and the
//! admin pages (DESIGN §5, seed §6): vendors with their hearing sheet, application moves,
//! systems, contracts and documents (lent devices: `lending`). Each validates its input, stores, and
//! audits; the access re-check notices through the schema's change counter.

pub mod api;
pub mod cli;
pub mod pages;
pub mod texts;

use hoshu_domain::{
    ApplicationState, AuditEvent, AuditKind, Protocol, TransitionFacts, VendorId, check_transition,
};
use hoshu_storage::{NewContract, NewDocument, Store, Vendor};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::app::error::{ChangedMeanwhile, Internal, Missing, OpResult};
use crate::app::fields::{Field, note_text, short_text};
use crate::app::state::unix_now;
use texts::VendorRefusal;

/// The hearing sheet (ヒアリングシート), the first step of the flow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HearingSheet {
    /// Who to contact at the vendor (names, telephone, mail).
    #[serde(default)]
    pub contacts: String,
    /// Business systems the vendor maintains.
    #[serde(default)]
    pub systems: Vec<String>,
    /// Tools and applications they will use during maintenance.
    #[serde(default)]
    pub tools: String,
    #[serde(default)]
    pub protocols: Vec<Protocol>,
    /// How often they expect to work remotely.
    #[serde(default)]
    pub frequency: String,
}

impl HearingSheet {
    fn validated(self) -> OpResult<HearingSheet> {
        let systems = self
            .systems
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| short_text(Field::SystemsUsed, s, 100))
            .collect::<OpResult<Vec<_>>>()?;
        Ok(HearingSheet {
            contacts: short_text(Field::Contacts, &self.contacts, 500)?,
            systems,
            tools: note_text(Field::Tools, &self.tools, 2000)?,
            protocols: self.protocols,
            frequency: note_text(Field::Frequency, &self.frequency, 200)?,
        })
    }
}

pub async fn add_vendor(
    store: &Store,
    name: &str,
    sheet: HearingSheet,
    actor: &str,
) -> OpResult<VendorId> {
    let name = short_text(Field::VendorName, name, 100)?;
    let sheet = sheet.validated()?;
    let json = serde_json::to_value(&sheet).map_err(|e| {
        tracing::error!(error = %e, "Hearing sheet not serialisable");
        Internal
    })?;
    let id = store.create_vendor(&name, &json, actor, unix_now()).await?;
    let event = AuditEvent::new(AuditKind::VendorAdded)
        .actor(actor)
        .subject(name.as_str())
        .detail("vendor_id", id.0)
        .detail("state", ApplicationState::HearingSheet.as_str());
    store.append_audit(&event).await?;
    Ok(id)
}

pub async fn vendor(store: &Store, id: VendorId) -> OpResult<Vendor> {
    store
        .vendor(id)
        .await?
        .ok_or_else(|| Missing::Vendor(id.0).into())
}

/// Moves the vendor's application to `to`, when the flow allows it with what is on record.
pub async fn move_application(
    store: &Store,
    vendor_id: VendorId,
    to: ApplicationState,
    note: &str,
    actor: &str,
    today: Date,
) -> OpResult<ApplicationState> {
    let vendor = vendor(store, vendor_id).await?;
    let note = note_text(Field::Note, note, 2000)?;
    let documents = store
        .documents(vendor.id)
        .await?
        .iter()
        .filter(|d| d.contract_id.is_none())
        .count();
    let facts = TransitionFacts {
        note: note.clone(),
        documents,
        devices: lent_count(store, vendor.id).await?,
        has_contract: store
            .contracts(Some(vendor.id))
            .await?
            .iter()
            .any(|c| c.valid_until >= today),
    };
    check_transition(vendor.state, to, &facts)?;
    if !store
        .move_application(vendor.id, vendor.state, to, actor, &note, unix_now())
        .await?
    {
        return Err(ChangedMeanwhile.into());
    }
    let event = AuditEvent::new(AuditKind::ApplicationMoved)
        .actor(actor)
        .subject(vendor.name.as_str())
        .detail("from", vendor.state.as_str())
        .detail("to", to.as_str())
        .detail("note", note.as_str());
    store.append_audit(&event).await?;
    Ok(vendor.state)
}

pub async fn add_system(store: &Store, name: &str, description: &str, actor: &str) -> OpResult<()> {
    let name = short_text(Field::SystemName, name, 100)?;
    let description = note_text(Field::Description, description, 500)?;
    store.ensure_system(&name, &description, unix_now()).await?;
    let event = AuditEvent::new(AuditKind::SystemAdded)
        .actor(actor)
        .subject(name.as_str());
    store.append_audit(&event).await?;
    Ok(())
}

pub async fn add_contract(
    store: &Store,
    vendor_id: VendorId,
    title: &str,
    valid_from: Date,
    valid_until: Date,
    systems: &[String],
    actor: &str,
) -> OpResult<i64> {
    let vendor = vendor(store, vendor_id).await?;
    let title = short_text(Field::ContractTitle, title, 200)?;
    if valid_until < valid_from {
        return Err(VendorRefusal::ContractDates.into());
    }
    let systems: Vec<String> = systems
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if systems.is_empty() {
        return Err(VendorRefusal::ContractWithoutSystem.into());
    }
    let new = NewContract {
        vendor_id: vendor.id,
        title: &title,
        valid_from,
        valid_until,
        systems: &systems,
    };
    let id = store.add_contract(&new, unix_now()).await?;
    let event = AuditEvent::new(AuditKind::ContractAdded)
        .actor(actor)
        .subject(vendor.name.as_str())
        .detail("contract", id)
        .detail("title", title.as_str())
        .detail("valid_from", valid_from.to_string())
        .detail("valid_until", valid_until.to_string())
        .detail("systems", systems.clone());
    store.append_audit(&event).await?;
    Ok(id)
}

/// Changes a contract's dates (extension, early end); live sessions are re-checked.
pub async fn change_contract(
    store: &Store,
    id: i64,
    valid_from: Date,
    valid_until: Date,
    actor: &str,
) -> OpResult<()> {
    if valid_until < valid_from {
        return Err(VendorRefusal::ContractDates.into());
    }
    if !store
        .set_contract_validity(id, valid_from, valid_until)
        .await?
    {
        return Err(Missing::Contract(id).into());
    }
    let event = AuditEvent::new(AuditKind::ContractChanged)
        .actor(actor)
        .detail("contract", id)
        .detail("valid_from", valid_from.to_string())
        .detail("valid_until", valid_until.to_string());
    store.append_audit(&event).await?;
    Ok(())
}

pub async fn remove_contract(store: &Store, id: i64, actor: &str) -> OpResult<()> {
    if !store.remove_contract(id).await? {
        return Err(Missing::Contract(id).into());
    }
    let event = AuditEvent::new(AuditKind::ContractRemoved)
        .actor(actor)
        .detail("contract", id);
    store.append_audit(&event).await?;
    Ok(())
}

/// Largest document accepted.
pub const MAX_DOCUMENT: usize = 10 * 1024 * 1024;

/// The content type of an accepted document, judged by its name and checked against its
/// first bytes, so a renamed executable is not stored as a PDF.
pub fn document_type(filename: &str, content: &[u8]) -> OpResult<&'static str> {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let (content_type, magic): (&str, &[u8]) = match extension.as_str() {
        "pdf" => ("application/pdf", b"%PDF-"),
        "png" => ("image/png", b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => ("image/jpeg", b"\xff\xd8\xff"),
        "docx" => (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK\x03\x04",
        ),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"PK\x03\x04",
        ),
        "txt" => ("text/plain; charset=utf-8", b""),
        "csv" => ("text/csv; charset=utf-8", b""),
        _ => {
            return Err(VendorRefusal::DocumentType.into());
        }
    };
    if !content.starts_with(magic) || (magic.is_empty() && std::str::from_utf8(content).is_err()) {
        return Err(VendorRefusal::DocumentContent {
            filename: filename.to_owned(),
            extension,
        }
        .into());
    }
    Ok(content_type)
}

/// Attaches a document to the vendor's application (or to one of its contracts).
pub async fn add_document(
    store: &Store,
    vendor_id: VendorId,
    contract_id: Option<i64>,
    filename: &str,
    content: &[u8],
    actor: &str,
) -> OpResult<i64> {
    let vendor = vendor(store, vendor_id).await?;
    // Only the last path component: browsers and scripts may send a full path.
    let filename = filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(filename)
        .to_owned();
    let filename = short_text(Field::FileName, &filename, 200)?;
    if content.is_empty() {
        return Err(VendorRefusal::DocumentEmpty.into());
    }
    if content.len() > MAX_DOCUMENT {
        return Err(VendorRefusal::DocumentTooLarge {
            max_mib: MAX_DOCUMENT / (1024 * 1024),
        }
        .into());
    }
    if let Some(contract) = contract_id
        && !store
            .contracts(Some(vendor.id))
            .await?
            .iter()
            .any(|c| c.id == contract)
    {
        return Err(VendorRefusal::NoSuchContractOfVendor {
            vendor: vendor.name,
            contract,
        }
        .into());
    }
    let content_type = document_type(&filename, content)?;
    let new = NewDocument {
        vendor_id: vendor.id,
        contract_id,
        filename: &filename,
        content_type,
        content,
        uploaded_by: actor,
    };
    let id = store.add_document(&new, unix_now()).await?;
    let event = AuditEvent::new(AuditKind::DocumentAdded)
        .actor(actor)
        .subject(vendor.name.as_str())
        .detail("document", id)
        .detail("filename", filename.as_str())
        .detail("size", content.len())
        .detail(
            "contract",
            contract_id.map_or(serde_json::Value::Null, Into::into),
        );
    store.append_audit(&event).await?;
    Ok(id)
}

/// How many devices count as lent to the vendor for its application: registered for one of
/// its users, not revoked, lending period not over — plus the asset tags recorded before the
/// registry (migration 0007).
async fn lent_count(store: &Store, vendor_id: VendorId) -> OpResult<usize> {
    let now = unix_now();
    let devices = store
        .vendor_devices(vendor_id)
        .await?
        .iter()
        .filter(|d| d.revoked_at.is_none() && d.lent_until >= now)
        .count();
    Ok(devices + store.legacy_lent_devices(vendor_id).await?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_must_be_what_their_name_says() {
        assert_eq!(
            document_type("申請書.PDF", b"%PDF-1.7 ...").ok(),
            Some("application/pdf")
        );
        assert!(document_type("申請書.pdf", b"MZ\x90\x00").is_err());
        assert!(document_type("tool.exe", b"MZ").is_err());
        assert!(document_type("notes.txt", b"\xff\xfe bad").is_err());
        assert!(document_type("notes.txt", "作業手順".as_bytes()).is_ok());
        assert!(document_type("sheet.xlsx", b"PK\x03\x04rest").is_ok());
    }
}
