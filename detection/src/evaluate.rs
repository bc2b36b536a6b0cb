//! Precision, recall and F1 of detections against labels, one-to-one.
//! Matching is an assignment problem: the Hungarian method finds the most
//! matches (then the closest), where greedy matching can miss some. It runs
//! per connected group of candidate pairs, so large areas stay cheap.

use crate::coords::{PixelBox, PixelPoint};
use crate::objects::{Detection, PixelLabel};
use crate::overlap::{polygon_area, polygon_iou};
use crate::ring::Ring;
use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;
use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// When a detection and a label are the same object.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum MatchRule {
    /// Centres within this many metres.
    Distance {
        /// Metres.
        metres: f64,
    },
    /// The detection's centre inside the label's box.
    CenterInLabel,
    /// Boxes overlapping with at least this intersection over union.
    Iou {
        /// Threshold in (0, 1].
        threshold: f64,
    },
}

impl FromStr for MatchRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let num = |v: &str| v.parse::<f64>().ok().filter(|x| *x > 0.0);
        match s.split_once(':') {
            Some(("distance", v)) => num(v).map(|metres| MatchRule::Distance { metres }),
            Some(("iou", v)) => num(v).filter(|t| *t <= 1.0).map(|threshold| MatchRule::Iou { threshold }),
            None if s == "center-in-label" => Some(MatchRule::CenterInLabel),
            _ => None,
        }
        .ok_or_else(|| format!("unknown matching {s:?}: use distance:<metres>, center-in-label or iou:<0..1>"))
    }
}

impl fmt::Display for MatchRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchRule::Distance { metres } => write!(f, "distance:{metres}"),
            MatchRule::CenterInLabel => f.write_str("center-in-label"),
            MatchRule::Iou { threshold } => write!(f, "iou:{threshold}"),
        }
    }
}

/// A detection to score, in a raster's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredBox {
    /// Centre.
    pub centre: PixelPoint,
    /// Extent.
    pub bbox: PixelBox,
    /// Score.
    pub score: f64,
    /// The outline's corners (an open ring), when the detection was
    /// outlined: `iou` matching then measures the outline, not its box.
    pub outline: Option<Arc<[PixelPoint]>>,
}

impl From<&Detection> for ScoredBox {
    fn from(d: &Detection) -> ScoredBox {
        ScoredBox {
            centre: d.centre,
            bbox: d.footprint,
            score: d.score as f64,
            outline: d.outline.as_ref().map(Ring::shared),
        }
    }
}

/// True positives, false positives, false negatives and the rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Detections matched to a label.
    pub tp: usize,
    /// Detections matched to none.
    pub fp: usize,
    /// Labels matched by none.
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// tp / (tp + fp); 0 with no detections.
    pub precision: f64,
    /// tp / (tp + fn); 0 with no labels.
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub f1: f64,
}

impl Counts {
    /// Rates from counts, defined (never NaN) for empty inputs.
    pub fn new(tp: usize, fp: usize, fn_: usize) -> Counts {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        Counts { tp, fp, fn_, precision, recall, f1 }
    }

    /// The sum of two sets of counts, rates recomputed.
    pub fn add(&self, o: &Counts) -> Counts {
        Counts::new(self.tp + o.tp, self.fp + o.fp, self.fn_ + o.fn_)
    }
}

