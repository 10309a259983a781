//! Running the operating system's tools, bounded in output and time.
//!
//! Collectors ask for a command's output through [`Commands`], so each collector runs in the
//! tests here against recorded outputs ([`Recorded`]) as well as against the real system
//! ([`HostCommands`]).

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// At most this much of a command's standard output is read; more is an error.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;
/// At most this much of a command's standard error is kept for the error message.
const MAX_STDERR_BYTES: usize = 4096;
/// A command that has not finished by then is killed (PowerShell's start-up is the slowest).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{program} is not installed (not found on PATH)")]
    NotFound { program: String },
    #[error("starting {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("reading the output of {program}: {source}")]
    Read {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("{program} printed more than {MAX_OUTPUT_BYTES} bytes")]
    TooLarge { program: String },
    #[error("{program} did not finish within {} s", COMMAND_TIMEOUT.as_secs())]
    TimedOut { program: String },
}

/// Runs a program with arguments and returns its standard output.
pub trait Commands {
    fn run(&self, program: &str, args: &[&str]) -> Result<Vec<u8>, CommandError>;
}

/// The real operating system.
#[derive(Debug, Default, Clone, Copy)]
pub struct HostCommands;

impl Commands for HostCommands {
    fn run(&self, program: &str, args: &[&str]) -> Result<Vec<u8>, CommandError> {
        let name = || program.to_owned();
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("LC_ALL", "C")
            .spawn()
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => CommandError::NotFound { program: name() },
                _ => CommandError::Spawn {
                    program: name(),
                    source,
                },
            })?;

        // Both pipes are drained on their own threads so a chatty child never blocks on a full
        // pipe while we wait for it; each read stops one byte past its limit.
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            return Err(CommandError::Spawn {
                program: name(),
                source: std::io::Error::other("no pipes to the child"),
            });
        };
        let (out_tx, out_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = Vec::new();
            let result = stdout
                .take(MAX_OUTPUT_BYTES as u64 + 1)
                .read_to_end(&mut buf)
                .map(|_| buf);
            let _ = out_tx.send(result);
        });
        let (err_tx, err_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.take(MAX_STDERR_BYTES as u64).read_to_end(&mut buf);
            let _ = err_tx.send(buf);
        });

        let deadline = Instant::now() + COMMAND_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(CommandError::TimedOut { program: name() });
                }
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(source) => {
                    return Err(CommandError::Read {
                        program: name(),
                        source,
                    });
                }
            }
        };
        let stdout = out_rx
            .recv_timeout(Duration::from_secs(5))
            .map_err(|_| CommandError::TimedOut { program: name() })?
            .map_err(|source| CommandError::Read {
                program: name(),
                source,
            })?;
        if stdout.len() > MAX_OUTPUT_BYTES {
            return Err(CommandError::TooLarge { program: name() });
        }
        if !status.success() {
            let stderr = err_rx
                .recv_timeout(Duration::from_secs(1))
                .unwrap_or_default();
            return Err(CommandError::Failed {
                program: name(),
                status: status.to_string(),
                stderr: String::from_utf8_lossy(&stderr).trim().to_owned(),
            });
        }
        Ok(stdout)
    }
}

/// Outputs recorded on a real system, replayed by program name and arguments; a command with
/// no recording is "not installed". For tests and for trying a collector on another machine's
/// outputs.
#[derive(Debug, Default)]
pub struct Recorded {
    outputs: Vec<(String, Result<Vec<u8>, String>)>,
}

impl Recorded {
    /// `command` is the program and its arguments joined by single spaces.
    pub fn output(mut self, command: &str, stdout: impl Into<Vec<u8>>) -> Self {
        self.outputs.push((command.to_owned(), Ok(stdout.into())));
        self
    }

    /// The command exists but fails with this standard error.
    pub fn failure(mut self, command: &str, stderr: &str) -> Self {
        self.outputs
            .push((command.to_owned(), Err(stderr.to_owned())));
        self
    }
}

impl Commands for Recorded {
    fn run(&self, program: &str, args: &[&str]) -> Result<Vec<u8>, CommandError> {
        let mut command = program.to_owned();
        for arg in args {
            command.push(' ');
            command.push_str(arg);
        }
        match self.outputs.iter().find(|(c, _)| *c == command) {
            Some((_, Ok(stdout))) => Ok(stdout.clone()),
            Some((_, Err(stderr))) => Err(CommandError::Failed {
                program: program.to_owned(),
                status: "exit status: 1".to_owned(),
                stderr: stderr.clone(),
            }),
            None => Err(CommandError::NotFound {
                program: program.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_commands_report_output_absence_and_failure() {
        let out = HostCommands.run("sh", &["-c", "printf 'a\\nb'"]).unwrap();
        assert_eq!(out, b"a\nb");

        let err = HostCommands.run("hoshu-no-such-tool", &[]).unwrap_err();
        assert!(matches!(err, CommandError::NotFound { .. }), "{err}");

        let err = HostCommands
            .run("sh", &["-c", "echo 'nft: permission denied' >&2; exit 1"])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "sh failed (exit status: 1): nft: permission denied"
        );
    }

    #[test]
    fn host_commands_bound_the_output() {
        // 2 MiB of zeros: refused, and the child does not hang on a full pipe.
        let err = HostCommands
            .run("sh", &["-c", "head -c 2097152 /dev/zero"])
            .unwrap_err();
        assert!(matches!(err, CommandError::TooLarge { .. }), "{err}");
    }
}
