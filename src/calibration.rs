//! Choosing a model's operating point: the score threshold and suppression
//! distance that maximise F1 on validation rasters under the evaluation's
//! matching rule, written into the model file.

use crate::error::{backend, Error, Result};
use crate::training::chip_curves;
use detection::classify::PatchClassifier;
use detection::evaluate::{add_curves, best_f1, best_f1_centred, matched, sweep, sweep_thresholds, Counts, ScoredBox};
use detection::formats::detect_config::Config;
use detection::formats::train_config::CalibrateSection;
use detection::formats::training::{Calibration, HaloFit, ProbabilityFit, SetCalibration, SetCounts, SuppressionTrial};
use detection::halo::{self, HaloTrial};
use detection::objects::{Detection, PixelLabel};
use detection::options::CandidateSource;
use detection::reliability::reliability;
use detection::score_map::{judged_at_own_level, ScoreMap};
use models::train::Chips;
use models::TchClassifier;
use pipeline::detect::detect_raster;
use pipeline::labels::{labels_in_raster, LabelFile};
use std::path::{Path, PathBuf};

/// What calibration tells as it goes.
pub trait CalibrationProgress {
    /// A line for the user (each suppression distance's best point, the
    /// operating point chosen).
    fn say(&mut self, line: &str);
    /// `done` of `total` validation rasters are scored at `suppression_m`.
    fn scored(&mut self, _suppression_m: f64, _done: usize, _total: usize) {}
}

/// Raw scores below this are not validation detections.
const CALIBRATION_FLOOR: f32 = 0.05;

/// Detections (all above a low floor) and labels of each validation
/// raster, in its pixels, with metres per pixel.
type Scene = (Vec<Detection>, Vec<PixelLabel>, f64);

/// The best point so far: its threshold's index, suppression, counts, the
/// curves at that suppression (all sets, then each set), and its scenes.
type Best = (usize, f64, Counts, Vec<Vec<Counts>>, Vec<Scene>);

