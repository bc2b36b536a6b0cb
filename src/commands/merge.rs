//! `rsdetect merge`: the library's merge of shard folders, and its line.

use crate::cli::MergeArgs;
use crate::commands::Status;
use anyhow::Result;

/// Copies every shard's per-input files and writes the merged file.
pub fn run(args: &MergeArgs) -> Result<Status> {
    let done = rsdetect::merge::merge(&args.dirs, &args.out)?;
    eprintln!(
        "{} raster(s) from {} folder(s), {} detections -> {}",
        done.run.inputs.len(),
        args.dirs.len(),
        done.run.totals.detections,
        done.file.display()
    );
    Ok(Status::of(0, done.run.totals.detections))
}
