//! `rsdetect suggest`: the windows of unlabelled imagery where the model is
//! least sure (detections scoring near its threshold), spread out, as a
//! GeoPackage to open in QGIS and label before the next `rsdetect train`.

use crate::cli::SuggestArgs;
use crate::commands::Status;
use anyhow::{bail, Result};
use detection::classify::PatchClassifier;
use detection::formats::detect_config::Config;
use detection::suggest::{best_of, rank_windows};
use models::TchClassifier;
use pipeline::detect::detect_raster;

/// Scores below this are not detections worth weighing.
const FLOOR: f32 = 0.02;

/// Runs `rsdetect suggest`.
pub fn run(args: &SuggestArgs) -> Result<Status> {
    if args.count == 0 || args.window == 0 {
        bail!("--count and --window must be at least 1");
    }
    super::create_parent(&args.out, "windows file")?;
    let model_path = super::model_path(args.model.as_deref())?;
    let mut classifier = TchClassifier::load(&model_path, args.device)?;
    let threshold = classifier.meta().score_threshold as f64;
    let model_gsd = classifier.meta().gsd_m;
    let config = Config { score_threshold: Some(FLOOR), ..Config::default() };
    let mut opts = config.resolve(classifier.spec())?;
    opts.declare(args.declared.declared());
    let (paths, missing) = pipeline::inputs::find_rasters(&args.inputs);
    super::check_bounds(&paths, &args.declared.declared())?;
    for e in &missing {
        eprintln!("error: {e}");
    }
    let (mut infos, mut all, mut failed) = (Vec::new(), Vec::new(), missing.len());
    for path in &paths {
        match detect_raster(path, &mut classifier, &opts, &mut |_, _| {}) {
            Ok(r) => {
                // The window's side in the raster's own pixels.
                let gsd = r.info.metres_per_pixel().unwrap_or(model_gsd);
                let side = ((args.window as f64 * model_gsd / gsd).round() as usize).max(1);
                let size = (r.info.width, r.info.height);
                all.extend(rank_windows(infos.len(), &r.detections, size, side, threshold, args.count));
                infos.push(r.info);
            }
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                failed += 1;
            }
        }
    }
    let chosen = best_of(all, args.count);
    if chosen.is_empty() {
        eprintln!("the model is sure everywhere (no detection near its threshold): nothing to suggest");
        return Ok(Status::of(failed, 0));
    }
    pipeline::suggestions::write_suggestions(&args.out, &infos, &chosen)?;
    eprintln!(
        "{} window(s) of {} px at {model_gsd:.2} m to label next -> {} (most uncertain first)",
        chosen.len(),
        args.window,
        args.out.display()
    );
    Ok(Status::of(failed, chosen.len()))
}
