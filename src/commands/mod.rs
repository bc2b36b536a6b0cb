//! One module per subcommand; each returns how the run went.

mod calibrate;
mod candidates;
mod detect;
mod devices;
mod evaluate;
mod explain;
mod info;
mod merge;
mod models;
pub mod progress;
mod suggest;
mod train;

use crate::cli::{Command, ProgressFormat};

/// How a run ended (the library's rule and exit codes).
pub use rsdetect::Outcome as Status;

/// A progress bar over `len` rasters, labelled `prefix`.
pub(crate) fn rasters_bar(prefix: &'static str, len: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} rasters {elapsed}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix);
    bar
}

/// Runs one subcommand.
pub fn run(command: Command, format: ProgressFormat) -> anyhow::Result<Status> {
    match command {
        Command::Info(args) => info::run(&args),
        Command::Candidates(args) => candidates::run(&args),
        Command::Detect(args) => detect::run(&args, format),
        Command::Train(args) => train::run(&args, format),
        Command::Calibrate(args) => calibrate::run(&args, format),
        Command::Evaluate(args) => evaluate::run(&args, format),
        Command::Explain(args) => explain::run(&args, format),
        Command::Merge(args) => merge::run(&args),
        Command::Devices(args) => devices::run(&args),
        Command::Models(args) => models::run(&args),
        Command::Suggest(args) => suggest::run(&args, format),
    }
}
