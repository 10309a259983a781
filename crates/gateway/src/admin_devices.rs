//! `hoshu admin device …`: terminals lent to users (DESIGN §6). Adding one prints its one-time
//! enrolment code; `hoshu-agent enroll` on the device uses it.

use anyhow::{Context, bail};
use clap::Subcommand;
use hoshu_domain::{AuditEvent, AuditKind, Role};
use hoshu_storage::{Device, NewDevice, Store};
use time::{Date, OffsetDateTime, Time, UtcOffset};

use crate::admin_vendors::parse_day;
use crate::login::{new_registration_code, registration_code_hash};
use crate::state::unix_now;

/// How long an enrolment code works: the device is usually enrolled at the lending desk.
pub const ENROLMENT_CODE_TTL_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Register a device lent to a user; prints a one-time enrolment code as the last line
    Add {
        /// The device's asset tag (becomes its certificate's common name)
        #[arg(long)]
        asset_tag: String,
        /// Login ID of the user it is lent to
        #[arg(long)]
        user: String,
        /// Last day of the lending period (YYYY-MM-DD, Japan time); the certificate ends then
        #[arg(long, value_parser = parse_day)]
        until: Date,
    },
    /// List devices, their certificates and last posture
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a device (lost or returned): its certificate stops working at once
    Revoke {
        #[arg(long)]
        asset_tag: String,
    },
}

/// The last second of `day` in Japan (UTC+9), as Unix seconds: a lending period is agreed in
/// local days, and the command line has no configuration to read another offset from.
fn end_of_day_jst(day: Date) -> i64 {
    let offset = UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC);
    day.with_time(Time::MIDNIGHT)
        .assume_offset(offset)
        .unix_timestamp()
        + 24 * 3600
        - 1
}

fn asset_tag_valid(tag: &str) -> bool {
    // It becomes a certificate's common name and a CLI argument: keep it plain.
    !tag.is_empty()
        && tag.len() <= 64
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn iso(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// One word on where a device stands.
fn device_state(device: &Device, now: i64) -> &'static str {
    if device.revoked_at.is_some() {
        "revoked"
    } else if device.lent_until < now {
        "lending ended"
    } else if device.cert_serial.is_none() {
        "awaiting enrolment"
    } else {
        match device.compliant {
            None => "enrolled, no report yet",
            Some(true) => "compliant",
            Some(false) => "not compliant",
        }
    }
}

pub async fn run(store: &Store, command: DeviceCommand, actor: &str) -> anyhow::Result<()> {
    match command {
        DeviceCommand::Add {
            asset_tag,
            user,
            until,
        } => {
            let asset_tag = asset_tag.trim();
            if !asset_tag_valid(asset_tag) {
                bail!("asset tag must be 1–64 letters, digits, '-', '_' or '.'");
            }
            let holder = store.existing_user(&user).await?;
            if holder.role != Role::Vendor && holder.role != Role::Admin {
                bail!(
                    "devices are lent to vendor users (or operators); {} is {}",
                    holder.login,
                    holder.role.as_str()
                );
            }
            let now = unix_now();
            let lent_until = end_of_day_jst(until);
            if lent_until <= now {
                bail!("the lending period must end in the future");
            }
            let code = new_registration_code();
            store
                .add_device(
                    &NewDevice {
                        asset_tag,
                        user: holder.id,
                        lent_from: now,
                        lent_until,
                    },
                    &registration_code_hash(&code),
                    now + ENROLMENT_CODE_TTL_SECS,
                    now,
                )
                .await?;
            store
                .append_audit(
                    &AuditEvent::new(AuditKind::DeviceAdded)
                        .actor(actor)
                        .subject(asset_tag)
                        .detail("user", holder.login.as_str())
                        .detail("until", iso(lent_until)),
                )
                .await
                .context("auditing the new device")?;
            println!(
                "device {asset_tag} registered for {} until {}; enrol it with this one-time code (valid {} days):",
                holder.login,
                iso(lent_until),
                ENROLMENT_CODE_TTL_SECS / 86_400
            );
            println!("{code}");
        }
        DeviceCommand::List { json } => {
            let devices = store.devices().await?;
            let now = unix_now();
            if json {
                let rows: Vec<serde_json::Value> = devices
                    .iter()
                    .map(|d| {
                        serde_json::json!({
                            "asset_tag": d.asset_tag, "user": d.user_login, "vendor": d.vendor,
                            "lent_from": iso(d.lent_from), "lent_until": iso(d.lent_until),
                            "fingerprint": d.fingerprint, "serial": d.cert_serial,
                            "enrolled_at": d.enrolled_at.map(iso),
                            "revoked_at": d.revoked_at.map(iso),
                            "last_report_at": d.last_report_at.map(iso),
                            "compliant": d.compliant, "state": device_state(d, now),
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<20} {:<20} {:<20} {:<26} STATE",
                    "ASSET TAG", "USER", "VENDOR", "LENT UNTIL"
                );
                for d in &devices {
                    println!(
                        "{:<20} {:<20} {:<20} {:<26} {}",
                        d.asset_tag,
                        d.user_login,
                        d.vendor.as_deref().unwrap_or("-"),
                        iso(d.lent_until),
                        device_state(d, now)
                    );
                }
            }
        }
        DeviceCommand::Revoke { asset_tag } => {
            let Some(device) = store.device_by_tag(asset_tag.trim()).await? else {
                bail!(
                    "no device has asset tag {asset_tag:?}; `hoshu admin device list` shows them"
                );
            };
            if !store.revoke_device(device.id, unix_now()).await? {
                println!("device {} was already revoked", device.asset_tag);
                return Ok(());
            }
            store
                .append_audit(
                    &AuditEvent::new(AuditKind::DeviceRevoked)
                        .actor(actor)
                        .subject(device.asset_tag.as_str())
                        .detail("user", device.user_login.as_str()),
                )
                .await
                .context("auditing the revocation")?;
            println!(
                "device {} revoked; its certificate no longer works",
                device.asset_tag
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lending_period_ends_at_midnight_in_japan() {
        let day = parse_day("2026-12-31").unwrap();
        // 2027-01-01T00:00:00+09:00 is 2026-12-31T15:00:00Z.
        assert_eq!(end_of_day_jst(day), 1_798_729_200 - 1);
        assert!(parse_day("31/12/2026").is_err());
    }

    #[test]
    fn asset_tags_are_plain() {
        assert!(asset_tag_valid("PC-2026.001_a"));
        assert!(!asset_tag_valid(""));
        assert!(!asset_tag_valid("PC 1"));
        assert!(!asset_tag_valid("CN=evil,O=x"));
    }
}
