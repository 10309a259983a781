//! `hoshu-agent`: the posture collector of a lent device (DESIGN §6).
//!
//! `enroll` gets the device's client certificate from the gateway's device CA and writes a
//! PKCS#12 of it for the browser; `pkcs12` writes that file again; `report` sends one posture
//! report over mTLS with it (or prints it with `--dry-run`).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hoshu_agent::enrol::{self, DeviceFiles};
use hoshu_domain::{PosturePolicy, evaluate, posture::is_fingerprint};

#[derive(Debug, Parser)]
#[command(name = "hoshu-agent", version, about = "Hoshu device posture agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enrol this device with the gateway using the one-time code the administrator gave.
    Enroll {
        /// The gateway's address, e.g. https://gateway.example:8443
        #[arg(long, value_name = "URL")]
        gateway: String,
        #[arg(long, value_name = "CODE")]
        code: String,
        #[command(flatten)]
        place: Place,
        #[command(flatten)]
        pkcs12: Pkcs12Password,
    },
    /// Write the PKCS#12 for the browser (device.p12) again from the enrolled files, with a new
    /// password (printed once) or the one in --p12-password-file.
    Pkcs12 {
        #[command(flatten)]
        place: Place,
        #[command(flatten)]
        pkcs12: Pkcs12Password,
    },
    /// Show what the gateway last decided about this device, with the reasons.
    Status {
        #[arg(long, value_name = "URL")]
        gateway: String,
        #[command(flatten)]
        place: Place,
    },
    /// Send a posture report every 60 s (or --every) until stopped.
    Run {
        #[arg(long, value_name = "URL")]
        gateway: String,
        #[command(flatten)]
        place: Place,
        /// Seconds between reports
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=3600))]
        every: u64,
    },
    /// Collect this device's posture report and send it (or print it with --dry-run).
    Report {
        /// Print the report instead of sending it.
        #[arg(long, conflicts_with = "gateway")]
        dry_run: bool,
        /// The gateway to send the report to (mTLS with the enrolled certificate).
        #[arg(long, value_name = "URL", required_unless_present = "dry_run")]
        gateway: Option<String>,
        #[command(flatten)]
        place: Place,
        /// With --dry-run: also evaluate the report against this policy (TOML, or JSON if the
        /// name ends in .json); the exit code is then 1 when the device is not compliant.
        #[arg(long, value_name = "FILE", requires = "dry_run")]
        policy: Option<PathBuf>,
        /// The fingerprint recorded at enrolment, for the fingerprint rule; without it the
        /// device's own fingerprint is used, so that rule passes.
        #[arg(long, value_name = "HEX", requires = "policy")]
        enrolled_fingerprint: Option<String>,
    },
}

/// Reports every `every` seconds until stopped; a failed report (gateway down, a refusal) is
/// said on stderr and the next one tried, since the gateway decides what silence means.
fn run_forever(gateway: &str, place: &Place, every: u64) -> anyhow::Result<ExitCode> {
    let files = place.files()?;
    let client = enrol::client(place.gateway_ca()?.as_deref(), Some(files.identity()?))?;
    let runtime = runtime()?;
    loop {
        let sent = hoshu_agent::collect(unix_now()?)
            .context("collecting the posture report")
            .and_then(|report| {
                runtime
                    .block_on(enrol::send_report(&client, gateway, &report))
                    .context("sending the posture report")
            });
        match sent {
            Ok(verdict) if verdict["compliant"] == true => println!("compliant"),
            Ok(verdict) => {
                let reasons: Vec<&str> = verdict["reasons"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["message"].as_str())
                    .collect();
                println!("not compliant: {}", reasons.join("; "));
            }
            Err(e) => eprintln!("error: {e:#}"),
        }
        std::thread::sleep(std::time::Duration::from_secs(every));
    }
}

#[derive(Debug, clap::Args)]
struct Pkcs12Password {
    /// Protect device.p12 with the password on this file's first line instead of a new one
    #[arg(long, value_name = "FILE")]
    p12_password_file: Option<PathBuf>,
}

impl Pkcs12Password {
    /// The password, and whether it is new (then it is printed, once).
    fn password(&self) -> anyhow::Result<(String, bool)> {
        let Some(path) = &self.p12_password_file else {
            return Ok((enrol::new_pkcs12_password(), true));
        };
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --p12-password-file {shown}"))?;
        let password = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if password.is_empty() {
            bail!("--p12-password-file {shown}: the first line is empty; write the password there");
        }
        Ok((password.to_owned(), false))
    }
}

