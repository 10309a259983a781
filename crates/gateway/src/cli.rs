//! The command line (DESIGN §8): `demo`, `serve`, `admin …`, `emergency-stop` and `audit
//! verify`. Each feature parses and runs its own subcommands (its `cli.rs`); this file only
//! finds the data and hands the command over. Exit codes: 0 ok, 1 runtime error, 2 usage error.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use hoshu_storage::Store;

use crate::app::config::{self, Config};
use crate::app::error::{OpError, storage_refusal};
use crate::ui::i18n::Lang;

#[derive(Debug, Parser)]
#[command(name = "hoshu", version, about = "Hoshu remote maintenance gateway")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway on its embedded defaults, with demo users (a first look; not for production)
    Demo {
        /// Data directory (database, keys, certificate)
        #[arg(long, default_value = "hoshu-demo-data")]
        data: PathBuf,
        /// Address to listen on; port 0 lets the system choose
        #[arg(long, default_value = config::DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Remote sessions one user may have open at once (`[session] live_per_user`)
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
        live_sessions_per_user: u32,
        /// Memory in MiB all remote desktops' framebuffers may take together
        /// (`[session] framebuffer_budget_mib`)
        #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..))]
        framebuffer_budget_mib: u64,
    },
    /// Run the gateway from a configuration file
    Serve {
        #[arg(long)]
        config: PathBuf,
    },
    /// Manage users, targets, vendors, contracts and devices (works while the gateway runs)
    Admin {
        #[command(flatten)]
        place: Place,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Cut live sessions and refuse new ones (everything, a vendor, a target or a user) until
    /// lifted; acts on the running gateway within 1 s
    EmergencyStop(crate::emergency::cli::EmergencyStop),
    /// Check the audit log
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Exit 0 when the audit chain is intact, 1 naming the first bad event otherwise
    Verify {
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Users: add, list, reset, lock, unlock
    #[command(subcommand)]
    User(crate::login::cli::UserCommand),
    /// Targets: add, list, remove
    #[command(subcommand)]
    Target(crate::targets::cli::TargetCommand),
    /// Vendors and their application flow: add, list, move, document, lend
    #[command(subcommand)]
    Vendor(crate::vendors::cli::VendorCommand),
    /// Business systems: add, list
    #[command(subcommand)]
    System(crate::vendors::cli::SystemCommand),
    /// Maintenance contracts: add, set, remove, list
    #[command(subcommand)]
    Contract(crate::vendors::cli::ContractCommand),
    /// Lent devices: add (prints an enrolment code), list, revoke
    #[command(subcommand)]
    Device(crate::devices::cli::DeviceCommand),
}

/// Where the data is: a data directory (with the embedded defaults for everything else), or the
/// gateway's configuration file (all of it: the organisation's time zone, the login settings,
/// the posture policy …).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Place {
    /// Data directory of the gateway
    #[arg(long)]
    data: Option<PathBuf>,
    /// Configuration file of the gateway
    #[arg(long)]
    config: Option<PathBuf>,
}

impl Place {
    fn config(&self) -> anyhow::Result<Config> {
        match (&self.data, &self.config) {
            (Some(data), _) => Ok(Config::embedded(
                data.clone(),
                config::DEFAULT_LISTEN
                    .parse()
                    .expect("the default address parses"),
            )),
            (None, Some(path)) => Config::load(path),
            (None, None) => bail!("give --data DIR or --config FILE"),
        }
    }

    /// The store of an existing gateway, and its configuration.
    pub async fn open(&self) -> anyhow::Result<(Store, Config)> {
        let config = self.config()?;
        let data = &config.data_dir;
        if !data.join("hoshu.db").exists() {
            bail!(
                "no Hoshu database in {}; check --data, or start the gateway once to create it",
                data.display()
            );
        }
        let store = Store::open(data)
            .await
            .with_context(|| format!("opening data directory {}", data.display()))?;
        Ok((store, config))
    }
}

/// Who did it, for the audit log: the operating-system user running the command.
pub fn cli_actor() -> String {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("cli:{who}")
}

/// The language of the command line's messages: Japanese when the locale says so (`LC_ALL`,
/// then `LC_MESSAGES`, then `LANG`, as POSIX orders them), English otherwise.
pub fn cli_lang() -> Lang {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_default();
    if locale.starts_with("ja") {
        Lang::Ja
    } else {
        Lang::En
    }
}

/// The one line an error prints: an operation's refusal in the command line's language, any
/// other error as the chain of its contexts, outermost first.
pub fn error_line(err: &anyhow::Error) -> String {
    if cli_lang() == Lang::Ja {
        let japanese = err.chain().find_map(|e| {
            if let Some(refusal) = e.downcast_ref::<OpError>() {
                return Some(refusal.message(Lang::Ja));
            }
            e.downcast_ref::<hoshu_storage::StorageError>()
                .and_then(storage_refusal)
                .map(|problem| problem.message(Lang::Ja))
        });
        if let Some(japanese) = japanese {
            return format!("エラー: {japanese}");
        }
    }
    format!("error: {err:#}")
}

/// Runs one command line to its end.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo {
            data,
            listen,
            live_sessions_per_user,
            framebuffer_budget_mib,
        } => {
            let session = crate::app::config::SessionSettings {
                live_per_user: live_sessions_per_user,
                framebuffer_budget_mib,
                ..Default::default()
            };
            crate::demo::run(data, listen, session).await
        }
        Command::Serve { config } => {
            let config = Config::load(&config)?;
            crate::app::server::run(config).await
        }
        Command::Admin { place, command } => admin(place, command).await,
        Command::EmergencyStop(args) => {
            let (store, _) = args.place.open().await?;
            let result = crate::emergency::cli::run(&store, args, &cli_actor()).await;
            store.close().await;
            result
        }
        Command::Audit {
            command: AuditCommand::Verify { place },
        } => {
            let (store, _) = place.open().await?;
            let result = crate::audit::cli::verify(&store).await;
            store.close().await;
            result
        }
    }
}

async fn admin(place: Place, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let (store, config) = place.open().await?;
    let actor = cli_actor();
    let result = match command {
        AdminCommand::User(c) => crate::login::cli::run(&store, &config, c, &actor).await,
        AdminCommand::Target(c) => crate::targets::cli::run(&store, c, &actor).await,
        AdminCommand::Vendor(c) => crate::vendors::cli::vendor(&store, &config, c, &actor).await,
        AdminCommand::System(c) => crate::vendors::cli::system(&store, c, &actor).await,
        AdminCommand::Contract(c) => {
            crate::vendors::cli::contract(&store, &config, c, &actor).await
        }
        AdminCommand::Device(c) => crate::devices::cli::run(&store, &config, c, &actor).await,
    };
    store.close().await;
    result
}
