//! Areas and overlaps of outlines: the shoelace area, and the intersection
//! of two simple polygons (geo's boolean operations), as an intersection
//! over union or as the part of one inside the other.

use crate::coords::PixelPoint;
use geo::{Area, BooleanOps};

/// Area of a simple polygon, either orientation.
pub fn polygon_area(p: &[PixelPoint]) -> f64 {
    let n = p.len();
    (0..n).map(|i| p[i].x * p[(i + 1) % n].y - p[(i + 1) % n].x * p[i].y).sum::<f64>().abs() / 2.0
}

/// A ring of pixel points as a geo polygon.
fn geo_polygon(p: &[PixelPoint]) -> geo::Polygon<f64> {
    geo::Polygon::new(p.iter().map(|q| geo::coord! { x: q.x, y: q.y }).collect(), vec![])
}

/// Intersection over union of two simple polygons.
pub fn polygon_iou(a: &[PixelPoint], b: &[PixelPoint]) -> f64 {
    let (pa, pb) = (geo_polygon(a), geo_polygon(b));
    let inter = pa.intersection(&pb).unsigned_area();
    let union = pa.unsigned_area() + pb.unsigned_area() - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// The part of `a` inside `b` (their intersection's largest piece, its
/// outer ring open); `None` when they do not overlap.
pub fn clipped(a: &[PixelPoint], b: &[PixelPoint]) -> Option<Vec<PixelPoint>> {
    let inter = geo_polygon(a).intersection(&geo_polygon(b));
    let largest = inter.0.into_iter().max_by(|p, q| p.unsigned_area().total_cmp(&q.unsigned_area()))?;
    let mut ring: Vec<PixelPoint> = largest.exterior().0.iter().map(|c| PixelPoint { x: c.x, y: c.y }).collect();
    ring.pop();
    (ring.len() >= 3).then_some(ring)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(f64, f64)]) -> Vec<PixelPoint> {
        v.iter().map(|&(x, y)| PixelPoint { x, y }).collect()
    }

    #[test]
    fn polygons_against_polygons() {
        let square = pts(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]);
        assert_eq!(polygon_area(&square), 16.0);
        assert!((polygon_iou(&square, &square) - 1.0).abs() < 1e-12);
        let diamond = pts(&[(2.0, 0.0), (4.0, 2.0), (2.0, 4.0), (0.0, 2.0)]);
        assert!((polygon_iou(&diamond, &square) - 0.5).abs() < 1e-12);
        // An L against its own bounding square: 12 / 16.
        let l = pts(&[(0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (2.0, 2.0), (2.0, 4.0), (0.0, 4.0)]);
        assert!((polygon_iou(&l, &square) - 0.75).abs() < 1e-12);
        let apart = pts(&[(10.0, 10.0), (12.0, 10.0), (12.0, 12.0)]);
        assert_eq!(polygon_iou(&square, &apart), 0.0);
    }

    #[test]
    fn a_polygon_clipped_by_another_keeps_what_lies_inside() {
        let square = pts(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]);
        let right = pts(&[(2.0, -1.0), (6.0, -1.0), (6.0, 5.0), (2.0, 5.0)]);
        assert!((polygon_area(&clipped(&square, &right).unwrap()) - 8.0).abs() < 1e-12);
        let apart = pts(&[(10.0, 10.0), (12.0, 10.0), (12.0, 12.0)]);
        assert_eq!(clipped(&square, &apart), None);
    }
}