/// Chooses and stores the operating point of the model at `model_path`,
/// over the rasters of every validation set together, and reports each
/// set's counts there (e.g. the same places in two years).
pub fn calibrate_model(
    model_path: &Path,
    sets: &[(String, Vec<PathBuf>)],
    labels: &[LabelFile],
    section: &CalibrateSection,
    device: models::DeviceChoice,
    declared: pipeline::raster::Declared,
    say: &mut dyn CalibrationProgress,
) -> Result<()> {
    let rule = section.rule;
    let rasters: Vec<PathBuf> = sets.iter().flat_map(|(_, r)| r.iter().cloned()).collect();
    let set_of: Vec<usize> = sets.iter().enumerate().flat_map(|(i, (_, r))| std::iter::repeat_n(i, r.len())).collect();
    let mut classifier = TchClassifier::load(model_path, device)?;
    classifier.set_tta(section.tta);
    // The map to probabilities is fitted on raw scores (a model calibrated
    // before is fitted afresh).
    classifier.use_raw_scores();
    // Labels and pixel size per raster do not depend on the suppression tried.
    let mut truths: Vec<(Vec<PixelLabel>, f64)> = Vec::with_capacity(rasters.len());
    for path in &rasters {
        let raster = pipeline::Raster::open_declared(path, &declared)?;
        let truth = labels_in_raster(labels, &raster)?;
        truths.push((truth, raster.info().distance_scale()));
    }
    let thresholds = sweep_thresholds();
    let mut best: Option<Best> = None;
    let mut table = Vec::new();
    for &s in &section.suppression_m {
        // Score as detect will with this suppression distance (the window
        // stride derives from it), keeping everything above a low floor.
        let config = Config { suppression_m: Some(s), score_threshold: Some(CALIBRATION_FLOOR), ..Config::default() };
        let mut opts = config.resolve(classifier.spec())?;
        opts.declared = declared;
        let mut scenes: Vec<Scene> = Vec::new();
        for (i, (path, (truth, pixel_m))) in rasters.iter().zip(&truths).enumerate() {
            let r = detect_raster(path, &mut classifier, &opts, &mut |_, _| {})?;
            scenes.push((r.detections, truth.clone(), *pixel_m));
            say.scored(s, i + 1, rasters.len());
        }
        let mut totals = vec![Counts::default(); thresholds.len()];
        let mut per_set = vec![vec![Counts::default(); thresholds.len()]; sets.len()];
        for ((dets, truth, pixel_m), &set) in scenes.iter().zip(&set_of) {
            let boxes: Vec<ScoredBox> = dets.iter().map(ScoredBox::from).collect();
            let curve = sweep(&boxes, truth, rule, *pixel_m, &thresholds);
            add_curves(&mut totals, &curve);
            add_curves(&mut per_set[set], &curve);
        }
        let (k, c) = best_f1(&totals).expect("thresholds");
        table.push(trial(s, opts.source.clone(), thresholds[k], c, say));
        if best.as_ref().is_none_or(|b| c.f1 > b.2.f1) {
            let mut curves = vec![totals];
            curves.extend(per_set);
            best = Some((k, s, c, curves, scenes));
        }
    }
    let (k, suppression, counts, curves, scenes) =
        best.ok_or_else(|| Error::Nothing("no validation data to calibrate on".into()))?;
    if found_nothing(model_path, &counts, say) {
        return Ok(());
    }
    let raw_threshold = thresholds[k];
    let mut names = vec!["all validation rasters".to_string()];
    names.extend(sets.iter().map(|(n, _)| n.clone()));
    let fitted = fit_probabilities(&scenes, &set_of, &names, raw_threshold, rule, model_path)?;
    let to_probability = |t: f64| fitted.as_ref().map_or(t, |(map, _)| map.apply(t));
    let threshold = to_probability(raw_threshold);
    let set_counts: Vec<Counts> = curves[1..].iter().map(|c| c[k]).collect();
    let shown = if sets.len() > 1 { &curves[..] } else { &curves[..1] };
    let png = model_path.with_extension("operating-point.png");
    // The curves over the thresholds a user sets: probabilities.
    let mapped: Vec<f64> = thresholds.iter().map(|&t| to_probability(t)).collect();
    plot_f1(&png, &mapped, shown, &names, threshold)?;
    match &fitted {
        Some((_, fit)) => {
            for c in &fit.per_set {
                say.say(&format!(
                    "  {}: expected calibration error {:.3} with raw scores, {:.3} as probabilities ({} detections)",
                    c.name, c.raw, c.calibrated, c.detections
                ));
            }
        }
        None => say.say(
            "  scores stay the network's own: on these validation rasters they do not tell right detections from \
             wrong ones (all right, or right as often at low scores as at high), so no map to probabilities is fitted",
        ),
    }
    let (map, fit) = fitted.unzip();
    let halo = measure_halo(&mut classifier, &rasters, declared, say)?;
    let mut model = models::Model::load(model_path, models::Device::Cpu)?;
    model.meta.score_map = map;
    model.meta.halo = halo.as_ref().map(|h| h.chosen);
    store(
        model,
        model_path,
        Calibration {
            rule: rule.to_string(),
            rasters: rasters.len(),
            blocks: None,
            score_threshold: threshold,
            suppression_m: suppression,
            tta: classifier.tta(),
            validation: counts,
            per_suppression: table,
            per_set: if sets.len() > 1 {
                sets.iter()
                    .zip(&set_counts)
                    .map(|((name, r), c)| SetCounts { name: name.clone(), rasters: r.len(), counts: *c })
                    .collect()
            } else {
                vec![]
            },
            probabilities: fit,
            halo,
        },
    )?;
    say.say(&format!(
        "{}: operating point threshold {threshold:.2}, suppression {suppression} m: validation precision {:.4}, recall {:.4}, F1 {:.4}",
        model_path.display(),
        counts.precision,
        counts.recall,
        counts.f1
    ));
    if sets.len() > 1 {
        for ((name, r), c) in sets.iter().zip(&set_counts) {
            say.say(&format!(
                "  {name} ({} rasters): precision {:.4}, recall {:.4}, F1 {:.4}",
                r.len(),
                c.precision,
                c.recall,
                c.f1
            ));
        }
    }
    Ok(())
}

/// Chooses and stores the operating point of the heatmap network at
/// `model_path` on validation chips held out of the training rasters (when
/// no validation rasters were given), one pass per chip.
pub fn calibrate_on_chips(
    model_path: &Path,
    val: &Chips,
    section: &CalibrateSection,
    pixel_m: f64,
    say: &mut dyn CalibrationProgress,
) -> Result<()> {
    let rule = section.rule;
    let mut model = models::Model::load(model_path, models::Device::Cpu)?;
    // A few held-out blocks are too few to fit probabilities on: the
    // scores stay the network's own, and so does the threshold.
    model.meta.score_map = None;
    let thresholds = sweep_thresholds();
    let mut best: Option<(usize, f64, Counts, Vec<Counts>)> = None;
    let mut table = Vec::new();
    for &s in &section.suppression_m {
        let curve = chip_curves(&model, val, rule, pixel_m, s / pixel_m);
        // Held-out blocks hold few objects: the middle of the best run.
        let (k, c) = best_f1_centred(&curve).expect("thresholds");
        if best.as_ref().is_none_or(|b| c.f1 > b.2.f1) {
            best = Some((k, s, c, curve));
        }
        table.push(trial(s, CandidateSource::Dense { step: 1 }, thresholds[k], c, say));
    }
    let (k, suppression, counts, curve) =
        best.ok_or_else(|| Error::Nothing("no validation data to calibrate on".into()))?;
    if found_nothing(model_path, &counts, say) {
        return Ok(());
    }
    let threshold = thresholds[k];
    let png = model_path.with_extension("operating-point.png");
    plot_f1(&png, &thresholds, &[curve], &[format!("{} held-out blocks", val.len())], threshold)?;
    store(
        model,
        model_path,
        Calibration {
            rule: rule.to_string(),
            rasters: 0,
            blocks: Some(val.len()),
            score_threshold: threshold,
            suppression_m: suppression,
            tta: false,
            validation: counts,
            per_suppression: table,
            per_set: vec![],
            probabilities: None,
            halo: None,
        },
    )?;
    say.say(&format!(
        "{}: operating point threshold {threshold:.2}, suppression {suppression} m: precision {:.4}, recall {:.4}, F1 {:.4} on {} held-out blocks",
        model_path.display(),
        counts.precision,
        counts.recall,
        counts.f1,
        val.len()
    ));
    Ok(())
}

