//! `rsdetect evaluate`: the library's evaluation, printed as a table of
//! each input and the whole, with the calibration, the uncertainty's
//! ranking and the sweep's best point when there are any.

use crate::cli::{EvaluateArgs, ProgressFormat};
use crate::commands::Status;
use anyhow::Result;
use rsdetect::evaluate::{evaluate, EvaluateRequest};

/// Scores detections against labels.
pub fn run(args: &EvaluateArgs, format: ProgressFormat) -> Result<Status> {
    let request = EvaluateRequest {
        detections: args.detections.clone(),
        labels: args.labels.clone(),
        out: args.out.clone(),
        rule: args.rule,
        score_threshold: args.score_threshold,
        sweep: args.sweep,
    };
    let done = evaluate(&request, &mut super::progress::on_error(format))?;
    let report = &done.report;
    println!("{:<48} {:>6} {:>6} {:>6} {:>9} {:>7} {:>7}", "input", "tp", "fp", "fn", "precision", "recall", "f1");
    let row = |name: &str, c: &detection::evaluate::Counts| {
        println!("{name:<48} {:>6} {:>6} {:>6} {:>9.4} {:>7.4} {:>7.4}", c.tp, c.fp, c.fn_, c.precision, c.recall, c.f1)
    };
    for i in &report.per_input {
        row(&i.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), &i.counts);
    }
    row(&format!("overall ({}, {})", done.class, args.rule), &report.overall);
    if let Some(r) = &report.calibration {
        println!(
            "expected calibration error {:.4} over {} detections (0: a score of s is right s of the time)",
            r.expected_calibration_error, done.detections
        );
    }
    if let Some(u) = &report.uncertainty {
        println!(
            "uncertainty (score_sd) ranks errors with AUC {:.4} (the score alone {:.4}): false positives {:.4} on average, true positives {:.4}",
            u.auc, u.score_auc, u.mean_false_positive, u.mean_true_positive
        );
    }
    if let Some(f) = &report.shape {
        println!(
            "outlines against the labels' shapes: median IoU {:.3}, area {:+.1}% (median; {:.1}% apart) over {} matched pairs",
            f.median_iou,
            f.median_area_error * 100.0,
            f.median_abs_area_error * 100.0,
            f.pairs
        );
    }
    if let (Some(b), Some(ap)) = (&report.best, report.average_precision) {
        println!(
            "best F1 {:.4} at score threshold {:.2} (precision {:.4}, recall {:.4}); average precision {:.4}",
            b.counts.f1, b.score_threshold, b.counts.precision, b.counts.recall, ap
        );
    }
    // Scores are what evaluate finds: a run that scored is done.
    Ok(Status::of(report.failed_inputs, 1))
}
