//! The suggest stage as one call: the windows of unlabelled imagery where
//! the model is least sure (detections scoring near its threshold), spread
//! out, as a GeoPackage to open in QGIS and label before the next train.

use crate::error::{Error, Result};
use detection::classify::PatchClassifier;
use detection::formats::detect_config::Config;
use detection::suggest::{best_of, rank_windows};
use models::{DeviceChoice, TchClassifier};
use pipeline::detect::detect_raster;
use pipeline::raster::Declared;
use std::path::PathBuf;

/// Scores below this are not detections worth weighing.
const FLOOR: f32 = 0.02;

/// What a suggest run is asked to do.
#[derive(Debug, Clone)]
pub struct SuggestRequest {
    /// Unlabelled rasters, or folders of them.
    pub inputs: Vec<PathBuf>,
    /// The model to ask (a file or a shipped model's name; `None`: the default).
    pub model: Option<PathBuf>,
    /// How many windows to propose.
    pub count: usize,
    /// Side of a window, pixels at the model's ground sample distance.
    pub window: usize,
    /// Where to write the windows (GeoPackage).
    pub out: PathBuf,
    /// Where the model runs.
    pub device: DeviceChoice,
    /// What the user states about rasters that lack it.
    pub declared: Declared,
}

/// What a suggest run found.
pub struct Suggested {
    /// Windows written, most uncertain first.
    pub windows: usize,
    /// Rasters read.
    pub rasters: usize,
    /// Rasters that failed.
    pub failed: usize,
    /// The model's ground sample distance, metres.
    pub model_gsd_m: f64,
}

/// Scores the rasters, ranks their windows and writes the best `count`
/// (none written when the model is sure everywhere); each raster that
/// fails is told to `on_error`.
pub fn suggest(req: &SuggestRequest, on_error: &mut dyn FnMut(&str)) -> Result<Suggested> {
    if req.count == 0 || req.window == 0 {
        return Err(Error::Nothing("--count and --window must be at least 1".into()));
    }
    crate::create_parent(&req.out, "windows file")?;
    let model_path = crate::model_path(req.model.as_deref())?;
    let mut classifier = TchClassifier::load(&model_path, req.device)?;
    let threshold = classifier.meta().score_threshold as f64;
    let model_gsd = classifier.meta().gsd_m;
    let config = Config { score_threshold: Some(FLOOR), ..Config::default() };
    let mut opts = config.resolve(classifier.spec())?;
    opts.declared = req.declared;
    let (paths, missing) = pipeline::inputs::find_rasters(&req.inputs);
    crate::check_bounds(&paths, &req.declared)?;
    for e in &missing {
        on_error(&e.to_string());
    }
    let (mut infos, mut all, mut failed) = (Vec::new(), Vec::new(), missing.len());
    for path in &paths {
        match detect_raster(path, &mut classifier, &opts, &mut |_, _| {}) {
            Ok(r) => {
                // The window's side in the raster's own pixels.
                let gsd = r.info.metres_per_pixel().unwrap_or(model_gsd);
                let side = ((req.window as f64 * model_gsd / gsd).round() as usize).max(1);
                let size = (r.info.width, r.info.height);
                all.extend(rank_windows(infos.len(), &r.detections, size, side, threshold, req.count));
                infos.push(r.info);
            }
            Err(e) => {
                on_error(&e.to_string());
                failed += 1;
            }
        }
    }
    let chosen = best_of(all, req.count);
    if !chosen.is_empty() {
        pipeline::suggestions::write_suggestions(&req.out, &infos, &chosen)?;
    }
    Ok(Suggested { windows: chosen.len(), rasters: infos.len(), failed, model_gsd_m: model_gsd })
}
