//! Lending devices (DESIGN §6, seed §6 "機器貸与") as operations shared by the admin command
//! line, the JSON API and the vendor page: registering a device for a user (which is what
//! lending it is: the "devices lent" step counts these), revoking one, and a vendor's own
//! posture rules. Each validates, stores and audits, like `onboarding`.

pub mod api;
pub mod ca;
pub mod cli;
pub mod pages;
pub mod texts;
pub mod views;

use hoshu_domain::{
    AuditEvent, AuditKind, Compliance, PolicyOverride, PosturePolicy, PostureProblem,
    PostureReport, Role, VendorId, evaluate,
};
use hoshu_storage::{Device, NewDevice, Store, User};
use time::{Date, OffsetDateTime, Time, UtcOffset};

use crate::app::error::{Missing, OpResult};
use crate::app::state::unix_now;
use crate::login::{new_registration_code, registration_code_hash};
use texts::DeviceRefusal;

/// How long an enrolment code works: the device is usually enrolled at the lending desk.
pub const ENROLMENT_CODE_TTL_SECS: i64 = 7 * 24 * 3600;

/// The last second of `day` at UTC+`offset_hours`, as Unix seconds: a lending period is agreed
/// in local days.
pub fn end_of_day(day: Date, offset_hours: i8) -> i64 {
    let offset = UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(UtcOffset::UTC);
    day.with_time(Time::MIDNIGHT)
        .assume_offset(offset)
        .unix_timestamp()
        + 24 * 3600
        - 1
}

/// An asset tag becomes a certificate's common name and a CLI argument: keep it plain.
pub fn asset_tag_valid(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 64
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub fn iso(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// What a registration gives the administrator to hand over with the device.
#[derive(Debug)]
pub struct Lent {
    pub asset_tag: String,
    pub holder: String,
    pub lent_until: i64,
    /// The one-time enrolment code for `hoshu-agent enroll`; only its hash is kept.
    pub code: String,
}

/// What a registration gives the administrator on the command line: the code on the last line,
/// for scripts.
impl std::fmt::Display for Lent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "device {} registered for {} until {}; enrol it with this one-time code (valid {} days):",
            self.asset_tag,
            self.holder,
            iso(self.lent_until),
            ENROLMENT_CODE_TTL_SECS / 86_400
        )?;
        write!(f, "{}", self.code)
    }
}

/// Registers a device lent to `holder` (a vendor user, or an operator) until `lent_until`.
pub async fn register_device(
    store: &Store,
    asset_tag: &str,
    holder: &User,
    lent_until: i64,
    actor: &str,
) -> OpResult<Lent> {
    let asset_tag = asset_tag.trim();
    if !asset_tag_valid(asset_tag) {
        return Err(DeviceRefusal::AssetTag.into());
    }
    if holder.role != Role::Vendor && holder.role != Role::Admin {
        return Err(DeviceRefusal::HolderRole {
            login: holder.login.clone(),
            role: holder.role,
        }
        .into());
    }
    let now = unix_now();
    if lent_until <= now {
        return Err(DeviceRefusal::LendingOver.into());
    }
    let code = new_registration_code();
    let new = NewDevice {
        asset_tag,
        user: holder.id,
        lent_from: now,
        lent_until,
    };
    store
        .add_device(
            &new,
            &registration_code_hash(&code),
            now + ENROLMENT_CODE_TTL_SECS,
            now,
        )
        .await?;
    let mut event = AuditEvent::new(AuditKind::DeviceAdded)
        .actor(actor)
        .subject(asset_tag)
        .detail("user", holder.login.as_str())
        .detail("until", iso(lent_until));
    if let Some(vendor) = &holder.vendor {
        event = event.detail("vendor", vendor.as_str());
    }
    store.append_audit(&event).await?;
    Ok(Lent {
        asset_tag: asset_tag.to_owned(),
        holder: holder.login.clone(),
        lent_until,
        code,
    })
}

/// Lends a device to one of the vendor's users: the "devices lent" step of the application.
pub async fn lend_device(
    store: &Store,
    vendor_id: VendorId,
    asset_tag: &str,
    holder: &str,
    lent_until: i64,
    actor: &str,
) -> OpResult<Lent> {
    let vendor = store
        .vendor(vendor_id)
        .await?
        .ok_or(Missing::Vendor(vendor_id.0))?;
    let holder = store.existing_user(holder.trim()).await?;
    if holder.vendor.as_deref() != Some(vendor.name.as_str()) {
        return Err(DeviceRefusal::NotTheVendorsUser {
            login: holder.login,
            vendor: vendor.name,
        }
        .into());
    }
    register_device(store, asset_tag, &holder, lent_until, actor).await
}

