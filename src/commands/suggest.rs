//! `rsdetect suggest`: the library's suggest stage, and what it found.

use crate::cli::{ProgressFormat, SuggestArgs};
use crate::commands::Status;
use anyhow::Result;
use rsdetect::suggest::{suggest, SuggestRequest};

/// Runs `rsdetect suggest`.
pub fn run(args: &SuggestArgs, format: ProgressFormat) -> Result<Status> {
    let request = SuggestRequest {
        inputs: args.inputs.clone(),
        model: args.model.clone(),
        count: args.count,
        window: args.window,
        out: args.out.clone(),
        device: args.device,
        declared: args.declared.declared(),
    };
    let done = suggest(&request, &mut super::progress::on_error(format))?;
    if done.windows == 0 {
        // Only a model that looked can be sure.
        if done.rasters > 0 {
            eprintln!("the model is sure everywhere (no detection near its threshold): nothing to suggest");
        }
        return Ok(Status::of(done.failed, 0));
    }
    eprintln!(
        "{} window(s) of {} px at {:.2} m to label next -> {} (most uncertain first)",
        done.windows,
        args.window,
        done.model_gsd_m,
        args.out.display()
    );
    Ok(Status::of(done.failed, done.windows))
}
