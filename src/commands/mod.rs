//! One module per subcommand; each returns how the run went.

pub mod calibrate;
mod candidates;
pub mod detect;
mod devices;
mod evaluate;
mod info;
mod merge;
mod train;

use crate::cli::Command;
use std::process::ExitCode;

/// How a run ended, as the exit code tells scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything done (exit 0).
    Ok,
    /// Ran fine but found nothing (exit 1), as grep does.
    NothingFound,
    /// At least one input failed (exit 2); the others were still processed.
    Error,
    /// Stopped by Ctrl-C (exit 130, as shells report SIGINT); what was
    /// finished is kept, and rerunning the command resumes.
    Interrupted,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(match s {
            Status::Ok => 0,
            Status::NothingFound => 1,
            Status::Error => 2,
            Status::Interrupted => 130,
        })
    }
}

/// Rasters under `inputs` (files, or folders searched recursively), kept
/// to the names in `list` when given (one per line, extension optional).
pub fn select_rasters(
    inputs: &[std::path::PathBuf],
    list: Option<&std::path::Path>,
) -> anyhow::Result<(Vec<std::path::PathBuf>, Vec<pipeline::Error>)> {
    use anyhow::Context;
    let (mut found, errors) = pipeline::inputs::find_rasters(inputs);
    if let Some(list) = list {
        let text =
            std::fs::read_to_string(list).with_context(|| format!("{}: cannot read the list", list.display()))?;
        let stem = |p: &std::path::Path| p.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        let names: std::collections::HashSet<String> =
            text.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| stem(std::path::Path::new(l))).collect();
        found.retain(|p| names.contains(&stem(p)));
        if found.len() < names.len() {
            tracing::warn!("{}: {} of {} listed rasters found", list.display(), found.len(), names.len());
        }
    }
    Ok((found, errors))
}

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<Status> {
    match command {
        Command::Info(args) => info::run(&args),
        Command::Candidates(args) => candidates::run(&args),
        Command::Detect(args) => detect::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::Evaluate(args) => evaluate::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Devices(args) => devices::run(&args),
    }
}