/// Measures a heatmap network's halo on the validation `rasters` (see
/// [`detection::halo`]): each cut into small cores, scored with the patch
/// side of context around each and with halos on the network's stride,
/// from the smallest up until two in a row keep the detections. `None` for
/// networks without a dense form of their own.
fn measure_halo(
    classifier: &mut TchClassifier,
    rasters: &[PathBuf],
    declared: pipeline::raster::Declared,
    say: &mut dyn CalibrationProgress,
) -> Result<Option<HaloFit>> {
    let spec = classifier.spec().clone();
    let Some(stride) = spec.dense_stride.filter(|_| spec.heatmap) else { return Ok(None) };
    let reference = spec.patch.div_ceil(stride) * stride;
    let mut scored = |halo: usize| -> Result<Vec<Vec<Detection>>> {
        let config = Config {
            tile: Some(halo::MEASURING_CORE),
            halo: Some(halo),
            score_threshold: Some(CALIBRATION_FLOOR),
            ..Config::default()
        };
        let mut opts = config.resolve(&spec)?;
        opts.declared = declared;
        rasters.iter().map(|p| Ok(detect_raster(p, classifier, &opts, &mut |_, _| {})?.detections)).collect()
    };
    let truth = scored(reference)?;
    let mut trials: Vec<HaloTrial> = Vec::new();
    for halo in (stride..reference).step_by(stride) {
        let mut t = HaloTrial { halo, changed: 0, max_score_change: 0.0 };
        for (a, b) in truth.iter().zip(scored(halo)?) {
            halo::compare(a, &b, CALIBRATION_FLOOR as f64, &mut t);
        }
        say.say(&format!(
            "  halo {halo} px: {} detections changed, raw scores by up to {:.4}",
            t.changed, t.max_score_change
        ));
        trials.push(t);
        if trials.len() >= 2 && trials[trials.len() - 2..].iter().all(HaloTrial::keeps_detections) {
            break;
        }
    }
    let chosen = halo::least_keeping(&trials).unwrap_or(reference);
    say.say(&format!(
        "  dense tiles read {chosen} px of context around their cores (the patch: {reference} px): the least that \
         leaves every validation detection where it is, its raw score within {}",
        halo::SCORE_TOLERANCE
    ));
    Ok(Some(HaloFit {
        core: halo::MEASURING_CORE,
        reference,
        detections: truth.iter().map(Vec::len).sum(),
        trials,
        chosen,
    }))
}