/// Revokes a device (lost or returned); its certificate stops working at once. With `vendor`,
/// only a device of that vendor's users. `false` when it was already revoked.
pub async fn revoke_device(
    store: &Store,
    asset_tag: &str,
    vendor: Option<VendorId>,
    actor: &str,
) -> OpResult<(Device, bool)> {
    let asset_tag = asset_tag.trim();
    let not_found = || Missing::Device(asset_tag.to_owned());
    let device = store
        .device_by_tag(asset_tag)
        .await?
        .ok_or_else(not_found)?;
    if let Some(vendor_id) = vendor {
        let vendor = store
            .vendor(vendor_id)
            .await?
            .ok_or(Missing::Vendor(vendor_id.0))?;
        if device.vendor.as_deref() != Some(vendor.name.as_str()) {
            return Err(not_found().into());
        }
    }
    if !store.revoke_device(device.id, unix_now()).await? {
        return Ok((device, false));
    }
    let event = AuditEvent::new(AuditKind::DeviceRevoked)
        .actor(actor)
        .subject(device.asset_tag.as_str())
        .detail("user", device.user_login.as_str());
    store.append_audit(&event).await?;
    Ok((device, true))
}

/// The policy a device's reports are held to: its holder's company's rules over the global
/// `[posture.policy]`.
pub fn policy_for(global: &PosturePolicy, device: &Device) -> PosturePolicy {
    device
        .vendor_policy
        .as_ref()
        .map_or_else(|| global.clone(), |rules| rules.apply(global))
}

/// Changes the vendor's own posture rules: `change`'s rules over those in force, or none at all
/// with `clear` (then `change` starts afresh). Returns the rules now in force.
pub async fn set_vendor_posture(
    store: &Store,
    vendor_id: VendorId,
    change: &PolicyOverride,
    clear: bool,
    actor: &str,
) -> OpResult<PolicyOverride> {
    let vendor = store
        .vendor(vendor_id)
        .await?
        .ok_or(Missing::Vendor(vendor_id.0))?;
    if change
        .max_report_age_secs
        .is_some_and(|secs| !(60..=86_400).contains(&secs))
    {
        return Err(DeviceRefusal::ReportAge.into());
    }
    if change.max_signature_age_days.is_some_and(|days| days > 365) {
        return Err(DeviceRefusal::SignatureAge.into());
    }
    let base = if clear {
        PolicyOverride::default()
    } else {
        vendor.posture_policy.unwrap_or_default()
    };
    let rules = base.merged(change);
    store
        .set_vendor_posture(vendor.id, (!rules.is_empty()).then_some(&rules))
        .await?;
    let event = AuditEvent::new(AuditKind::VendorPosture)
        .actor(actor)
        .subject(vendor.name.as_str())
        .detail("policy", rules.describe().join(", "));
    store.append_audit(&event).await?;
    Ok(rules)
}

/// Whether a device can admit its holder: enrolled, not revoked, within its lending period.
pub fn device_counts(device: &Device, now: i64) -> bool {
    device.revoked_at.is_none()
        && device.cert_serial.is_some()
        && device.lent_from <= now
        && now <= device.lent_until
}

/// The verdict on a device's last report as of `now` (`None` before its first report): what
/// the decision uses, and what the device and its holder are shown. The report is held to
/// the holder's company's rules over the global `[posture.policy]`.
pub fn posture_now(global: &PosturePolicy, device: &Device, now: i64) -> Option<Compliance> {
    let policy = &policy_for(global, device);
    let report = PostureReport::from_json(device.last_report.as_deref()?.as_bytes()).ok()?;
    let fingerprint = device.fingerprint.as_deref().unwrap_or_default();
    let mut verdict = evaluate(policy, &report, fingerprint, now);
    // Freshness by the gateway's clock as well: a device whose clock runs ahead must not
    // stretch its last report's life.
    let limit_secs = policy.max_report_age_secs;
    let age_secs = device.last_report_at.map_or(i64::MAX, |at| now - at);
    let stale_noted = verdict
        .reasons
        .iter()
        .any(|r| matches!(r, PostureProblem::ReportStale { .. }));
    if age_secs > i64::from(limit_secs) && !stale_noted {
        verdict.reasons.push(PostureProblem::ReportStale {
            age_secs,
            limit_secs,
        });
        verdict.compliant = false;
    }
    Some(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lending_period_ends_at_midnight_local_time() {
        let day = Date::from_calendar_date(2026, time::Month::December, 31).expect("a date");
        // 2027-01-01T00:00:00+09:00 is 2026-12-31T15:00:00Z.
        assert_eq!(end_of_day(day, 9), 1_798_729_200 - 1);
        assert_eq!(end_of_day(day, 0), 1_798_761_600 - 1);
    }

    #[test]
    fn asset_tags_are_plain() {
        assert!(asset_tag_valid("PC-2026.001_a"));
        assert!(!asset_tag_valid(""));
        assert!(!asset_tag_valid("PC 1"));
        assert!(!asset_tag_valid("CN=evil,O=x"));
    }
}
