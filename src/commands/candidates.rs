//! `rsdetect candidates`: where detection would look, without a model, so a
//! user can check thresholds and window grids in a GIS first.

use crate::cli::CandidatesArgs;
use crate::commands::Status;
use anyhow::Result;
use detection::classify::{ClassifyError, PatchBatch, PatchClassifier, PatchSpec};
use detection::formats::detect_config::{Config, Mode};
use pipeline::detect::detect_raster;
use pipeline::export::{self, FeatureSet, OutputCrs};

/// Accepts every candidate: the stream's patches are counted, not judged.
struct Everything(PatchSpec);

impl PatchClassifier for Everything {
    fn spec(&self) -> &PatchSpec {
        &self.0
    }
    fn scores(&mut self, batch: &PatchBatch) -> Result<Vec<f32>, ClassifyError> {
        Ok(vec![1.0; batch.len])
    }
    fn describe(&self) -> String {
        "none (candidates only)".into()
    }
}

/// Writes every raster's candidates to one GeoJSON file.
pub fn run(args: &CandidatesArgs) -> Result<Status> {
    rsdetect::create_parent(&args.out, "candidates file")?;
    let mut config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    config.mode = Some(args.mode.map(Mode::from).or(config.mode).unwrap_or(Mode::Candidates));
    if config.mode == Some(Mode::Dense) {
        anyhow::bail!("dense mode scores windows with a model; use --mode sliding to see the windows");
    }
    config.score_threshold = Some(0.0);
    config.suppression_m = Some(0.0);
    let mut all: Option<FeatureSet> = None;
    let mut failed = 0;
    let (paths, missing) = pipeline::inputs::find_rasters(&args.inputs);
    rsdetect::check_bounds(&paths, &args.declared.declared())?;
    for e in &missing {
        eprintln!("error: {e}");
    }
    for path in &paths {
        let outcome = (|| -> Result<FeatureSet> {
            let raster = pipeline::Raster::open_declared(path, &args.declared.declared())?;
            let bands: Vec<usize> = (1..=raster.band_count().min(3)).collect();
            // Candidates are shown at the raster's own resolution.
            let spec = PatchSpec {
                bands,
                patch: args.patch,
                gsd_m: raster.info().metres_per_pixel(),
                classes: vec!["background".into(), "candidate".into()],
                positive: 1,
                score_threshold: 0.0,
                suppression_m: 0.0,
                dense_stride: None,
                heatmap: false,
                data_type: None,
                training_stats: None,
                learned_gsd_m: None,
                halo: None,
                tile: None,
            };
            let mut opts = config.resolve(&spec)?;
            opts.declared = args.declared.declared();
            let r = detect_raster(path, &mut Everything(spec), &opts, &mut |_, _| {})?;
            eprintln!("{}: {} candidates", path.display(), r.detections.len());
            Ok(export::features(&r, "candidate", OutputCrs::Wgs84)?)
        })();
        match (outcome, &mut all) {
            (Ok(set), None) => all = Some(set),
            (Ok(set), Some(a)) if a.crs == set.crs => a.features.extend(set.features),
            (Ok(_), Some(_)) => {
                tracing::warn!("{}: left out of {}, which is in another CRS", path.display(), args.out.display())
            }
            (Err(e), _) => {
                eprintln!("error: {}: {e:#}", path.display());
                failed += 1;
            }
        }
    }
    let set = all.unwrap_or(FeatureSet { crs: export::FeatureCrs::Wgs84, features: vec![] });
    export::write_atomic(&args.out, export::geojson(&set).as_bytes())?;
    Ok(Status::of(failed + missing.len(), set.features.len()))
}
