//! `hoshu`: the gateway and its admin command line (DESIGN §8), a thin shell over the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = hoshu_gateway::cli::Cli::parse();
    let quiet = !matches!(
        cli.command,
        hoshu_gateway::cli::Command::Demo { .. } | hoshu_gateway::cli::Command::Serve { .. }
    );
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                // IronRDP narrates every connection at info and warns about servers' harmless
                // quirks (xrdp's control PDU ids, fast-path codes it does not use): keep those
                // out of the gateway's log unless RUST_LOG asks. russh warns once for every
                // global request a server sends, which a hostile SSH target repeats at will.
                let base = if quiet { "warn" } else { "info" };
                tracing_subscriber::EnvFilter::new(format!(
                    "{base},ironrdp_async=warn,ironrdp_connector=error,ironrdp_session=error,russh=error"
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
    match runtime.block_on(hoshu_gateway::cli::run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}", hoshu_gateway::cli::error_line(&err));
            ExitCode::FAILURE
        }
    }
}
