//! An evaluation report (`rsdetect evaluate --out REPORT.json`): counts
//! per input, per class and overall, and with `--sweep` the counts at every
//! threshold, the best point and the average precision.

use crate::error_ranking::ErrorRanking;
use crate::evaluate::Counts;
use crate::reliability::Reliability;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The version of the report this build writes and reads.
pub const REPORT_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Version of this format ([`REPORT_VERSION`]).
    #[serde(default)]
    pub version: u32,
    /// The matching rule.
    #[serde(rename = "match")]
    pub rule: String,
    /// Detections scoring under this were left out.
    pub score_threshold: Option<f64>,
    /// All inputs together.
    pub overall: Counts,
    /// Per class name.
    pub per_class: BTreeMap<String, Counts>,
    /// Per input raster.
    pub per_input: Vec<InputCounts>,
    /// Inputs that could not be evaluated.
    pub failed_inputs: usize,
    /// With `--sweep`: counts at each threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Vec<SweepPoint>>,
    /// With `--sweep`: the threshold with the best F1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<BestPoint>,
    /// With `--sweep`: the area under the precision-recall curve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_precision: Option<f64>,
    /// The detections evaluated binned by score against the share of each
    /// bin that is right, and the expected calibration error; none without
    /// detections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Reliability>,
    /// How well the detections' uncertainty (`score_sd`) tells false
    /// positives from true ones; none when they carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<ErrorRanking>,
    /// How the matched detections' outlines fit their labels' boxes and
    /// polygons; none when no matched label has a shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<ShapeFit>,
}

/// How outlines fit labels' shapes, over matched pairs whose label has a
/// box or a polygon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShapeFit {
    /// Matched pairs measured.
    pub pairs: usize,
    /// Median intersection over union of outline and label (a polygon
    /// label's own polygon, exactly).
    pub median_iou: f64,
    /// Median of (outline area - label area) / label area.
    pub median_area_error: f64,
    /// Median of its absolute value.
    pub median_abs_area_error: f64,
}

/// The counts of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputCounts {
    /// The raster.
    pub path: PathBuf,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// One threshold of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Detections scoring at least this count.
    pub threshold: f64,
    /// The counts there.
    pub counts: Counts,
}

/// The best point of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BestPoint {
    /// The threshold.
    pub score_threshold: f64,
    /// The counts there.
    pub counts: Counts,
}

impl EvalReport {
    /// The text written to disk: pretty JSON with keys in sorted order.
    pub fn to_json(&self) -> String {
        crate::formats::sorted_json(self)
    }
}