fn iou(a: &PixelBox, b: &PixelBox) -> f64 {
    let w = (a.x1.min(b.x1) - a.x0.max(b.x0)).max(0.0);
    let h = (a.y1.min(b.y1) - a.y0.max(b.y0)).max(0.0);
    let inter = w * h;
    let union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// How well a pair fits, when it may match at all: higher is better.
fn affinity(d: &ScoredBox, t: &PixelLabel, rule: MatchRule, pixel_m: f64) -> Option<f64> {
    match rule {
        MatchRule::Distance { metres } => {
            let dist = (d.centre.x - t.centre.x).hypot(d.centre.y - t.centre.y) * pixel_m;
            (dist <= metres).then_some(metres - dist)
        }
        MatchRule::CenterInLabel => {
            let b = t.bbox?;
            let inside = d.centre.x >= b.x0 && d.centre.x <= b.x1 && d.centre.y >= b.y0 && d.centre.y <= b.y1;
            inside.then(|| 1.0 / (1.0 + (d.centre.x - t.centre.x).hypot(d.centre.y - t.centre.y)))
        }
        MatchRule::Iou { threshold } => {
            let v = shape_iou(d, t)?;
            (v >= threshold).then_some(v)
        }
    }
}

/// How a detection's shape overlaps a label's, at the label's level of
/// detail: a polygon label against the outline exactly (the box when the
/// detection has no outline); a box label, which says only how far the
/// object reaches, against the detection's box, as tree-crown benchmarks
/// score boxes (an exact elliptic crown would reach only 0.785 against its
/// own box); `None` for a point label.
pub fn shape_iou(d: &ScoredBox, t: &PixelLabel) -> Option<f64> {
    Some(match (&d.outline, &t.polygon) {
        (Some(o), Some(p)) => polygon_iou(o, p),
        (None, Some(p)) => polygon_iou(&d.bbox.corners(), p),
        (_, None) => iou(&d.bbox, &t.bbox?),
    })
}

/// A label's area in square pixels: its polygon's, else its box's; `None`
/// for a point.
pub fn label_area(t: &PixelLabel) -> Option<f64> {
    match (&t.polygon, &t.bbox) {
        (Some(p), _) => Some(polygon_area(p)),
        (None, Some(b)) => Some((b.x1 - b.x0) * (b.y1 - b.y0)),
        (None, None) => None,
    }
}

/// A detection's area in square pixels at the level of detail of `t` (see
/// [`shape_iou`]): its outline's against a polygon label, else its box's.
pub fn detection_area(d: &ScoredBox, t: &PixelLabel) -> f64 {
    match (&d.outline, &t.polygon) {
        (Some(o), Some(_)) => polygon_area(o),
        _ => (d.bbox.x1 - d.bbox.x0) * (d.bbox.y1 - d.bbox.y0),
    }
}

/// How far apart (pixels) a pair can be and still match, for the index.
fn reach(rule: MatchRule, pixel_m: f64, dets: &[ScoredBox], truth: &[PixelLabel]) -> f64 {
    let span = |b: &PixelBox| (b.x1 - b.x0).hypot(b.y1 - b.y0);
    let largest = dets
        .iter()
        .map(|d| span(&d.bbox))
        .chain(truth.iter().filter_map(|t| t.bbox.as_ref().map(span)))
        .fold(0.0, f64::max);
    match rule {
        MatchRule::Distance { metres } => metres / pixel_m,
        _ => largest,
    }
}

/// Matches detections to labels one-to-one (most matches, then best fit)
/// and counts. `pixel_m` converts pixels to metres.
pub fn match_counts(dets: &[ScoredBox], truth: &[PixelLabel], rule: MatchRule, pixel_m: f64) -> Counts {
    let tp = matched(dets, truth, rule, pixel_m).iter().filter(|&&m| m).count();
    Counts::new(tp, dets.len() - tp, truth.len() - tp)
}

/// Which detections the one-to-one matching of [`match_counts`] pairs with
/// a label (true positives), in the order given.
pub fn matched(dets: &[ScoredBox], truth: &[PixelLabel], rule: MatchRule, pixel_m: f64) -> Vec<bool> {
    let mut is_matched = vec![false; dets.len()];
    for (d, _) in matched_pairs(dets, truth, rule, pixel_m) {
        is_matched[d] = true;
    }
    is_matched
}

/// The (detection, label) pairs of the one-to-one matching of
/// [`match_counts`], by detection.
pub fn matched_pairs(dets: &[ScoredBox], truth: &[PixelLabel], rule: MatchRule, pixel_m: f64) -> Vec<(usize, usize)> {
    let pairs = candidate_pairs(dets, truth, rule, pixel_m);
    // Group pairs into connected components (union-find over detections
    // and labels), and solve each as its own assignment problem.
    let n = dets.len() + truth.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for &(d, t, _) in &pairs {
        let (a, b) = (find(&mut parent, d), find(&mut parent, dets.len() + t));
        parent[a] = b;
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<(usize, usize, f64)>> = Default::default();
    for &(d, t, w) in &pairs {
        let root = find(&mut parent, d);
        groups.entry(root).or_default().push((d, t, w));
    }
    let mut out: Vec<(usize, usize)> = groups.values().flat_map(|group| assign(group)).collect();
    out.sort_unstable();
    out
}

fn candidate_pairs(
    dets: &[ScoredBox],
    truth: &[PixelLabel],
    rule: MatchRule,
    pixel_m: f64,
) -> Vec<(usize, usize, f64)> {
    let r = reach(rule, pixel_m, dets, truth);
    let tree = RTree::bulk_load(
        truth.iter().enumerate().map(|(i, t)| GeomWithData::new([t.centre.x, t.centre.y], i)).collect(),
    );
    let mut pairs = Vec::new();
    for (i, d) in dets.iter().enumerate() {
        for t in tree.locate_within_distance([d.centre.x, d.centre.y], r * r + 1e-9) {
            if let Some(w) = affinity(d, &truth[t.data], rule, pixel_m) {
                pairs.push((i, t.data, w));
            }
        }
    }
    pairs
}

/// The pairs of a maximum one-to-one matching of one component, the
/// closest among maximum ones.
fn assign(pairs: &[(usize, usize, f64)]) -> Vec<(usize, usize)> {
    let mut ds: Vec<usize> = pairs.iter().map(|p| p.0).collect();
    let mut ts: Vec<usize> = pairs.iter().map(|p| p.1).collect();
    ds.sort_unstable();
    ds.dedup();
    ts.sort_unstable();
    ts.dedup();
    if ds.len() == 1 || ts.len() == 1 {
        // One side alone: the best-fitting pair is the matching.
        let best = pairs.iter().max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(&a.0))).expect("a pair");
        return vec![(best.0, best.1)];
    }
    // Kuhn-Munkres wants rows <= columns; weights count a match first
    // (a large constant), then its fit in thousandths.
    let (rows, cols, flip) = if ds.len() <= ts.len() { (&ds, &ts, false) } else { (&ts, &ds, true) };
    const MATCH: i64 = 1 << 40;
    let mut m = Matrix::new(rows.len(), cols.len(), 0i64);
    for &(d, t, w) in pairs {
        let (r, c) = if flip { (t, d) } else { (d, t) };
        let (ri, ci) = (rows.binary_search(&r).expect("row"), cols.binary_search(&c).expect("column"));
        m[(ri, ci)] = MATCH + (w * 1000.0).round() as i64;
    }
    let (_, assignment) = kuhn_munkres(&m);
    assignment
        .iter()
        .enumerate()
        .filter(|&(r, &c)| m[(r, c)] >= MATCH)
        .map(|(r, &c)| if flip { (cols[c], rows[r]) } else { (rows[r], cols[c]) })
        .collect()
}

