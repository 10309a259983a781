//! `hoshu admin target …`: the servers vendors reach through the gateway.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use hoshu_domain::{AuditEvent, AuditKind, ClipboardPolicy, Protocol};
use hoshu_storage::{NewTarget, Store};

use crate::state::unix_now;

#[derive(Debug, Subcommand)]
pub enum TargetCommand {
    /// Add a target; a password is read from a file and stored encrypted
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = |s: &str| s.parse::<Protocol>().map_err(|e| e.to_string()))]
        protocol: Protocol,
        #[arg(long)]
        host: String,
        #[arg(long)]
        port: u16,
        #[arg(long)]
        username: Option<String>,
        /// File whose first line is the target's password (never shown to vendors)
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Business system the target belongs to
        #[arg(long)]
        system: Option<String>,
        /// Clipboard between the vendor's browser and the target
        #[arg(long, default_value = "off", value_parser = |s: &str| s.parse::<ClipboardPolicy>().map_err(|e| e.to_string()))]
        clipboard: ClipboardPolicy,
        /// Sessions allowed without a per-work approval
        #[arg(long)]
        standing_access: bool,
        /// A demo target: demo users may open it (nothing behind it to protect)
        #[arg(long)]
        demo: bool,
        /// End a session after this many seconds without input
        #[arg(long, default_value_t = 900)]
        idle_timeout: i64,
        /// End a session after this many seconds in all
        #[arg(long, default_value_t = 28_800)]
        max_duration: i64,
    },
    /// List targets
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a target (its recordings and audit events stay)
    Remove {
        #[arg(long)]
        name: String,
    },
}

/// The first line of the password file, without its line ending.
fn read_password(path: &PathBuf) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading target password file {}", path.display()))?;
    let password = text.lines().next().unwrap_or("").to_owned();
    if password.is_empty() {
        bail!(
            "target password file {} is empty; put the password on its first line",
            path.display()
        );
    }
    Ok(password)
}

pub async fn run(store: &Store, command: TargetCommand, actor: &str) -> anyhow::Result<ExitCode> {
    match command {
        TargetCommand::Add {
            name,
            protocol,
            host,
            port,
            username,
            password_file,
            system,
            clipboard,
            standing_access,
            demo,
            idle_timeout,
            max_duration,
        } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
                bail!("--name must be 1 to 64 characters without control characters");
            }
            if host.trim().is_empty() || port == 0 {
                bail!("--host must not be empty and --port must be 1 to 65535");
            }
            if idle_timeout < 10 || max_duration < 60 {
                bail!("--idle-timeout must be at least 10 s and --max-duration at least 60 s");
            }
            let password = password_file.as_ref().map(read_password).transpose()?;
            let system = system.as_deref().map(str::trim).filter(|s| !s.is_empty());
            if let Some(system) = system {
                // Contracts name systems; a target's system is one of them.
                store.ensure_system(system, "", unix_now()).await?;
            }
            let new = NewTarget {
                name,
                protocol,
                host: host.trim(),
                port,
                username: username.as_deref(),
                password: password.as_deref(),
                system,
                clipboard,
                standing_access,
                demo,
                idle_timeout_secs: idle_timeout,
                max_duration_secs: max_duration,
            };
            store.add_target(&new, unix_now()).await?;
            let event = AuditEvent::new(AuditKind::TargetAdded)
                .actor(actor)
                .subject(name)
                .detail("protocol", protocol.as_str())
                .detail("address", format!("{}:{port}", host.trim()))
                .detail("clipboard", clipboard.as_str())
                .detail("password", password.is_some())
                .detail("system", system)
                .detail("standing_access", standing_access)
                .detail("demo", demo);
            store.append_audit(&event).await?;
            println!(
                "target {name} added ({protocol} {}:{port}, clipboard {})",
                host.trim(),
                clipboard.as_str()
            );
        }
        TargetCommand::List { json } => {
            let targets = store.targets().await?;
            if json {
                let rows: Vec<serde_json::Value> = targets
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "name": t.name, "protocol": t.protocol, "host": t.host, "port": t.port,
                            "system": t.system, "clipboard": t.clipboard, "password": t.has_password,
                            "standing_access": t.standing_access,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<24} {:<5} {:<28} {:<10} SYSTEM",
                    "NAME", "PROTO", "ADDRESS", "CLIPBOARD"
                );
                for t in &targets {
                    println!(
                        "{:<24} {:<5} {:<28} {:<10} {}",
                        t.name,
                        t.protocol.as_str(),
                        format!("{}:{}", t.host, t.port),
                        t.clipboard.as_str(),
                        t.system.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        TargetCommand::Remove { name } => {
            if !store.remove_target(&name).await? {
                bail!("no target named {name:?}; `hoshu admin target list` shows them");
            }
            store
                .append_audit(
                    &AuditEvent::new(AuditKind::TargetRemoved)
                        .actor(actor)
                        .subject(&name),
                )
                .await?;
            println!("target {name} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
