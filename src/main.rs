//! The `rsdetect` command: parse, run one subcommand, exit with its code
//! (0 done, 1 nothing found, 2 an error on some input).

mod cli;
mod commands;

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose);
    let format = cli.progress;
    match commands::run(cli.command, format) {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) => {
            commands::progress::fatal(format, &format!("{e:#}"));
            ExitCode::from(commands::Status::Error.code())
        }
    }
}

/// Warnings and errors on stderr; `-v` adds progress notes, `-vv` debugging
/// (GDAL's own messages among them). RUST_LOG overrides both.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
}