/// Writes device.p12 and says, once, its password and how to import it into the browser.
fn write_pkcs12(files: &DeviceFiles, password: &str, new: bool) -> anyhow::Result<()> {
    files.write_pkcs12(password)?;
    // The whole path: the import steps are followed in other programs and directories.
    let absolute = std::path::absolute(&files.pkcs12).unwrap_or_else(|_| files.pkcs12.clone());
    let path = absolute.display();
    println!();
    println!("ブラウザ用の証明書ファイル (PKCS#12) / certificate file for the browser: {path}");
    if new {
        println!("パスワード / password (この表示限り / shown only now): {password}");
    } else {
        println!(
            "パスワード / password: --p12-password-file のもの / the one in --p12-password-file"
        );
    }
    println!(
        "
ブラウザへの取り込み方(取り込み後、ブラウザを再起動してください):
  Windows: {path} をダブルクリック →「証明書のインポート ウィザード」で「現在のユーザー」を選び、
           上のパスワードを入力、証明書ストアは「個人」を選びます。
           コマンドでは: certutil -user -importPFX \"{path}\"
  macOS:   キーチェーンアクセスの「ファイル」→「読み込む」で {path} を「ログイン」キーチェーンに、
           またはターミナルで: security import \"{path}\" -k ~/Library/Keychains/login.keychain-db
  Linux:   Chromium / Chrome: pk12util -i \"{path}\" -d sql:$HOME/.pki/nssdb
           (pk12util は libnss3-tools パッケージ。データベースが無いときは先に
            mkdir -p ~/.pki/nssdb && certutil -d sql:$HOME/.pki/nssdb -N --empty-password)
           Firefox: 設定 → プライバシーとセキュリティ → 証明書を表示 →「あなたの証明書」→ 読み込む

How to import it into the browser (restart the browser afterwards):
  Windows: double-click {path} → Certificate Import Wizard: choose Current User, enter the
           password above, and place it in the Personal store.
           Or: certutil -user -importPFX \"{path}\"
  macOS:   Keychain Access → File → Import Items… into the login keychain, or in Terminal:
           security import \"{path}\" -k ~/Library/Keychains/login.keychain-db
  Linux:   Chromium / Chrome: pk12util -i \"{path}\" -d sql:$HOME/.pki/nssdb
           (pk12util is in the libnss3-tools package; without a database yet, first
            mkdir -p ~/.pki/nssdb && certutil -d sql:$HOME/.pki/nssdb -N --empty-password)
           Firefox: Settings → Privacy & Security → View Certificates → Your Certificates → Import"
    );
    Ok(())
}

/// Where the agent keeps its files and whom it trusts.
#[derive(Debug, clap::Args)]
struct Place {
    /// The gateway's TLS certificate (PEM) to trust instead of the public roots, for a
    /// gateway with a self-signed certificate.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Directory of the device's key and certificates [default: ~/.config/hoshu-agent]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl Place {
    fn files(&self) -> anyhow::Result<DeviceFiles> {
        let dir = match &self.dir {
            Some(dir) => dir.clone(),
            None => {
                let home = std::env::var_os("HOME")
                    .or_else(|| std::env::var_os("USERPROFILE"))
                    .context("neither HOME nor USERPROFILE is set; give --dir")?;
                PathBuf::from(home).join(".config").join("hoshu-agent")
            }
        };
        Ok(DeviceFiles::in_dir(&dir))
    }

    fn gateway_ca(&self) -> anyhow::Result<Option<Vec<u8>>> {
        self.ca_file
            .as_deref()
            .map(|path| {
                std::fs::read(path).with_context(|| format!("reading --ca-file {}", path.display()))
            })
            .transpose()
    }
}

fn unix_now() -> anyhow::Result<i64> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    i64::try_from(now).context("the system clock is out of range")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the network runtime")
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
        Command::Pkcs12 { place, pkcs12 } => {
            let (password, new) = pkcs12.password()?;
            write_pkcs12(&place.files()?, &password, new)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Enroll {
            gateway,
            code,
            place,
            pkcs12,
        } => {
            let files = place.files()?;
            // Before the code is used up: a bad password file must not cost an enrolment.
            let (password, new) = pkcs12.password()?;
            let report =
                hoshu_agent::collect(unix_now()?).context("collecting the hardware fingerprint")?;
            let client = enrol::client(place.gateway_ca()?.as_deref(), None)?;
            let enrolled = runtime()?
                .block_on(enrol::enroll(&client, &gateway, &code, &report.fingerprint))
                .context("enrolling")?;
            files.store(&enrolled)?;
            println!(
                "enrolled; certificate in {}, key in {} (readable by you only)",
                files.certificate.display(),
                files.key.display()
            );
            write_pkcs12(&files, &password, new)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            gateway,
            place,
            every,
        } => run_forever(&gateway, &place, every),
        Command::Status { gateway, place } => {
            let files = place.files()?;
            let client = enrol::client(place.gateway_ca()?.as_deref(), Some(files.identity()?))?;
            let status = runtime()?
                .block_on(enrol::status(&client, &gateway))
                .context("asking the gateway")?;
            println!("{}", serde_json::to_string_pretty(&status)?);
            Ok(if status["compliant"] == true {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Report {
            dry_run: false,
            gateway: Some(gateway),
            place,
            ..
        } => {
            let files = place.files()?;
            let client = enrol::client(place.gateway_ca()?.as_deref(), Some(files.identity()?))?;
            let report =
                hoshu_agent::collect(unix_now()?).context("collecting the posture report")?;
            let verdict = runtime()?
                .block_on(enrol::send_report(&client, &gateway, &report))
                .context("sending the posture report")?;
            println!("{}", serde_json::to_string_pretty(&verdict)?);
            Ok(if verdict["compliant"] == true {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Report {
            policy,
            enrolled_fingerprint,
            ..
        } => {
            let policy = policy.as_deref().map(read_policy).transpose()?;
            if let Some(fp) = &enrolled_fingerprint
                && !is_fingerprint(fp)
            {
                bail!("--enrolled-fingerprint must be 64 lowercase hex digits");
            }
            let now = unix_now()?;
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
