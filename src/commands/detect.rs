//! `rsdetect detect`: the arguments as a request to the library's detect
//! stage, progress bars and warnings on the terminal, the summary line.

use crate::cli::{DetectArgs, ProgressFormat};
use crate::commands::Status;
use anyhow::Result;
use detection::formats::detect_config::Config;
use rsdetect::detect::{DetectPlan, DetectRequest};

/// Runs detection over every input.
pub fn run(args: &DetectArgs, format: ProgressFormat) -> Result<Status> {
    let mut config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(mode) = args.mode {
        config.mode = Some(mode.into());
    }
    if args.score_threshold.is_some() {
        config.score_threshold = args.score_threshold;
    }
    if args.tta {
        config.tta = Some(true);
    }
    let request = DetectRequest {
        inputs: args.inputs.clone(),
        lists: args.list.clone(),
        shard: args.shard.map(|sh| (sh.k, sh.n)),
        model: args.model.clone(),
        config,
        device: args.device,
        formats: args.format.iter().map(|&f| f.into()).collect(),
        crs: args.crs.into(),
        declared: args.declared.declared(),
        out: args.out.clone(),
        force: args.force,
        quicklook: args.quicklook,
    };
    let plan = DetectPlan::resolve(request)?;
    // Ctrl-C: finish the batch in hand, keep every finished raster, say how
    // to resume; a second Ctrl-C stops at once.
    if let Err(e) = ctrlc::set_handler(|| {
        if pipeline::interrupt::requested() {
            std::process::exit(130);
        }
        pipeline::interrupt::request();
    }) {
        tracing::warn!("Ctrl-C will stop at once, not after the batch in hand: {e}");
    }
    let done = plan.run(super::progress::detect_progress(format, "detect").as_mut())?;
    let records = &done.run.inputs;
    let failed = done.run.totals.failed;
    eprintln!(
        "{} raster(s), {failed} failed, {} detections -> {}",
        records.len(),
        done.run.totals.detections,
        done.merged.display()
    );
    if done.outcome == Status::Interrupted {
        eprintln!(
            "interrupted: {} of {} rasters finished; rerun the same command to resume (finished rasters are skipped)",
            records.iter().filter(|r| r.status != detection::formats::run::InputStatus::Failed).count(),
            done.planned
        );
    }
    Ok(done.outcome)
}
