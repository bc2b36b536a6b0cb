//! The evaluate stage as one call: precision, recall and F1 of detect's
//! output against labels, per input and overall, with the calibration of
//! the scores, how the uncertainty ranks errors, and (on request) the sweep
//! over thresholds; the report written as REPORT.json with its plots.

use crate::error::{backend, chain, Error, Result};
use detection::error_ranking::error_ranking;
use detection::evaluate::{
    add_curves, average_precision, best_f1, matched_pairs, sweep, sweep_thresholds, Counts, MatchRule, ScoredBox,
};
use detection::formats::report::{BestPoint, EvalReport, InputCounts, SweepPoint, REPORT_VERSION};
use detection::objects::PixelLabel;
use detection::reliability::{reliability, Reliability};
use detection::shape_fit::shape_fit;
use pipeline::labels::{labels_in_raster, LabelFile};
use pipeline::raster::Declared;
use std::path::{Path, PathBuf};

/// What an evaluation is asked to do.
#[derive(Debug, Clone)]
pub struct EvaluateRequest {
    /// What detect wrote: its output folder, or one of its GeoJSON files.
    pub detections: PathBuf,
    /// Label files or folders of them.
    pub labels: Vec<PathBuf>,
    /// Where to write the report (JSON), with its plots beside it.
    pub out: Option<PathBuf>,
    /// When a detection and a label are the same object.
    pub rule: MatchRule,
    /// Count only detections scoring at least this.
    pub score_threshold: Option<f64>,
    /// Also sweep the score threshold: the best F1, average precision.
    pub sweep: bool,
}

/// What an evaluation found.
pub struct Evaluation {
    /// The report, as written.
    pub report: EvalReport,
    /// The class the detections carry.
    pub class: String,
    /// Detections judged (at the threshold).
    pub detections: usize,
}

/// Detections of one raster, and the labels inside it.
struct Scene {
    path: PathBuf,
    dets: Vec<ScoredBox>,
    /// Each detection's `score_sd`, where it has one.
    uncertainty: Vec<Option<f64>>,
    truth: Vec<PixelLabel>,
    pixel_m: f64,
}

fn load(path: &Path, file: &Path, labels: &[LabelFile], declared: &Declared) -> Result<Scene> {
    let raster = pipeline::Raster::open_declared(path, declared).map_err(|e| {
        Error::Nothing(format!("the raster the detections came from is needed for its georeferencing: {}", chain(&e)))
    })?;
    let found = crate::outputs::detections_in_pixels(&raster, file)?;
    let dets = found.iter().map(|d| d.det.clone()).collect();
    let uncertainty = found.iter().map(|d| d.feature.properties.score_sd).collect();
    let truth = labels_in_raster(labels, &raster)?;
    let pixel_m = raster.info().distance_scale();
    Ok(Scene { path: path.to_owned(), dets, uncertainty, truth, pixel_m })
}

