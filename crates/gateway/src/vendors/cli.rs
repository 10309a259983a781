//! `hoshu admin vendor|system|contract …`: the access model from the command line, through the
//! same operations as the admin pages.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use hoshu_domain::{ApplicationState, PolicyOverride, Protocol, VendorId};
use hoshu_storage::Store;
use time::Date;

use crate::app::config::Config;
use crate::app::fields::date_arg;
use crate::devices;
use crate::vendors::{self, HearingSheet};

fn parse_state(s: &str) -> Result<ApplicationState, String> {
    s.parse()
        .map_err(|e: hoshu_domain::UnknownApplicationState| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum VendorCommand {
    /// Add a vendor from its hearing sheet (the first step of the application flow)
    Add {
        #[arg(long)]
        name: String,
        /// Who to contact at the vendor
        #[arg(long)]
        contacts: String,
        /// Business systems they maintain (repeat or separate with commas)
        #[arg(long, value_delimiter = ',')]
        system: Vec<String>,
        /// Tools and applications they will use
        #[arg(long, default_value = "")]
        tools: String,
        /// Protocols they need (vnc, rdp, ssh)
        #[arg(long, value_delimiter = ',', value_parser = |s: &str| s.parse::<Protocol>().map_err(|e| e.to_string()))]
        protocol: Vec<Protocol>,
        /// How often they expect to work remotely
        #[arg(long, default_value = "")]
        frequency: String,
    },
    /// List vendors and where their applications stand
    List {
        #[arg(long)]
        json: bool,
    },
    /// Move a vendor's application to the next state
    Move {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_state)]
        to: ApplicationState,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Attach a document to the application (or to one of the vendor's contracts)
    Document {
        #[arg(long)]
        name: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        contract: Option<i64>,
    },
    /// Lend a device to one of the vendor's users: registers it (as `device add` does) and
    /// prints its one-time enrolment code as the last line
    Lend {
        #[arg(long, visible_alias = "vendor")]
        name: String,
        #[arg(long)]
        asset_tag: String,
        /// Login ID of the vendor's user who holds the device
        #[arg(long)]
        user: String,
        /// Last day of the lending period (YYYY-MM-DD, Japan time)
        #[arg(long, value_parser = date_arg)]
        until: Date,
    },
    /// Set the vendor's own posture rules over the global [posture.policy]; rules not given
    /// keep their value (`--clear` first drops every vendor rule)
    Posture(PostureArgs),
}

#[derive(Debug, Args)]
pub struct PostureArgs {
    #[arg(long, visible_alias = "vendor")]
    name: String,
    /// Drop the vendor's rules first (with no other option: back to the global policy)
    #[arg(long)]
    clear: bool,
    #[arg(long, value_name = "DAYS")]
    max_signature_age_days: Option<u32>,
    #[arg(long, value_name = "SECS")]
    max_report_age_secs: Option<u32>,
    #[arg(long, value_name = "BOOL")]
    antivirus_required: Option<bool>,
    #[arg(long, value_name = "BOOL")]
    real_time_required: Option<bool>,
    #[arg(long, value_name = "BOOL")]
    fingerprint_must_match: Option<bool>,
    #[arg(long, value_name = "BOOL")]
    firewall_required: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Add a business system (targets and contracts name it)
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContractCommand {
    /// Add a maintenance contract: vendor × systems × validity (dates inclusive)
    Add {
        #[arg(long)]
        vendor: String,
        #[arg(long)]
        title: String,
        #[arg(long, value_parser = date_arg)]
        from: Date,
        #[arg(long, value_parser = date_arg)]
        until: Date,
        /// Business systems covered (repeat or separate with commas)
        #[arg(long, value_delimiter = ',', required = true)]
        system: Vec<String>,
    },
    /// Change a contract's validity (live sessions it no longer covers end)
    Set {
        #[arg(long)]
        id: i64,
        #[arg(long, value_parser = date_arg)]
        from: Date,
        #[arg(long, value_parser = date_arg)]
        until: Date,
    },
    Remove {
        #[arg(long)]
        id: i64,
    },
    List {
        #[arg(long)]
        vendor: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

async fn vendor_id(store: &Store, name: &str) -> anyhow::Result<VendorId> {
    Ok(store.existing_vendor(name).await?.id)
}

pub async fn vendor(
    store: &Store,
    config: &Config,
    command: VendorCommand,
    actor: &str,
) -> anyhow::Result<ExitCode> {
    match command {
        VendorCommand::Add {
            name,
            contacts,
            system,
            tools,
            protocol,
            frequency,
        } => {
            let sheet = HearingSheet {
                contacts,
                systems: system,
                tools,
                protocols: protocol,
                frequency,
            };
            let id = vendors::add_vendor(store, &name, sheet, actor).await?;
            println!(
                "vendor {} added (id {id}); its application is at hearing-sheet",
                name.trim()
            );
        }
        VendorCommand::List { json } => {
            let vendors = store.vendors().await?;
            if json {
                let rows: Vec<serde_json::Value> = vendors
                    .iter()
                    .map(|v| {
                        serde_json::json!({
                            "id": v.id, "name": v.name, "state": v.state,
                            "hearing_sheet": v.hearing_sheet,
                            "posture_policy": v.posture_policy,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!("{:<6} {:<20} NAME", "ID", "STATE");
                for v in &vendors {
                    println!("{:<6} {:<20} {}", v.id, v.state.as_str(), v.name);
                }
            }
        }
        VendorCommand::Move { name, to, note } => {
            let id = vendor_id(store, &name).await?;
            let from =
                vendors::move_application(store, id, to, &note, actor, config.access.today())
                    .await?;
            println!("application of {name} moved from {from} to {to}");
        }
        VendorCommand::Document {
            name,
            file,
            contract,
        } => {
            let id = vendor_id(store, &name).await?;
            let content = std::fs::read(&file)
                .with_context(|| format!("reading document {}", file.display()))?;
            let filename = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let doc =
                vendors::add_document(store, id, contract, &filename, &content, actor).await?;
            println!("document {doc} ({filename}) attached to {name}");
        }
        VendorCommand::Lend {
            name,
            asset_tag,
            user,
            until,
        } => {
            let id = vendor_id(store, &name).await?;
            let until = devices::end_of_day(until, config.access.utc_offset_hours);
            let lent = devices::lend_device(store, id, &asset_tag, &user, until, actor).await?;
            println!("{lent}");
        }
        VendorCommand::Posture(args) => {
            let id = vendor_id(store, &args.name).await?;
            let change = PolicyOverride {
                antivirus_required: args.antivirus_required,
                real_time_required: args.real_time_required,
                max_signature_age_days: args.max_signature_age_days,
                fingerprint_must_match: args.fingerprint_must_match,
                max_report_age_secs: args.max_report_age_secs,
                firewall_required: args.firewall_required,
            };
            if change.is_empty() && !args.clear {
                bail!(
                    "name at least one rule to set (e.g. --max-signature-age-days 7), or --clear"
                );
            }
            let rules = devices::set_vendor_posture(store, id, &change, args.clear, actor).await?;
            if rules.is_empty() {
                println!("{} follows the global [posture.policy]", args.name.trim());
            } else {
                println!(
                    "{} posture rules over the global policy: {}",
                    args.name.trim(),
                    rules.describe().join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn system(
    store: &Store,
    command: SystemCommand,
    actor: &str,
) -> anyhow::Result<ExitCode> {
    match command {
        SystemCommand::Add { name, description } => {
            vendors::add_system(store, &name, &description, actor).await?;
            println!("system {} added", name.trim());
        }
        SystemCommand::List { json } => {
            let systems = store.systems().await?;
            if json {
                let rows: Vec<serde_json::Value> = systems
                    .iter()
                    .map(|s| serde_json::json!({ "name": s.name, "description": s.description }))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for s in &systems {
                    println!("{}\t{}", s.name, s.description);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn contract(
    store: &Store,
    _config: &Config,
    command: ContractCommand,
    actor: &str,
) -> anyhow::Result<ExitCode> {
    match command {
        ContractCommand::Add {
            vendor,
            title,
            from,
            until,
            system,
        } => {
            let id = vendor_id(store, &vendor).await?;
            let contract =
                vendors::add_contract(store, id, &title, from, until, &system, actor).await?;
            println!("contract {contract} added for {vendor}: {from} to {until}");
        }
        ContractCommand::Set { id, from, until } => {
            vendors::change_contract(store, id, from, until, actor).await?;
            println!("contract {id} now valid {from} to {until}");
        }
        ContractCommand::Remove { id } => {
            vendors::remove_contract(store, id, actor).await?;
            println!("contract {id} removed");
        }
        ContractCommand::List { vendor, json } => {
            let only = match &vendor {
                Some(name) => Some(vendor_id(store, name).await?),
                None => None,
            };
            let contracts = store.contracts(only).await?;
            if json {
                let rows: Vec<serde_json::Value> = contracts
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "id": c.id, "vendor": c.vendor, "title": c.title,
                            "valid_from": c.valid_from.to_string(),
                            "valid_until": c.valid_until.to_string(), "systems": c.systems,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for c in &contracts {
                    println!(
                        "{:<5} {:<20} {} .. {}  {}  [{}]",
                        c.id,
                        c.vendor,
                        c.valid_from,
                        c.valid_until,
                        c.title,
                        c.systems.join(", ")
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
