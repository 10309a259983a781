//! `hoshu admin …` and `hoshu audit verify`: work on the data directory directly, so they run
//! while the gateway runs (SQLite WAL; the audit chain takes the write lock per event).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use hoshu_domain::{AuditEvent, AuditKind, Role};
use hoshu_storage::{AuditVerification, NewUser, Store, User};

use crate::config::{Config, LoginSettings};
use crate::login::{new_registration_code, registration_code_hash};
use crate::state::unix_now;

/// Where the data is: a data directory, or the gateway's configuration file.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Place {
    /// Data directory of the gateway
    #[arg(long)]
    data: Option<PathBuf>,
    /// Configuration file of the gateway (its data_dir is used)
    #[arg(long)]
    config: Option<PathBuf>,
}

impl Place {
    fn resolve(&self) -> anyhow::Result<(PathBuf, LoginSettings)> {
        match (&self.data, &self.config) {
            (Some(data), _) => Ok((data.clone(), LoginSettings::default())),
            (None, Some(path)) => {
                let config = Config::load(path)?;
                Ok((config.data_dir, config.login))
            }
            (None, None) => bail!("give --data DIR or --config FILE"),
        }
    }

    pub async fn open(&self) -> anyhow::Result<(Store, LoginSettings)> {
        let (data, login) = self.resolve()?;
        if !data.join("hoshu.db").exists() {
            bail!(
                "no Hoshu database in {}; check --data, or start the gateway once to create it",
                data.display()
            );
        }
        let store = Store::open(&data)
            .await
            .with_context(|| format!("opening data directory {}", data.display()))?;
        Ok((store, login))
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Users: add, list, reset, lock, unlock
    #[command(subcommand)]
    User(UserCommand),
    /// Targets: add, list, remove
    #[command(subcommand)]
    Target(crate::admin_targets::TargetCommand),
    /// Vendors and their application flow: add, list, move, document, lend
    #[command(subcommand)]
    Vendor(crate::admin_vendors::VendorCommand),
    /// Business systems: add, list
    #[command(subcommand)]
    System(crate::admin_vendors::SystemCommand),
    /// Maintenance contracts: add, set, remove, list
    #[command(subcommand)]
    Contract(crate::admin_vendors::ContractCommand),
    /// Lent devices: add (prints an enrolment code), list, revoke
    #[command(subcommand)]
    Device(crate::admin_devices::DeviceCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; prints a one-time registration code as the last line
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Company the user belongs to (required for role vendor)
        #[arg(long)]
        vendor: Option<String>,
        /// A demo user (seed §6): demo targets only, for this many days
        #[arg(long)]
        demo_days: Option<u16>,
        /// A vendor user who manages the company's account: sees all its sessions and recordings
        #[arg(long)]
        manager: bool,
    },
    /// List users
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Forget a user's pattern; prints a new one-time registration code as the last line
    Reset {
        #[arg(long)]
        login: String,
    },
    /// Lock a user until an administrator unlocks them; ends their sessions
    Lock {
        #[arg(long)]
        login: String,
    },
    /// Unlock a user (an administrator's lock or a lock-out after failed logins)
    Unlock {
        #[arg(long)]
        login: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: hoshu_domain::UnknownRole| e.to_string())
}

/// Who did it, for the audit log: the operating-system user running the command.
pub fn cli_actor() -> String {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("cli:{who}")
}

async fn issue_code(
    store: &Store,
    user: &User,
    settings: &LoginSettings,
) -> anyhow::Result<String> {
    let code = new_registration_code();
    let expires_at = unix_now() + settings.registration_code_ttl_hours * 3600;
    store
        .issue_registration_code(user.id, &registration_code_hash(&code), expires_at)
        .await?;
    Ok(code)
}

pub async fn run(place: Place, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let (store, settings) = place.open().await?;
    let actor = cli_actor();
    let command = match command {
        AdminCommand::User(command) => command,
        AdminCommand::Target(command) => {
            let result = crate::admin_targets::run(&store, command, &actor).await;
            store.close().await;
            return result;
        }
        other => {
            let result = match other {
                AdminCommand::Vendor(c) => crate::admin_vendors::vendor(&store, c, &actor).await,
                AdminCommand::System(c) => crate::admin_vendors::system(&store, c, &actor).await,
                AdminCommand::Contract(c) => {
                    crate::admin_vendors::contract(&store, c, &actor).await
                }
                AdminCommand::Device(c) => crate::admin_devices::run(&store, c, &actor).await,
                AdminCommand::User(_) | AdminCommand::Target(_) => Ok(()),
            };
            store.close().await;
            return result.map(|()| ExitCode::SUCCESS);
        }
    };
    match command {
        UserCommand::Add {
            login,
            name,
            role,
            vendor,
            demo_days,
            manager,
        } => {
            let new = NewUser {
                login: &login,
                name: &name,
                role,
                vendor: vendor.as_deref(),
            };
            let code =
                crate::onboarding::add_user(&store, &settings, &new, demo_days, manager, &actor)
                    .await?;
            println!(
                "user {} added; give them this one-time registration code (valid {} h):",
                login.trim(),
                settings.registration_code_ttl_hours
            );
            println!("{code}");
        }
        UserCommand::List { json } => {
            let users = store.users().await?;
            let now = unix_now();
            if json {
                let rows: Vec<serde_json::Value> = users
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "login": u.login, "name": u.name, "role": u.role, "vendor": u.vendor,
                            "registered": u.registered, "status": status(u, now),
                            "demo_until": u.demo_until, "vendor_manager": u.vendor_manager,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<24} {:<9} {:<24} {:<24} STATUS",
                    "LOGIN", "ROLE", "NAME", "VENDOR"
                );
                for u in &users {
                    println!(
                        "{:<24} {:<9} {:<24} {:<24} {}",
                        u.login,
                        u.role.as_str(),
                        u.name,
                        u.vendor.as_deref().unwrap_or("-"),
                        status(u, now)
                    );
                }
            }
        }
        UserCommand::Reset { login } => {
            let user = store.existing_user(&login).await?;
            store.reset_credential(user.id).await?;
            let code = issue_code(&store, &user, &settings).await?;
            store
                .append_audit(
                    &AuditEvent::new(AuditKind::UserReset)
                        .actor(actor)
                        .subject(&user.login),
                )
                .await?;
            println!(
                "pattern of {} forgotten and sessions ended; new one-time registration code (valid {} h):",
                user.login, settings.registration_code_ttl_hours
            );
            println!("{code}");
        }
        UserCommand::Lock { login } => {
            let user = store.existing_user(&login).await?;
            store.lock_user(user.id).await?;
            store
                .append_audit(
                    &AuditEvent::new(AuditKind::UserLocked)
                        .actor(actor)
                        .subject(&user.login),
                )
                .await?;
            println!("user {} locked; their sessions ended", user.login);
        }
        UserCommand::Unlock { login } => {
            let user = store.existing_user(&login).await?;
            store.unlock_user(user.id).await?;
            store
                .append_audit(
                    &AuditEvent::new(AuditKind::UserUnlocked)
                        .actor(actor)
                        .subject(&user.login),
                )
                .await?;
            println!("user {} unlocked", user.login);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// One word (or a few) on whether the user can log in now.
fn status(user: &User, now: i64) -> String {
    if user.admin_locked {
        "locked (by administrator)".to_owned()
    } else if let Some(until) = user
        .login_state
        .locked_until
        .filter(|_| user.login_state.is_locked(now))
    {
        format!("locked out ({} s left)", until - now)
    } else if !user.registered {
        "awaiting registration".to_owned()
    } else {
        "active".to_owned()
    }
}

pub async fn audit_verify(place: Place) -> anyhow::Result<ExitCode> {
    let (store, _) = place.open().await?;
    let verdict = store.verify_audit().await?;
    store.close().await;
    match verdict {
        AuditVerification::Intact { events } => {
            println!("audit chain intact: {events} events");
            Ok(ExitCode::SUCCESS)
        }
        AuditVerification::Broken(chain_break) => {
            println!("{chain_break}");
            eprintln!("error: {chain_break}");
            Ok(ExitCode::FAILURE)
        }
    }
}
