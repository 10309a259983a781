//! `hoshu`: the gateway and its admin command line (DESIGN §8).
#![forbid(unsafe_code)]

mod access;
mod admin;
mod admin_devices;
mod admin_targets;
mod admin_vendors;
mod api;
mod api_access;
mod api_audit;
mod api_devices;
mod api_review;
mod api_sessions;
mod app;
mod audit_export;
mod config;
mod demo;
mod demo_target;
mod device_ca;
mod emergency;
mod i18n;
mod i18n_access;
mod i18n_ja;
mod i18n_posture;
mod lending;
mod login;
mod onboarding;
mod pages;
mod server;
mod session;
mod ssh_target;
mod state;
mod throttle;
mod tls;
mod web;
mod work;

#[cfg(test)]
mod route_tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "hoshu", version, about = "Hoshu remote maintenance gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway on its embedded defaults, with demo users (a first look; not for production)
    Demo {
        /// Data directory (database, keys, certificate)
        #[arg(long, default_value = "hoshu-demo-data")]
        data: PathBuf,
        /// Address to listen on; port 0 lets the system choose
        #[arg(long, default_value = config::DEFAULT_LISTEN)]
        listen: SocketAddr,
    },
    /// Run the gateway from a configuration file
    Serve {
        #[arg(long)]
        config: PathBuf,
    },
    /// Manage users (works while the gateway runs)
    Admin {
        #[command(flatten)]
        place: admin::Place,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Cut live sessions and refuse new ones (everything, a vendor, a target or a user) until
    /// lifted; acts on the running gateway within 1 s
    EmergencyStop(admin_vendors::EmergencyStop),
    /// Check the audit log
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Exit 0 when the audit chain is intact, 1 naming the first bad event otherwise
    Verify {
        #[command(flatten)]
        place: admin::Place,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = !matches!(cli.command, Command::Demo { .. } | Command::Serve { .. });
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                // IronRDP narrates every connection at info and warns about servers' harmless
                // quirks (xrdp's control PDU ids, fast-path codes it does not use): keep those
                // out of the gateway's log unless RUST_LOG asks.
                let base = if quiet { "warn" } else { "info" };
                tracing_subscriber::EnvFilter::new(format!(
                    "{base},ironrdp_async=warn,ironrdp_connector=error,ironrdp_session=error"
                ))
            }),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Demo { data, listen } => demo::run(data, listen).await,
            Command::Serve { config } => {
                let config = config::Config::load(&config)?;
                server::run(config).await
            }
            Command::Admin { place, command } => admin::run(place, command).await,
            Command::EmergencyStop(args) => {
                admin_vendors::emergency_stop(args, &admin::cli_actor()).await
            }
            Command::Audit {
                command: AuditCommand::Verify { place },
            } => admin::audit_verify(place).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            // One clear line: the chain of contexts, outermost first.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
