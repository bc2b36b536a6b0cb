//! How well scores read as probabilities: detections binned by score, the
//! share of each bin that matched a label against its mean score (a
//! reliability diagram), and the expected calibration error over the bins.

use serde::{Deserialize, Serialize};

/// Bins of equal width over [0, 1].
pub const BINS: usize = 10;

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReliabilityBin {
    /// Scores from this (inclusive) ...
    pub from: f64,
    /// ... to this (exclusive, but 1.0 included in the last bin).
    pub to: f64,
    /// Detections in the bin.
    pub detections: usize,
    /// Their mean score; none for an empty bin.
    pub mean_score: Option<f64>,
    /// The share of them that matched a label; none for an empty bin.
    pub precision: Option<f64>,
}

/// The reliability of a set of scored detections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reliability {
    /// [`BINS`] bins from score 0 to 1.
    pub bins: Vec<ReliabilityBin>,
    /// The mean over detections of |precision - mean score| of their bin:
    /// 0 when a score of s means a true detection s of the time.
    pub expected_calibration_error: f64,
}

/// Bins `scores` (each detection's, in [0, 1]) by value and compares each
/// bin's mean score with the share of `correct` (matched) detections in it.
pub fn reliability(scores: &[f64], correct: &[bool]) -> Reliability {
    let mut n = [0usize; BINS];
    let mut sum = [0f64; BINS];
    let mut hits = [0usize; BINS];
    for (&s, &ok) in scores.iter().zip(correct) {
        let b = ((s.clamp(0.0, 1.0) * BINS as f64) as usize).min(BINS - 1);
        n[b] += 1;
        sum[b] += s;
        hits[b] += ok as usize;
    }
    let total: usize = n.iter().sum();
    let mut ece = 0.0;
    let bins = (0..BINS)
        .map(|b| {
            let (mean_score, precision) = if n[b] == 0 {
                (None, None)
            } else {
                let (m, p) = (sum[b] / n[b] as f64, hits[b] as f64 / n[b] as f64);
                ece += n[b] as f64 / total as f64 * (p - m).abs();
                (Some(m), Some(p))
            };
            ReliabilityBin {
                from: b as f64 / BINS as f64,
                to: (b + 1) as f64 / BINS as f64,
                detections: n[b],
                mean_score,
                precision,
            }
        })
        .collect();
    Reliability { bins, expected_calibration_error: ece }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrated_scores_have_no_error_and_overconfident_ones_do() {
        // Scores of 0.25 right a quarter of the time, of 0.75 three quarters.
        let scores = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
        let correct = [true, false, false, false, true, true, true, false];
        let r = reliability(&scores, &correct);
        assert!(r.expected_calibration_error.abs() < 1e-12, "{r:?}");
        assert_eq!(r.bins[2].detections, 4);
        assert_eq!(r.bins[7].precision, Some(0.75));
        assert_eq!(r.bins[0].mean_score, None);
        // All at 0.95 but half of them wrong: off by 0.45.
        let r = reliability(&[0.95, 0.95, 1.0, 1.0], &[true, false, true, false]);
        assert!((r.expected_calibration_error - 0.475).abs() < 1e-12, "{r:?}");
        assert_eq!(r.bins[9].detections, 4, "1.0 falls in the last bin");
    }
}
