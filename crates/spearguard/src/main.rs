//! The `spearguard` binary: parses the command line, runs one command, maps the outcome to
//! an exit status (documented in `--help`), and prints errors with their causes.

mod cli;
mod commands;
mod config;
mod correlation;
mod gateway;
mod inputs;
mod labelled;
mod offline;
mod output;
mod progress;
mod staff;

use std::process::ExitCode;

use clap::Parser;

/// Exit status: every message delivered or tagged / command succeeded.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit status: a message was quarantined or rejected, or a config is invalid.
pub(crate) const EXIT_BLOCKED: u8 = 1;
/// Exit status: an error occurred.
pub(crate) const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { EXIT_OK });
        }
    };
    init_logging(cli.log_format);
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("spearguard: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Structured logs on stderr (`tracing`): text or JSON lines, level from `RUST_LOG`
/// (default `info`).
fn init_logging(format: cli::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        cli::LogFormat::Text => logs.try_init(),
        cli::LogFormat::Json => logs.json().try_init(),
    };
}
