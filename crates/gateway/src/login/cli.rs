//! `hoshu admin user …`: users from the command line.

use std::process::ExitCode;

use clap::Subcommand;
use hoshu_domain::{AuditEvent, AuditKind, Role};
use hoshu_storage::{NewUser, Store, User};

use crate::app::config::{Config, LoginSettings};
use crate::app::state::unix_now;
use crate::login::{new_registration_code, registration_code_hash};

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

/// The lock-outs after failed answers that hold now, if any: without the user's lent device,
/// on it, or both (failures on the device are counted apart).
fn locked_out(user: &User, now: i64) -> Option<String> {
    let left = |state: &hoshu_domain::LoginState| {
        state
            .locked_until
            .filter(|_| state.is_locked(now))
            .map(|until| until - now)
    };
    match (left(&user.login_state), left(&user.device_login_state)) {
        (Some(a), Some(d)) => Some(format!("locked out ({} s left)", a.max(d))),
        (Some(a), None) => Some(format!("locked out except on the lent device ({a} s left)")),
        (None, Some(d)) => Some(format!("locked out on the lent device ({d} s left)")),
        (None, None) => None,
    }
}

/// One word (or a few) on whether the user can log in now.
fn status(user: &User, now: i64) -> String {
    if user.admin_locked {
        "locked (by administrator)".to_owned()
    } else if let Some(out) = locked_out(user, now) {
        out
    } else if !user.registered {
        "awaiting registration".to_owned()
    } else {
        "active".to_owned()
    }
}

/// Runs `hoshu admin user …`.
pub async fn run(
    store: &Store,
    config: &Config,
    command: UserCommand,
    actor: &str,
) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add {
            login,
            name,
            role,
            vendor,
            demo_days,
            manager,
        } => {
            // The command line names its own option; the refusal the pages share does not.
            if role == Role::Vendor && vendor.is_none() {
                anyhow::bail!("a vendor user needs a vendor (company): give --vendor V");
            }
            let new = NewUser {
                login: &login,
                name: &name,
                role,
                vendor: vendor.as_deref(),
            };
            let code =
                crate::login::add_user(store, &config.login, &new, demo_days, manager, actor)
                    .await?;
            println!(
                "user {} added; give them this one-time registration code (valid {} h):",
                login.trim(),
                config.login.registration_code_ttl_hours
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
            let code = issue_code(store, &user, &config.login).await?;
            store
                .append_audit(
                    &AuditEvent::new(AuditKind::UserReset)
                        .actor(actor)
                        .subject(&user.login),
                )
                .await?;
            println!(
                "pattern of {} forgotten and sessions ended; new one-time registration code (valid {} h):",
                user.login, config.login.registration_code_ttl_hours
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
    Ok(ExitCode::SUCCESS)
}
