//! `rsdetect detect`: the arguments as a request to the library's detect
//! stage, progress bars and warnings on the terminal, the summary line.

use crate::cli::DetectArgs;
use crate::commands::Status;
use anyhow::Result;
use rsdetect::detect::{DetectPlan, DetectRequest};

/// Runs detection over every input.
pub fn run(args: &DetectArgs) -> Result<Status> {
    let request = DetectRequest {
        inputs: args.inputs.clone(),
        lists: args.list.clone(),
        shard: args.shard.map(|sh| (sh.k, sh.n)),
        model: args.model.clone(),
        config: args.config.clone(),
        device: args.device,
        mode: args.mode.map(Into::into),
        score_threshold: args.score_threshold,
        tta: args.tta,
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
    let done = plan.run(&mut super::progress::Bars::new("detect"))?;
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