/// Fits the map from raw score to probability on the validation detections
/// at the chosen suppression (each judged among those scoring at least
/// its own score, and at the operating point those above it), draws the
/// reliability of the mapped scores at the operating point beside the model
/// (`MODEL.reliability.png`), and measures the calibration error there, all
/// rasters and each set (`names`: "all", then one per set of `set_of`).
fn fit_probabilities(
    scenes: &[Scene],
    set_of: &[usize],
    names: &[String],
    raw_threshold: f64,
    rule: detection::evaluate::MatchRule,
    model_path: &Path,
) -> Result<Option<(ScoreMap, ProbabilityFit)>> {
    let floor = scenes.iter().flat_map(|s| s.0.iter()).map(|d| d.score as f64).fold(f64::INFINITY, f64::min);
    let mut levels: Vec<f64> =
        sweep_thresholds().into_iter().filter(|&t| t < raw_threshold && t >= floor.min(raw_threshold)).collect();
    levels.push(raw_threshold);
    // (raw score, right, set) of every detection above the floor.
    let mut judged: Vec<(f64, bool, usize)> = Vec::new();
    for ((dets, truth, pixel_m), &set) in scenes.iter().zip(set_of) {
        let boxes: Vec<ScoredBox> = dets.iter().map(ScoredBox::from).collect();
        let ok = judged_at_own_level(&boxes, |b| b.score, &levels, |kept| matched(kept, truth, rule, *pixel_m));
        judged.extend(boxes.iter().zip(ok).map(|(b, ok)| (b.score, ok, set)));
    }
    let scores: Vec<f64> = judged.iter().map(|j| j.0).collect();
    let correct: Vec<bool> = judged.iter().map(|j| j.1).collect();
    let Some(map) = ScoreMap::fit(&scores, &correct) else {
        return Ok(None);
    };
    // At the operating point: the detections a user gets, raw and mapped.
    let at_point: Vec<&(f64, bool, usize)> = judged.iter().filter(|j| j.0 >= raw_threshold).collect();
    let ece = |of: &dyn Fn(usize) -> bool| {
        let chosen: Vec<&&(f64, bool, usize)> = at_point.iter().filter(|j| of(j.2)).collect();
        let ok: Vec<bool> = chosen.iter().map(|j| j.1).collect();
        let raw: Vec<f64> = chosen.iter().map(|j| j.0).collect();
        let mapped: Vec<f64> = raw.iter().map(|&s| map.apply(s)).collect();
        (chosen.len(), reliability(&raw, &ok), reliability(&mapped, &ok))
    };
    let mut per_set = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 && names.len() == 2 {
            break;
        }
        let (n, raw, calibrated) = if i == 0 { ece(&|_| true) } else { ece(&|s| s == i - 1) };
        if i == 0 {
            crate::evaluate::reliability_diagram(&model_path.with_extension("reliability.png"), &calibrated)
                .map_err(backend)?;
        }
        per_set.push(SetCalibration {
            name: name.clone(),
            detections: n,
            raw: raw.expected_calibration_error,
            calibrated: calibrated.expected_calibration_error,
        });
    }
    Ok(Some((map, ProbabilityFit { detections: judged.len(), raw_threshold, per_set })))
}

/// Whether validation matched no object at any threshold (or held none):
/// an operating point chosen there would be chosen on nothing, so the
/// model keeps the one it has, and the user is told.
fn found_nothing(model_path: &Path, best: &Counts, say: &mut dyn CalibrationProgress) -> bool {
    let nothing = best.tp == 0;
    if nothing {
        say.say(&format!(
            "{}: no validation object is found at any threshold, so the operating point is not chosen there and stays \
             as it was (train longer, label more objects, or check the validation labels)",
            model_path.display()
        ));
    }
    nothing
}

/// One suppression distance's best point, as the table records it and the
/// user reads it.
fn trial(
    suppression_m: f64,
    stride: CandidateSource,
    threshold: f64,
    c: Counts,
    say: &mut dyn CalibrationProgress,
) -> SuppressionTrial {
    say.say(&format!(
        "suppression {suppression_m} m: best F1 {:.4} at threshold {threshold:.2} (precision {:.4}, recall {:.4})",
        c.f1, c.precision, c.recall
    ));
    SuppressionTrial { suppression_m, stride, best_threshold: threshold, counts: c }
}

/// Writes the chosen operating point into the model and its file, with the
/// calibration record.
fn store(mut model: models::Model, model_path: &Path, calibration: Calibration) -> Result<()> {
    model.meta.score_threshold = calibration.score_threshold as f32;
    model.meta.suppression_m = calibration.suppression_m;
    model.meta.tta = calibration.tta;
    model.meta.training.get_or_insert_with(Default::default).calibration = Some(calibration);
    model.save(model_path)?;
    Ok(())
}

/// F1 against the score threshold, one line per curve (all validation
/// rasters, then each set), with the chosen threshold marked: how F1 holds
/// around the operating point, for the model card.
fn plot_f1(path: &Path, thresholds: &[f64], curves: &[Vec<Counts>], names: &[String], chosen: f64) -> Result<()> {
    use plotters::prelude::*;
    let root = BitMapBackend::new(path, (700, 450)).into_drawing_area();
    root.fill(&WHITE).map_err(backend)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("F1 against the score threshold", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(45)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(backend)?;
    chart.configure_mesh().x_desc("score threshold").y_desc("F1").draw().map_err(backend)?;
    let colours = [BLACK, BLUE, RED, GREEN, MAGENTA, CYAN];
    for (i, (curve, name)) in curves.iter().zip(names).enumerate() {
        let colour = colours[i % colours.len()];
        let points = thresholds.iter().zip(curve).map(|(&t, c)| (t, c.f1));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(backend)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .draw_series(LineSeries::new([(chosen, 0.0), (chosen, 1.0)], BLACK.mix(0.4)))
        .map_err(backend)?
        .label(format!("chosen: {chosen:.2}"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.4)));
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.8)).draw().map_err(backend)?;
    root.present().map_err(backend)?;
    Ok(())
}
