//! Non-maximum suppression by distance: of detections closer than the
//! suppression distance, only the highest-scoring one stays. Run once over a
//! whole raster, after every tile, so duplicates from overlapping windows and
//! from neighbouring tiles merge alike.

use crate::objects::{rank, Detection};
use rstar::primitives::GeomWithData;
use rstar::RTree;

/// Keeps each detection that has no higher-ranked kept detection within
/// `distance` pixels (centre to centre); returns them ranked.
pub fn suppress(mut detections: Vec<Detection>, distance: f64) -> Vec<Detection> {
    detections.sort_by(rank);
    if distance <= 0.0 {
        return detections;
    }
    let d2 = distance * distance;
    let mut kept_index: RTree<GeomWithData<[f64; 2], ()>> = RTree::new();
    let mut kept = Vec::new();
    for d in detections {
        let p = [d.centre.x, d.centre.y];
        // Strictly closer than the distance suppresses.
        if kept_index.locate_within_distance(p, d2).any(|k| {
            let q = k.geom();
            (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2) < d2
        }) {
            continue;
        }
        kept_index.insert(GeomWithData::new(p, ()));
        kept.push(d);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coords::{PixelBox, PixelPoint};

    fn det(x: f64, y: f64, score: f32) -> Detection {
        let centre = PixelPoint { x, y };
        Detection {
            centre,
            footprint: PixelBox { x0: x - 1.0, y0: y - 1.0, x1: x + 1.0, y1: y + 1.0 },
            score,
            outline: None,
            uncertainty: None,
        }
    }

    #[test]
    fn the_best_of_a_cluster_stays() {
        let kept =
            suppress(vec![det(10.0, 10.0, 0.6), det(12.0, 10.0, 0.9), det(30.0, 10.0, 0.7), det(13.0, 11.0, 0.8)], 5.0);
        assert_eq!(kept, vec![det(12.0, 10.0, 0.9), det(30.0, 10.0, 0.7)]);
    }

    #[test]
    fn order_of_input_does_not_matter() {
        let a = vec![det(0.0, 0.0, 0.5), det(3.0, 0.0, 0.5), det(6.0, 0.0, 0.5), det(9.0, 0.0, 0.9)];
        let mut b = a.clone();
        b.reverse();
        assert_eq!(suppress(a, 4.0), suppress(b, 4.0));
    }

    #[test]
    fn exactly_at_the_distance_both_stay() {
        assert_eq!(suppress(vec![det(0.0, 0.0, 0.5), det(4.0, 0.0, 0.6)], 4.0).len(), 2);
    }
}
