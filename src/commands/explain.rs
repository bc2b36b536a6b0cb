//! `rsdetect explain`: the library's explain stage, with a bar over the
//! rasters and the summary line.

use crate::cli::{ExplainArgs, ProgressFormat};
use crate::commands::Status;
use anyhow::Result;
use rsdetect::explain::{explain, ExplainRequest};

/// Explains the chosen detections of every raster.
pub fn run(args: &ExplainArgs, format: ProgressFormat) -> Result<Status> {
    let request = ExplainRequest {
        detections: args.detections.clone(),
        out: args.out.clone(),
        model: args.model.clone(),
        ids: args.ids.clone(),
        min_score: args.min_score,
        max_score: args.max_score,
        top: args.top,
        bottom: args.bottom,
        all: args.all,
        device: args.device,
    };
    let done = explain(&request, super::progress::detect_progress(format, "explain").as_mut())?;
    println!(
        "{} detection(s) of {} raster(s) explained, {} failed -> {}",
        done.record.explained.len(),
        done.rasters,
        done.failed,
        done.file.display()
    );
    Ok(Status::of(done.failed, done.record.explained.len()))
}