/// Counts at each threshold of `thresholds` (detections scoring at least it).
pub fn sweep(
    dets: &[ScoredBox],
    truth: &[PixelLabel],
    rule: MatchRule,
    pixel_m: f64,
    thresholds: &[f64],
) -> Vec<Counts> {
    thresholds
        .iter()
        .map(|&t| {
            let kept: Vec<ScoredBox> = dets.iter().filter(|d| d.score >= t).cloned().collect();
            match_counts(&kept, truth, rule, pixel_m)
        })
        .collect()
}

/// The thresholds a sweep uses: 0.00, 0.01, ..., 1.00.
pub fn sweep_thresholds() -> Vec<f64> {
    (0..=100).map(|i| i as f64 / 100.0).collect()
}

/// The best point of a sweep: the highest F1, and among equal ones the
/// highest threshold. Training, calibration and evaluation all choose by it.
pub fn best_f1(curve: &[Counts]) -> Option<(usize, Counts)> {
    curve.iter().copied().enumerate().max_by(|a, b| a.1.f1.total_cmp(&b.1.f1))
}

/// The best F1 of a sweep, at the middle of the run of thresholds that
/// reach it (the run [`best_f1`]'s point lies in): on a few held-out
/// objects F1 is flat over a wide range, and its top edge is where the
/// next unseen object is lost first.
pub fn best_f1_centred(curve: &[Counts]) -> Option<(usize, Counts)> {
    let (top, best) = best_f1(curve)?;
    let same = |i: &usize| curve[*i].f1 == best.f1;
    let first = (0..=top).rev().take_while(same).last().unwrap_or(top);
    let k = (first + top) / 2;
    Some((k, curve[k]))
}

/// Counts summed over scenes, threshold by threshold, as a sweep over all
/// of them at once gives.
pub fn add_curves(total: &mut Vec<Counts>, curve: &[Counts]) {
    if total.is_empty() {
        total.resize(curve.len(), Counts::default());
    }
    for (t, c) in total.iter_mut().zip(curve) {
        *t = t.add(c);
    }
}

