//! `hoshu admin target …`: the servers vendors reach through the gateway.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use hoshu_domain::{AuditEvent, AuditKind, ClipboardPolicy, Protocol};
use hoshu_storage::{NewTarget, Store};

use crate::app::state::unix_now;
use crate::sessions::engine::ssh;

#[derive(Debug, Subcommand)]
pub enum TargetCommand {
    /// Add a target; a password or key is read from a file and stored encrypted. For SSH, the
    /// server's host key is fetched and pinned, for RDP its TLS certificate (with neither
    /// --password-file nor --key-file, users are asked for the password when they open the
    /// target)
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
        /// SSH: file holding the private key to log in with (unencrypted OpenSSH or PEM)
        #[arg(long, conflicts_with = "password_file")]
        key_file: Option<PathBuf>,
        /// SSH: pin the server's host key if its fingerprint is this (`SHA256:…`, as
        /// `ssh-keygen -lf` prints it); RDP (as --accept-certificate): pin the server's
        /// certificate if its SHA-256 is this. Without it, the fingerprint is shown and asked
        /// about
        #[arg(long, value_name = "FINGERPRINT", alias = "accept-certificate")]
        accept_host_key: Option<String>,
        /// RDP: the keyboard layout the server is told: us or jis (Japanese 106/109 keys)
        #[arg(long, default_value = "us", value_parser = |s: &str| s.parse::<hoshu_rdp::keymap::Layout>().map_err(|e| e.to_string()))]
        keyboard: hoshu_rdp::keymap::Layout,
        /// RDP: the security accepted from the server: any (TLS or NLA), tls or nla
        #[arg(long, default_value = "any", value_parser = |s: &str| s.parse::<hoshu_rdp::settings::Security>().map_err(|e| e.to_string()))]
        security: hoshu_rdp::settings::Security,
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
    /// Pin the identity the server presents now, after it was changed on purpose: an SSH
    /// server's host key, an RDP server's certificate (also `accept-certificate`)
    #[command(alias = "accept-certificate")]
    AcceptHostKey {
        #[arg(long)]
        name: String,
        /// Pin only if the fingerprint is this (`SHA256:…`); without it, it is shown and asked
        /// about
        #[arg(long)]
        fingerprint: Option<String>,
    },
}

/// The identity `host:port` presents (an SSH host key, an RDP server certificate), pinned only
/// when the administrator confirmed its fingerprint: by `expected`, or by answering yes on a
/// terminal. Returns what is stored and the fingerprint shown.
async fn confirmed_identity(
    protocol: Protocol,
    host: &str,
    port: u16,
    expected: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let (stored, print, how_to_check) = if protocol == Protocol::Rdp {
        let pin = crate::sessions::engine::rdp::fetch_certificate(host, port)
            .await
            .with_context(|| format!("fetching the TLS certificate of {host}:{port}"))?;
        println!("certificate of {host}:{port}: {pin}");
        let matches = |text: &str| {
            text.parse::<hoshu_rdp::pin::CertificatePin>()
                .is_ok_and(|given| given == pin)
        };
        if let Some(expected) = expected.filter(|e| !matches(e)) {
            bail!(
                "the server presents {pin}, not {}; check the certificate on the server \
                 (`openssl x509 -in CERT -outform der | sha256sum`) before pinning it",
                expected.trim()
            );
        }
        (
            pin.to_string(),
            pin.to_string(),
            "the SHA-256 of the server's certificate",
        )
    } else {
        let key = ssh::fetch_host_key(host, port)
            .await
            .with_context(|| format!("fetching the host key of {host}:{port}"))?;
        let print = ssh::fingerprint(&key);
        println!(
            "host key of {host}:{port}: {} {print}",
            key.algorithm().as_str()
        );
        if let Some(expected) = expected.filter(|e| e.trim() != print) {
            bail!(
                "the server presents {print}, not {}; check the key on the server \
                 (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`) before pinning it",
                expected.trim()
            );
        }
        (
            ssh::openssh_line(&key),
            print,
            "the server's `ssh-keygen -lf` output",
        )
    };
    if expected.is_none() {
        if std::io::stdin().is_terminal() {
            print!("pin it? compare it with {how_to_check} [y/N] ");
            std::io::stdout().flush()?;
            let mut answer = String::new();
            std::io::stdin().lock().read_line(&mut answer)?;
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
                bail!("nothing was pinned and nothing was changed");
            }
        } else {
            let flag = if protocol == Protocol::Rdp {
                "--accept-certificate"
            } else {
                "--accept-host-key"
            };
            bail!(
                "confirm the server's identity: compare {print} with {how_to_check}, then run \
                 again with {flag} {print}"
            );
        }
    }
    Ok((stored, print))
}

