//! Where labelling helps most next (active learning): windows of a raster
//! ranked by how unsure the model is there (the summed uncertainty of its
//! detections, highest for scores near its threshold), picked greedily so
//! that no two chosen windows of a raster touch (diverse), then across
//! rasters by uncertainty.

use crate::coords::PixelWindow;
use crate::objects::Detection;

/// A window worth labelling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Suggestion {
    /// Which raster (an index into the caller's list).
    pub raster: usize,
    /// The window, in the raster's pixels.
    pub window: PixelWindow,
    /// Summed uncertainty of the detections in it.
    pub uncertainty: f64,
    /// Detections in it that scored within the uncertain band (uncertainty
    /// at least one half).
    pub uncertain: usize,
    /// Detections in it above the model's threshold.
    pub detections: usize,
}

/// How unsure a model with threshold `t` is of a detection scoring `s`: 1
/// at the threshold, falling linearly to 0 at scores 0 and 1.
pub fn uncertainty(s: f64, t: f64) -> f64 {
    let t = t.clamp(1e-6, 1.0 - 1e-6);
    if s <= t {
        (s / t).max(0.0)
    } else {
        ((1.0 - s) / (1.0 - t)).max(0.0)
    }
}

/// The windows of side `side` tiling a `width` x `height` raster (edge
/// windows cut short), ranked and spaced as the module says; at most `k`.
pub fn rank_windows(
    raster: usize,
    dets: &[Detection],
    (width, height): (usize, usize),
    side: usize,
    threshold: f64,
    k: usize,
) -> Vec<Suggestion> {
    let side = side.max(1);
    let (cols, rows) = (width.div_ceil(side), height.div_ceil(side));
    let mut cells = vec![(0.0f64, 0usize, 0usize); cols * rows];
    for d in dets {
        let (c, r) =
            ((d.centre.x.max(0.0) as usize / side).min(cols - 1), (d.centre.y.max(0.0) as usize / side).min(rows - 1));
        let u = uncertainty(d.score as f64, threshold);
        let cell = &mut cells[r * cols + c];
        cell.0 += u;
        cell.1 += usize::from(u >= 0.5);
        cell.2 += usize::from(d.score as f64 >= threshold);
    }
    let mut order: Vec<usize> = (0..cells.len()).filter(|&i| cells[i].0 > 0.0).collect();
    order.sort_by(|&a, &b| cells[b].0.total_cmp(&cells[a].0).then(a.cmp(&b)));
    let mut chosen: Vec<usize> = Vec::new();
    for i in order {
        if chosen.len() == k {
            break;
        }
        let touches = |j: &usize| (i % cols).abs_diff(j % cols) <= 1 && (i / cols).abs_diff(j / cols) <= 1;
        if !chosen.iter().any(touches) {
            chosen.push(i);
        }
    }
    chosen
        .into_iter()
        .map(|i| {
            let (x, y) = ((i % cols) * side, (i / cols) * side);
            Suggestion {
                raster,
                window: PixelWindow::new(x, y, side.min(width - x), side.min(height - y)),
                uncertainty: cells[i].0,
                uncertain: cells[i].1,
                detections: cells[i].2,
            }
        })
        .collect()
}

/// The `k` most uncertain of every raster's suggestions, most uncertain first.
pub fn best_of(mut all: Vec<Suggestion>, k: usize) -> Vec<Suggestion> {
    all.sort_by(|a, b| {
        b.uncertainty.total_cmp(&a.uncertainty).then(a.raster.cmp(&b.raster)).then(a.window.y.cmp(&b.window.y))
    });
    all.truncate(k);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coords::PixelPoint;

    fn at(x: f64, y: f64, score: f32) -> Detection {
        Detection::at(PixelPoint { x, y }, score)
    }

    #[test]
    fn uncertainty_peaks_at_the_threshold() {
        assert_eq!(uncertainty(0.2, 0.2), 1.0);
        assert_eq!(uncertainty(0.0, 0.2), 0.0);
        assert_eq!(uncertainty(1.0, 0.2), 0.0);
        assert!((uncertainty(0.6, 0.2) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn unsure_windows_first_and_never_neighbours() {
        // 4 x 4 windows of 10 px. Confident detections at (5, 5); unsure ones
        // in windows (1, 1), (2, 1) (its neighbour) and (3, 3).
        let dets = [
            at(5.0, 5.0, 0.99),
            at(15.0, 15.0, 0.21),
            at(16.0, 14.0, 0.19),
            at(25.0, 15.0, 0.2),
            at(25.0, 16.0, 0.22),
            at(25.0, 17.0, 0.18),
            at(35.0, 35.0, 0.25),
        ];
        let s = rank_windows(0, &dets, (40, 40), 10, 0.2, 3);
        let cells: Vec<(usize, usize)> = s.iter().map(|s| (s.window.x / 10, s.window.y / 10)).collect();
        assert_eq!(cells, [(2, 1), (3, 3), (0, 0)], "(1, 1) touches (2, 1)");
        assert_eq!((s[0].uncertain, s[0].detections), (3, 2));
        assert_eq!(best_of(s, 2).len(), 2);
    }
}