/// Average precision: the area under the precision-recall curve with
/// precision made monotone (each point takes the best precision at equal or
/// higher recall), from counts ordered by rising threshold.
pub fn average_precision(curve: &[Counts]) -> f64 {
    let mut pts: Vec<(f64, f64)> = curve.iter().map(|c| (c.recall, c.precision)).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut ap = 0.0;
    let mut prev_r = 0.0;
    for i in 0..pts.len() {
        let best_p = pts[i..].iter().map(|p| p.1).fold(0.0, f64::max);
        ap += (pts[i].0 - prev_r) * best_p;
        prev_r = pts[i].0;
    }
    ap
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f64, y: f64) -> ScoredBox {
        ScoredBox {
            centre: PixelPoint { x, y },
            bbox: PixelBox { x0: x - 2.0, y0: y - 2.0, x1: x + 2.0, y1: y + 2.0 },
            score: 1.0,
            outline: None,
        }
    }

    fn truth(x: f64, y: f64) -> PixelLabel {
        PixelLabel {
            centre: PixelPoint { x, y },
            bbox: Some(PixelBox { x0: x - 2.0, y0: y - 2.0, x1: x + 2.0, y1: y + 2.0 }),
            outline: None,
            polygon: None,
        }
    }

    #[test]
    fn the_centred_best_lies_mid_plateau() {
        let c = |f1: f64| Counts { f1, ..Counts::default() };
        let curve = [c(0.5), c(0.9), c(1.0), c(1.0), c(1.0), c(1.0), c(1.0), c(0.8)];
        assert_eq!(best_f1(&curve).unwrap().0, 6);
        assert_eq!(best_f1_centred(&curve).unwrap().0, 4);
        assert_eq!(best_f1_centred(&[c(0.2)]).unwrap().0, 0);
    }

    #[test]
    fn counts_by_hand() {
        // Two labels, three detections: one on each label, one far away.
        let c = match_counts(
            &[det(0.0, 0.0), det(10.0, 0.0), det(50.0, 50.0)],
            &[truth(1.0, 0.0), truth(10.0, 1.0)],
            MatchRule::Distance { metres: 2.0 },
            1.0,
        );
        assert_eq!((c.tp, c.fp, c.fn_), (2, 1, 0));
        assert!((c.precision - 2.0 / 3.0).abs() < 1e-12 && c.recall == 1.0 && (c.f1 - 0.8).abs() < 1e-12);
        // Metres, not pixels: at 0.6 m per pixel, 5 px is 3 m.
        let c = match_counts(&[det(0.0, 0.0)], &[truth(5.0, 0.0)], MatchRule::Distance { metres: 2.9 }, 0.6);
        assert_eq!(c.tp, 0);
    }

    #[test]
    fn hungarian_finds_matches_greedy_misses() {
        // Detection A lies between labels 1 and 2 and is nearest to 1;
        // detection B reaches only label 1. Greedy nearest-first gives A->1
        // and leaves B unmatched (1 match); the assignment gives A->2, B->1.
        let dets = [det(5.0, 0.0), det(0.0, 0.0)];
        let labels = [truth(3.5, 0.0), truth(8.0, 0.0)];
        let c = match_counts(&dets, &labels, MatchRule::Distance { metres: 4.0 }, 1.0);
        assert_eq!((c.tp, c.fp, c.fn_), (2, 0, 0));
    }

    #[test]
    fn other_rules() {
        let c = match_counts(&[det(0.5, 0.5), det(9.0, 9.0)], &[truth(0.0, 0.0)], MatchRule::CenterInLabel, 1.0);
        assert_eq!((c.tp, c.fp, c.fn_), (1, 1, 0));
        // Boxes of 4x4 shifted by 1 px: IoU 12/20 = 0.6.
        let c = match_counts(&[det(1.0, 0.0)], &[truth(0.0, 0.0)], MatchRule::Iou { threshold: 0.6 }, 1.0);
        assert_eq!(c.tp, 1);
        let c = match_counts(&[det(1.0, 0.0)], &[truth(0.0, 0.0)], MatchRule::Iou { threshold: 0.61 }, 1.0);
        assert_eq!(c.tp, 0);
    }

    #[test]
    fn empty_inputs_give_numbers_not_nan() {
        let none = match_counts(&[], &[], MatchRule::Distance { metres: 1.0 }, 1.0);
        assert_eq!((none.precision, none.recall, none.f1), (0.0, 0.0, 0.0));
        let no_labels = match_counts(&[det(0.0, 0.0)], &[], MatchRule::Distance { metres: 1.0 }, 1.0);
        assert_eq!((no_labels.fp, no_labels.precision), (1, 0.0));
        let no_dets = match_counts(&[], &[truth(0.0, 0.0)], MatchRule::Distance { metres: 1.0 }, 1.0);
        assert_eq!((no_dets.fn_, no_dets.recall), (1, 0.0));
    }

    #[test]
    fn sweep_and_average_precision() {
        let mut dets = vec![det(0.0, 0.0), det(10.0, 0.0), det(30.0, 0.0)];
        dets[0].score = 0.9;
        dets[1].score = 0.6;
        dets[2].score = 0.3;
        let labels = [truth(0.0, 0.0), truth(10.0, 0.0)];
        let curve = sweep(&dets, &labels, MatchRule::Distance { metres: 1.0 }, 1.0, &[0.0, 0.5, 0.8]);
        assert_eq!(curve.iter().map(|c| c.tp).collect::<Vec<_>>(), [2, 2, 1]);
        assert_eq!(curve[1].f1, 1.0);
        // Recall 0.5 at precision 1, recall 1 at precision 1: AP 1.
        assert!((average_precision(&curve) - 1.0).abs() < 1e-12);
        assert!("distance:6".parse::<MatchRule>().is_ok() && "iou:1.5".parse::<MatchRule>().is_err());
    }
}
