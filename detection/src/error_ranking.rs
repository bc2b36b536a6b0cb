//! Whether an uncertainty ranks errors: the area under the ROC curve of
//! uncertainty as a detector of false positives among detections.

use serde::{Deserialize, Serialize};

/// How well detections' uncertainty tells false positives from true ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRanking {
    /// The chance that a false positive is more uncertain than a true
    /// positive (ties count half): 0.5 is no better than chance, 1 perfect.
    pub auc: f64,
    /// Mean uncertainty of the true positives.
    pub mean_true_positive: f64,
    /// Mean uncertainty of the false positives.
    pub mean_false_positive: f64,
    /// Detections with an uncertainty that were ranked.
    pub detections: usize,
    /// The same area for the score alone (1 - score as the uncertainty):
    /// the baseline an uncertainty adds to, when read beside the score.
    pub score_auc: f64,
}

/// Ranks `uncertainty` against `correct` (matched) detections, beside
/// their `scores`; none when either kind is missing.
pub fn error_ranking(uncertainty: &[f64], scores: &[f64], correct: &[bool]) -> Option<ErrorRanking> {
    let (auc, mean_true_positive, mean_false_positive) = area(uncertainty, correct)?;
    let doubt: Vec<f64> = scores.iter().map(|s| 1.0 - s).collect();
    let (score_auc, _, _) = area(&doubt, correct)?;
    Some(ErrorRanking { auc, mean_true_positive, mean_false_positive, detections: uncertainty.len(), score_auc })
}

/// The area under the ROC curve of `uncertainty` for false positives, and
/// its means over true and false positives.
fn area(uncertainty: &[f64], correct: &[bool]) -> Option<(f64, f64, f64)> {
    // Mann-Whitney: sort, give tied values their mean rank, sum the ranks
    // of the false positives.
    let mut v: Vec<(f64, bool)> = uncertainty.iter().copied().zip(correct.iter().copied()).collect();
    let n_tp = v.iter().filter(|x| x.1).count();
    let n_fp = v.len() - n_tp;
    if n_tp == 0 || n_fp == 0 {
        return None;
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum_fp = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1].0 == v[i].0 {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_fp += v[i..=j].iter().filter(|x| !x.1).count() as f64 * mean_rank;
        i = j + 1;
    }
    let u = rank_sum_fp - (n_fp * (n_fp + 1)) as f64 / 2.0;
    let mean =
        |want: bool| v.iter().filter(|x| x.1 == want).map(|x| x.0).sum::<f64>() / if want { n_tp } else { n_fp } as f64;
    Some((u / (n_tp * n_fp) as f64, mean(true), mean(false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_area_counts_pairs_ordered_right() {
        // False positives (false) all more uncertain: 1.
        let scores = [0.9, 0.8, 0.7, 0.6];
        let r = error_ranking(&[0.1, 0.2, 0.3, 0.4], &scores, &[true, true, false, false]).unwrap();
        assert_eq!(r.auc, 1.0);
        assert_eq!(r.score_auc, 1.0, "the false positives score lower");
        assert!((r.mean_false_positive - 0.35).abs() < 1e-12);
        // Reversed: 0; all tied: 0.5; 3 of 4 pairs right: 0.75.
        assert_eq!(error_ranking(&[0.4, 0.3, 0.2, 0.1], &scores, &[true, true, false, false]).unwrap().auc, 0.0);
        assert_eq!(error_ranking(&[0.2; 4], &scores, &[true, true, false, false]).unwrap().auc, 0.5);
        assert_eq!(error_ranking(&[0.1, 0.3, 0.2, 0.4], &scores, &[true, true, false, false]).unwrap().auc, 0.75);
        assert_eq!(error_ranking(&[0.1, 0.2], &[0.5, 0.5], &[true, true]), None);
    }
}
