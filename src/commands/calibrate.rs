//! `rsdetect calibrate`: the operating point (score threshold and
//! suppression distance) that maximises F1 on validation rasters under the
//! evaluation's matching rule, written into the model file.

use crate::cli::{CalibrateArgs, ProgressFormat};
use crate::commands::Status;
use anyhow::Result;
use detection::formats::train_config::CalibrateSection;
use rsdetect::calibration::calibrate_model;

/// Runs `rsdetect calibrate`.
pub fn run(args: &CalibrateArgs, format: ProgressFormat) -> Result<Status> {
    let sets = rsdetect::outputs::select_sets(&args.images, &args.list)?;
    let rasters: Vec<std::path::PathBuf> = sets.iter().flat_map(|(_, r)| r.iter().cloned()).collect();
    rsdetect::check_bounds(&rasters, &args.declared.declared())?;
    let labels = pipeline::labels::read_label_files(&args.labels)?;
    let section = CalibrateSection { rule: args.rule, tta: args.tta, ..CalibrateSection::default() };
    calibrate_model(
        &args.model,
        &sets,
        &labels,
        &section,
        args.device,
        args.declared.declared(),
        super::progress::calibration_progress(format).as_mut(),
    )?;
    Ok(Status::Ok)
}
