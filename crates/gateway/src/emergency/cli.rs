//! `hoshu emergency-stop`: acts on the running gateway within 1 s.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use hoshu_storage::Store;

use crate::emergency::{self, Scope};

/// `hoshu emergency-stop`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["all", "vendor", "target", "user"])))]
pub struct EmergencyStop {
    #[command(flatten)]
    pub place: crate::cli::Place,
    /// Every session of everyone
    #[arg(long)]
    all: bool,
    #[arg(long)]
    vendor: Option<String>,
    #[arg(long)]
    target: Option<String>,
    #[arg(long)]
    user: Option<String>,
    /// Why (shown to the users whose sessions are cut); required unless --lift
    #[arg(long, required_unless_present = "lift")]
    reason: Option<String>,
    /// Lift the stop with this scope instead
    #[arg(long, conflicts_with = "reason")]
    lift: bool,
}

/// Runs `hoshu emergency-stop` on the store `args.place` named (the caller opened it).
pub async fn run(store: &Store, args: EmergencyStop, actor: &str) -> anyhow::Result<ExitCode> {
    let scope = match (args.all, args.vendor, args.target, args.user) {
        (true, ..) => Scope::All,
        (_, Some(v), ..) => Scope::Vendor(v),
        (_, _, Some(t), _) => Scope::Target(t),
        (_, _, _, Some(u)) => Scope::User(u),
        _ => bail!("give --all, --vendor V, --target T or --user U"),
    };
    let result = if args.lift {
        emergency::lift(store, &scope, actor)
            .await
            .map(|n| println!("emergency stop lifted ({n}); new sessions are allowed again"))
    } else {
        let reason = args.reason.unwrap_or_default();
        emergency::stop(store, &scope, &reason, actor)
            .await
            .map(|id| {
                println!(
                    "emergency stop {id} in force; matching live sessions are cut within 1 s \
                     and new ones refused until it is lifted (--lift)"
                )
            })
    };
    result?;
    Ok(ExitCode::SUCCESS)
}