/// Scores detections against labels: the report (also written to
/// `req.out`, with its plots), and how many inputs failed, each told to
/// `on_error` as it fails.
pub fn evaluate(req: &EvaluateRequest, on_error: &mut dyn FnMut(&str)) -> Result<Evaluation> {
    // The report's folder exists before any work, so the report and the
    // PR-curve PNG beside it are written wherever the user named.
    if let Some(out) = &req.out {
        crate::create_parent(out, "report")?;
    }
    let labels = pipeline::labels::read_label_files(&req.labels)?;
    let inputs = crate::outputs::outputs_of(&req.detections)?;
    let declared = crate::outputs::declared_of(&req.detections)?;
    if inputs.is_empty() {
        return Err(Error::Nothing(format!("{}: no detections to evaluate", req.detections.display())));
    }
    let mut scenes = Vec::new();
    let mut failed = 0;
    for (path, file) in &inputs {
        match load(path, file, &labels, &declared) {
            Ok(s) => scenes.push(s),
            Err(e) => {
                on_error(&format!("{}: {}", path.display(), chain(&e)));
                failed += 1;
            }
        }
    }
    let labelled: usize = labels.iter().map(|f| f.labels.len()).sum();
    if labelled > 0 && !scenes.is_empty() && scenes.iter().all(|s| s.truth.is_empty()) {
        let opened = scenes
            .iter()
            .map(|s| pipeline::Raster::open_declared(&s.path, &declared))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        return Err(Error::Nothing(format!(
            "none of the {labelled} labels of {} falls inside the {} raster(s) detected on; {}",
            labels.iter().map(|f| f.path.display().to_string()).collect::<Vec<_>>().join(", "),
            scenes.len(),
            pipeline::labels::why_none_inside(&labels, &opened)
        )));
    }
    let threshold = req.score_threshold.unwrap_or(0.0);
    // Each scene's detections kept at the threshold, with whether each
    // matched a label: the counts, the calibration and the error ranking.
    // The matched pairs (detection, label) too: how the outlines fit.
    let mut pairs: Vec<(&ScoredBox, &PixelLabel)> = Vec::new();
    let judged: Vec<Vec<(usize, bool)>> = scenes
        .iter()
        .map(|s| {
            let kept: Vec<usize> = (0..s.dets.len()).filter(|&i| s.dets[i].score >= threshold).collect();
            let boxes: Vec<ScoredBox> = kept.iter().map(|&i| s.dets[i].clone()).collect();
            let mut is_matched = vec![false; kept.len()];
            for (d, t) in matched_pairs(&boxes, &s.truth, req.rule, s.pixel_m) {
                is_matched[d] = true;
                pairs.push((&s.dets[kept[d]], &s.truth[t]));
            }
            kept.into_iter().zip(is_matched).collect()
        })
        .collect();
    let per_input: Vec<(PathBuf, Counts)> = scenes
        .iter()
        .zip(&judged)
        .map(|(s, j)| {
            let tp = j.iter().filter(|(_, ok)| *ok).count();
            (s.path.clone(), Counts::new(tp, j.len() - tp, s.truth.len() - tp))
        })
        .collect();
    let overall = per_input.iter().fold(Counts::default(), |a, (_, c)| a.add(c));
    let first = inputs.first().map(|(_, f)| pipeline::export::read_geojson(f)).transpose()?;
    let class =
        first.and_then(|s| s.features.first().map(|f| f.properties.class.clone())).unwrap_or_else(|| "object".into());
    let mut report = EvalReport {
        version: REPORT_VERSION,
        rule: req.rule.to_string(),
        score_threshold: req.score_threshold,
        overall,
        per_class: [(class.clone(), overall)].into(),
        per_input: per_input.iter().map(|(p, c)| InputCounts { path: p.clone(), counts: *c }).collect(),
        failed_inputs: failed,
        sweep: None,
        best: None,
        average_precision: None,
        calibration: None,
        uncertainty: None,
        shape: shape_fit(pairs),
    };
    // How far the scores read as probabilities, and whether the
    // uncertainty flags errors.
    let (mut scores, mut correct) = (Vec::new(), Vec::new());
    let (mut spread, mut spread_scores, mut spread_correct) = (Vec::new(), Vec::new(), Vec::new());
    for (s, j) in scenes.iter().zip(&judged) {
        for &(i, ok) in j {
            scores.push(s.dets[i].score);
            correct.push(ok);
            if let Some(u) = s.uncertainty[i] {
                spread.push(u);
                spread_scores.push(s.dets[i].score);
                spread_correct.push(ok);
            }
        }
    }
    if !scores.is_empty() {
        let r = reliability(&scores, &correct);
        if let Some(out) = &req.out {
            reliability_diagram(&out.with_extension("reliability.png"), &r).map_err(backend)?;
        }
        report.calibration = Some(r);
    }
    if let Some(u) = error_ranking(&spread, &spread_scores, &spread_correct) {
        report.uncertainty = Some(u);
    }
    if req.sweep {
        let thresholds = sweep_thresholds();
        let mut curve = vec![Counts::default(); thresholds.len()];
        for s in &scenes {
            add_curves(&mut curve, &sweep(&s.dets, &s.truth, req.rule, s.pixel_m, &thresholds));
        }
        let (best_k, best) = best_f1(&curve).expect("thresholds");
        let ap = average_precision(&curve);
        report.sweep =
            Some(thresholds.iter().zip(&curve).map(|(&threshold, &counts)| SweepPoint { threshold, counts }).collect());
        report.best = Some(BestPoint { score_threshold: thresholds[best_k], counts: best });
        report.average_precision = Some(ap);
        if let Some(out) = &req.out {
            pr_curve(&out.with_extension("pr.png"), &curve).map_err(backend)?;
        }
    }
    if let Some(out) = &req.out {
        pipeline::export::write_atomic(out, report.to_json().as_bytes())?;
    }
    Ok(Evaluation { report, class, detections: scores.len() })
}

/// Each score bin's share of true detections against its mean score, with
/// the diagonal a calibrated model follows and the detections per bin.
pub(crate) fn reliability_diagram(path: &Path, r: &Reliability) -> std::result::Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let root = BitMapBackend::new(path, (600, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let caption = format!("reliability (expected calibration error {:.3})", r.expected_calibration_error);
    let (top, bottom) = root.split_vertically(420);
    let mut chart = ChartBuilder::on(&top)
        .caption(caption, ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(30)
        .y_label_area_size(45)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
    chart.configure_mesh().x_desc("score").y_desc("share of detections matched").draw()?;
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.4)))?
        .label("calibrated")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.4)));
    chart
        .draw_series(r.bins.iter().filter_map(|b| {
            b.precision.map(|p| Rectangle::new([(b.from + 0.005, 0.0), (b.to - 0.005, p)], BLUE.mix(0.5).filled()))
        }))?
        .label("matched, per score bin")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLUE.mix(0.5).filled()));
    chart
        .draw_series(
            r.bins
                .iter()
                .filter_map(|b| b.mean_score.zip(b.precision))
                .map(|(m, p)| Circle::new((m, p), 4, RED.filled())),
        )?
        .label("at the bin's mean score")
        .legend(|(x, y)| Circle::new((x + 10, y), 4, RED.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    let most = r.bins.iter().map(|b| b.detections).max().unwrap_or(1).max(1) as f64;
    let mut counts = ChartBuilder::on(&bottom)
        .margin(15)
        .x_label_area_size(30)
        .y_label_area_size(45)
        .build_cartesian_2d(0f64..1f64, 0f64..most)?;
    counts.configure_mesh().x_desc("score").y_desc("detections").y_labels(3).draw()?;
    counts.draw_series(r.bins.iter().map(|b| {
        Rectangle::new([(b.from + 0.005, 0.0), (b.to - 0.005, b.detections as f64)], BLACK.mix(0.3).filled())
    }))?;
    root.present()?;
    Ok(())
}

/// Precision against recall over the sweep, as a PNG.
fn pr_curve(path: &Path, curve: &[Counts]) -> std::result::Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let root = BitMapBackend::new(path, (600, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("precision-recall", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(45)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
    chart.configure_mesh().x_desc("recall").y_desc("precision").draw()?;
    let mut pts: Vec<(f64, f64)> = curve.iter().filter(|c| c.tp + c.fp > 0).map(|c| (c.recall, c.precision)).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    chart.draw_series(LineSeries::new(pts, &BLUE))?;
    root.present()?;
    Ok(())
}
