//! `hoshu-agent`: the posture collector of a lent device (DESIGN §6).
//!
//! This build collects and prints; enrolment and sending reports over mTLS come with the
//! gateway's device CA.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hoshu_domain::{PosturePolicy, evaluate, posture::is_fingerprint};

#[derive(Debug, Parser)]
#[command(name = "hoshu-agent", version, about = "Hoshu device posture agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Collect this device's posture report and print it as JSON.
    Report {
        /// Print the report instead of sending it. Required: sending needs the gateway's
        /// device enrolment, which this build does not have yet.
        #[arg(long, required = true)]
        dry_run: bool,
        /// Also evaluate the report against this policy (TOML, or JSON if the name ends in
        /// .json); the exit code is then 1 when the device is not compliant.
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// The fingerprint recorded at enrolment, for the fingerprint rule; without it the
        /// device's own fingerprint is used, so that rule passes.
        #[arg(long, value_name = "HEX", requires = "policy")]
        enrolled_fingerprint: Option<String>,
    },
}

/// A policy file is small; a larger one is a mistake.
const MAX_POLICY_BYTES: u64 = 64 * 1024;

fn read_policy(path: &Path) -> anyhow::Result<PosturePolicy> {
    let shown = path.display();
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading policy file {shown}"))?
        .len();
    if len > MAX_POLICY_BYTES {
        bail!("policy file {shown} is {len} bytes; at most {MAX_POLICY_BYTES} are read");
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading policy file {shown}"))?;
    let policy = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).with_context(|| format!("policy file {shown}"))?
    } else {
        toml::from_str(&text).with_context(|| format!("policy file {shown}"))?
    };
    Ok(policy)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Report {
            dry_run: _,
            policy,
            enrolled_fingerprint,
        } => {
            let policy = policy.as_deref().map(read_policy).transpose()?;
            if let Some(fp) = &enrolled_fingerprint
                && !is_fingerprint(fp)
            {
                bail!("--enrolled-fingerprint must be 64 lowercase hex digits");
            }
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .context("the system clock is before 1970")?
                .as_secs();
            let now = i64::try_from(now).context("the system clock is out of range")?;
            let report = hoshu_agent::collect(now).context("collecting the posture report")?;

            let Some(policy) = policy else {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(ExitCode::SUCCESS);
            };
            let enrolled = enrolled_fingerprint.unwrap_or_else(|| report.fingerprint.clone());
            let compliance = evaluate(&policy, &report, &enrolled, now);
            #[derive(serde::Serialize)]
            struct Evaluated<'a> {
                report: &'a hoshu_domain::PostureReport,
                compliance: &'a hoshu_domain::Compliance,
            }
            let out = Evaluated {
                report: &report,
                compliance: &compliance,
            };
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(if compliance.compliant {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
