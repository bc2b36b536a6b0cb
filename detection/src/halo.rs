//! How much context a heatmap network's tiles need: the least halo around
//! each tile's core that leaves the detections as they are with the whole
//! patch of context. Every pixel of halo is scored and thrown away, so the
//! halo is most of what dense scoring recomputes; a network's effective
//! receptive field is far smaller than its theoretical one, and this is
//! where it is measured (on validation rasters cut into small cores, so
//! that many tile borders fall among the objects).

use crate::objects::Detection;
use serde::{Deserialize, Serialize};

/// Tile cores of this side make the measurement: a 256 px raster then has
/// 16 of them, and most objects lie within a halo of a core's border.
pub const MEASURING_CORE: usize = 64;

/// Largest change of a detection's raw score a halo may make.
pub const SCORE_TOLERANCE: f64 = 0.002;

/// One halo tried, against the reference (the patch side).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaloTrial {
    /// Pixels of context around each core.
    pub halo: usize,
    /// Detections of the reference with no detection at their centre, or
    /// the other way round (apart from those within the tolerance of the
    /// floor both were cut at).
    pub changed: usize,
    /// The largest change of a raw score among detections at the same
    /// centre in both (kept at the scores' own precision).
    pub max_score_change: f32,
}

impl HaloTrial {
    /// Whether this halo leaves the detections as they are.
    pub fn keeps_detections(&self) -> bool {
        self.changed == 0 && self.max_score_change as f64 <= SCORE_TOLERANCE
    }
}

/// Compares the detections of one raster scored with `halo` against the
/// reference's, both cut at the raw score `floor`; `into` accumulates
/// over rasters.
pub fn compare(reference: &[Detection], trial: &[Detection], floor: f64, into: &mut HaloTrial) {
    let key = |d: &Detection| (d.centre.x.to_bits(), d.centre.y.to_bits());
    let mut theirs: std::collections::HashMap<(u64, u64), f32> = trial.iter().map(|d| (key(d), d.score)).collect();
    // A detection just above the floor on one side and just below it on
    // the other is a change of score, not of detections.
    let clear = |s: f32| s as f64 > floor + SCORE_TOLERANCE;
    for d in reference {
        match theirs.remove(&key(d)) {
            Some(s) => into.max_score_change = into.max_score_change.max((s - d.score).abs()),
            None if clear(d.score) => into.changed += 1,
            None => {}
        }
    }
    into.changed += theirs.values().filter(|&&s| clear(s)).count();
}

/// The least halo of `trials` (in increasing order) that keeps the
/// detections, and every larger one tried does too.
pub fn least_keeping(trials: &[HaloTrial]) -> Option<usize> {
    let last_bad = trials.iter().rposition(|t| !t.keeps_detections());
    let from = last_bad.map_or(0, |i| i + 1);
    trials.get(from).map(|t| t.halo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coords::PixelPoint;

    fn at(x: f64, y: f64, s: f32) -> Detection {
        Detection::at(PixelPoint { x, y }, s)
    }

    #[test]
    fn counts_moved_and_lost_detections_and_the_largest_score_change() {
        let reference = [at(1.5, 1.5, 0.9), at(10.5, 4.5, 0.5), at(20.5, 20.5, 0.0505)];
        // The second moved by a pixel, the first changed by 0.001, the
        // third fell under the floor by a hair.
        let trial = [at(1.5, 1.5, 0.901), at(11.5, 4.5, 0.5)];
        let mut t = HaloTrial { halo: 16, changed: 0, max_score_change: 0.0 };
        compare(&reference, &trial, 0.05, &mut t);
        assert_eq!(t.changed, 2);
        assert!((t.max_score_change - 0.001).abs() < 1e-6);
        assert!(!t.keeps_detections());
        let mut same = HaloTrial { halo: 24, changed: 0, max_score_change: 0.0 };
        compare(&reference, &reference, 0.05, &mut same);
        assert!(same.keeps_detections());
    }

    #[test]
    fn the_least_halo_is_one_after_which_all_keep_detections() {
        let t = |halo, changed| HaloTrial { halo, changed, max_score_change: 0.0 };
        assert_eq!(least_keeping(&[t(8, 3), t(16, 0), t(24, 1), t(32, 0), t(40, 0)]), Some(32));
        assert_eq!(least_keeping(&[t(8, 3), t(16, 1)]), None);
        assert_eq!(least_keeping(&[t(8, 0), t(16, 0)]), Some(8));
    }
}