/// The fingerprint of a target's pinned identity, as `add` printed it.
fn identity_print(target: &hoshu_storage::Target) -> Option<String> {
    let stored = target.host_key.as_deref()?;
    match target.protocol {
        Protocol::Ssh => ssh::parse_host_key(stored)
            .ok()
            .map(|key| ssh::fingerprint(&key)),
        _ => Some(stored.to_owned()),
    }
}

/// The whole private-key file, checked to be usable.
fn read_private_key(path: &PathBuf) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading target key file {}", path.display()))?;
    if let Err(e) = ssh::check_private_key(&text) {
        bail!(
            "the private key in {} cannot be used ({e}); give an unencrypted OpenSSH or PEM key",
            path.display()
        );
    }
    Ok(text)
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
            key_file,
            accept_host_key,
            keyboard,
            security,
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
            if protocol != Protocol::Ssh && key_file.is_some() {
                bail!("--key-file is for --protocol ssh only");
            }
            if protocol == Protocol::Vnc && accept_host_key.is_some() {
                bail!("--accept-host-key is for --protocol ssh and --accept-certificate for rdp");
            }
            // DESIGN §5: an RDP session offers no clipboard channel (cliprdr is not built yet),
            // so a policy that allows copying would promise what the gateway does not do.
            if protocol == Protocol::Rdp && clipboard != ClipboardPolicy::Off {
                bail!(
                    "the clipboard is not available for RDP targets in this version; use \
                     --clipboard off"
                );
            }
            if protocol == Protocol::Ssh
                && username.is_none()
                && (password.is_some() || key_file.is_some())
            {
                bail!(
                    "an SSH target with stored credentials needs --username (without \
                     credentials, users are asked for both when they open it)"
                );
            }
            let private_key = key_file.as_ref().map(read_private_key).transpose()?;
            // SSH and RDP: the server's identity is pinned now, so the first session already
            // checks it.
            let host_key = if protocol == Protocol::Vnc {
                None
            } else {
                Some(
                    confirmed_identity(protocol, host.trim(), port, accept_host_key.as_deref())
                        .await?,
                )
            };
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
                private_key: private_key.as_deref(),
                host_key: host_key.as_ref().map(|(line, _)| line.as_str()),
                system,
                clipboard,
                standing_access,
                demo,
                idle_timeout_secs: idle_timeout,
                max_duration_secs: max_duration,
                keyboard: &keyboard.to_string(),
                rdp_security: security.as_str(),
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
                .detail("demo", demo)
                .detail("private_key", private_key.is_some())
                .detail(
                    "host_key",
                    host_key
                        .as_ref()
                        .map_or(serde_json::Value::Null, |(_, print)| print.clone().into()),
                );
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
                            "standing_access": t.standing_access, "private_key": t.has_private_key,
                            "host_key": identity_print(t),
                            "keyboard": t.keyboard, "security": t.rdp_security,
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
        TargetCommand::AcceptHostKey { name, fingerprint } => {
            let Some(target) = store.target_by_name(&name).await? else {
                bail!("no target named {name:?}; `hoshu admin target list` shows them");
            };
            if target.protocol == Protocol::Vnc {
                bail!(
                    "target {name} is a VNC target; only SSH and RDP targets have a pinned identity"
                );
            }
            let previous = identity_print(&target);
            let (line, print) = confirmed_identity(
                target.protocol,
                &target.host,
                target.port,
                fingerprint.as_deref(),
            )
            .await?;
            store.set_target_host_key(&name, &line).await?;
            let event = AuditEvent::new(AuditKind::TargetHostKeyAccepted)
                .actor(actor)
                .subject(&name)
                .detail("host_key", print.as_str())
                .detail(
                    "previous",
                    previous.map_or(serde_json::Value::Null, Into::into),
                );
            store.append_audit(&event).await?;
            println!("target {name}: {print} pinned");
        }
    }
    Ok(ExitCode::SUCCESS)
}
