//! `hoshu admin device …`: terminals lent to users (DESIGN §6). Adding one prints its one-time
//! enrolment code; `hoshu-agent enroll` on the device uses it.

use clap::Subcommand;
use hoshu_storage::{Device, Store};
use time::Date;

use crate::app::config::Config;
use crate::app::fields::date_arg;
use crate::app::state::unix_now;
use crate::devices::{self, iso};

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
        /// Last day of the lending period (YYYY-MM-DD, the organisation's calendar, [access] utc_offset_hours); the certificate ends then
        #[arg(long, value_parser = date_arg)]
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

pub async fn run(
    store: &Store,
    config: &Config,
    command: DeviceCommand,
    actor: &str,
) -> anyhow::Result<std::process::ExitCode> {
    match command {
        DeviceCommand::Add {
            asset_tag,
            user,
            until,
        } => {
            let holder = store.existing_user(user.trim()).await?;
            let until = devices::end_of_day(until, config.access.utc_offset_hours);
            let lent = devices::register_device(store, &asset_tag, &holder, until, actor).await?;
            println!("{lent}");
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
            let (device, revoked) = devices::revoke_device(store, &asset_tag, None, actor).await?;
            if revoked {
                println!(
                    "device {} revoked; its certificate no longer works",
                    device.asset_tag
                );
            } else {
                println!("device {} was already revoked", device.asset_tag);
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lending_day_is_read_as_a_date() {
        let day = date_arg("2026-12-31").unwrap();
        // 2027-01-01T00:00:00+09:00 is 2026-12-31T15:00:00Z.
        assert_eq!(devices::end_of_day(day, 9), 1_798_729_200 - 1);
        assert!(date_arg("31/12/2026").is_err());
    }
}
