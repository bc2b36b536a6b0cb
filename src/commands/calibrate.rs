//! `rsdetect calibrate`: the operating point (score threshold and
//! suppression distance) that maximises F1 on validation rasters under the
//! evaluation's matching rule, written into the model file.

use crate::classifier::TchClassifier;
use crate::cli::CalibrateArgs;
use crate::commands::Status;
use crate::config::Config;
use anyhow::{Context, Result};
use pipeline::classify::PatchClassifier;
use pipeline::detect::detect_raster;
use pipeline::evaluate::{match_counts, sweep_thresholds, Counts, MatchRule, ScoredBox, Truth};
use pipeline::labels::{find_label_files, labels_in_raster, read_labels, LabelFile};
use pipeline::merge::Detection;
use serde::{Deserialize, Serialize};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// `[calibrate]` of a training config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalibrateSection {
    /// The matching rule to optimise.
    #[serde(rename = "match")]
    pub rule: String,
    /// Suppression distances to try, metres.
    pub suppression_m: Vec<f64>,
    /// Heatmap networks: choose the operating point with scores averaged
    /// over flips and rotations, and have detect average them too.
    pub tta: bool,
}

impl Default for CalibrateSection {
    fn default() -> Self {
        CalibrateSection { rule: "distance:6".into(), suppression_m: vec![3.0, 4.0, 5.0], tta: false }
    }
}

/// Runs `rsdetect calibrate`.
pub fn run(args: &CalibrateArgs) -> Result<Status> {
    let (paths, errors) = crate::commands::select_rasters(&args.images, args.list.as_deref())?;
    if let Some(e) = errors.first() {
        anyhow::bail!("{e}");
    }
    let labels: Vec<LabelFile> =
        find_label_files(&args.labels)?.iter().map(|p| read_labels(p)).collect::<Result<_, _>>()?;
    let section = CalibrateSection { rule: args.rule.to_string(), tta: args.tta, ..CalibrateSection::default() };
    calibrate_model(&args.model, &paths, &labels, &section, args.device, args.input_gsd)?;
    Ok(Status::Ok)
}

/// Detections (all above a low floor) and labels of each validation
/// raster, in its pixels, with metres per pixel.
type Scene = (Vec<Detection>, Vec<Truth>, f64);

/// Chooses and stores the operating point of the model at `model_path`.
pub fn calibrate_model(
    model_path: &Path,
    rasters: &[PathBuf],
    labels: &[LabelFile],
    section: &CalibrateSection,
    device: models::DeviceChoice,
    input_gsd: Option<f64>,
) -> Result<()> {
    let rule: MatchRule = section.rule.parse().map_err(anyhow::Error::msg)?;
    let mut classifier = TchClassifier::load(model_path, device)?;
    classifier.set_tta(section.tta);
    // Labels and pixel size per raster do not depend on the suppression tried.
    let mut truths: Vec<(Vec<Truth>, f64)> = Vec::with_capacity(rasters.len());
    for path in rasters {
        let raster = pipeline::Raster::open(path)?;
        let truth =
            labels_in_raster(labels, &raster)?.into_iter().map(|l| Truth { centre: l.centre, bbox: l.bbox }).collect();
        truths.push((truth, raster.info().gsd_m.map(|g| g.mean()).or(input_gsd).unwrap_or(1.0)));
    }
    let thresholds = sweep_thresholds();
    // Progress lines only where someone watches; logs get the results.
    let progress = std::io::stderr().is_terminal();
    let mut best: Option<(f64, f64, Counts)> = None;
    let mut table = Vec::new();
    for &s in &section.suppression_m {
        // Score as detect will with this suppression distance (the window
        // stride derives from it), keeping everything above a low floor.
        let config = Config { suppression_m: Some(s), score_threshold: Some(0.05), ..Config::default() };
        let mut opts = config.resolve(classifier.spec())?;
        opts.input_gsd_m = input_gsd;
        let mut scenes: Vec<Scene> = Vec::new();
        for (i, (path, (truth, pixel_m))) in rasters.iter().zip(&truths).enumerate() {
            let r = detect_raster(path, &mut classifier, &opts, &mut |_, _| {})?;
            scenes.push((r.detections, truth.clone(), *pixel_m));
            if progress {
                eprint!("\rcalibrating, suppression {s} m: scored {}/{} validation rasters", i + 1, rasters.len());
            }
        }
        if progress {
            eprintln!();
        }
        let mut totals = vec![Counts::default(); thresholds.len()];
        for (dets, truth, pixel_m) in &scenes {
            for (k, &t) in thresholds.iter().enumerate() {
                let boxes: Vec<ScoredBox> = dets
                    .iter()
                    .filter(|d| d.score as f64 >= t)
                    .map(|d| ScoredBox { centre: d.centre, bbox: d.footprint, score: d.score as f64 })
                    .collect();
                totals[k] = totals[k].add(&match_counts(&boxes, truth, rule, *pixel_m));
            }
        }
        for (k, c) in totals.iter().enumerate() {
            if best.as_ref().is_none_or(|b| c.f1 > b.2.f1) {
                best = Some((thresholds[k], s, *c));
            }
        }
        let (k, c) = totals.iter().enumerate().max_by(|a, b| a.1.f1.total_cmp(&b.1.f1)).expect("thresholds");
        table.push(serde_json::json!({"suppression_m": s, "stride": opts.source, "best_threshold": thresholds[k], "counts": c}));
        eprintln!(
            "suppression {s} m: best F1 {:.4} at threshold {:.2} (precision {:.4}, recall {:.4})",
            c.f1, thresholds[k], c.precision, c.recall
        );
    }
    let (threshold, suppression, counts) = best.context("no validation data to calibrate on")?;
    let mut model = models::Model::load(model_path, models::Device::Cpu)?;
    model.meta.score_threshold = threshold as f32;
    model.meta.suppression_m = suppression;
    model.meta.tta = classifier.tta();
    model.meta.training["calibration"] = serde_json::json!({
        "match": rule.to_string(), "rasters": rasters.len(), "score_threshold": threshold,
        "suppression_m": suppression, "tta": classifier.tta(), "validation": counts, "per_suppression": table,
    });
    model.save(model_path)?;
    eprintln!(
        "{}: operating point threshold {threshold:.2}, suppression {suppression} m: validation precision {:.4}, recall {:.4}, F1 {:.4}",
        model_path.display(),
        counts.precision,
        counts.recall,
        counts.f1
    );
    Ok(())
}
