//! Intersection over union of an outline and a label: against a box, the
//! polygon clipped to the box edge by edge (Sutherland-Hodgman, exact for
//! any simple polygon against a convex clip), areas by the shoelace;
//! against a polygon, the two intersected exactly (geo's boolean
//! operations, for any simple polygons).

use crate::coords::{PixelBox, PixelPoint};
use geo::{Area, BooleanOps};

/// Area of a simple polygon, either orientation.
pub fn polygon_area(p: &[PixelPoint]) -> f64 {
    let n = p.len();
    (0..n).map(|i| p[i].x * p[(i + 1) % n].y - p[(i + 1) % n].x * p[i].y).sum::<f64>().abs() / 2.0
}

/// A box's edge, as the clipping goes round it.
#[derive(Clone, Copy)]
enum Edge {
    Left,
    Right,
    Top,
    Bottom,
}

impl Edge {
    fn inside(self, q: PixelPoint, b: &PixelBox) -> bool {
        match self {
            Edge::Left => q.x >= b.x0,
            Edge::Right => q.x <= b.x1,
            Edge::Top => q.y >= b.y0,
            Edge::Bottom => q.y <= b.y1,
        }
    }

    /// Where the segment from `a` to `c` crosses this edge's line.
    fn crossing(self, a: PixelPoint, c: PixelPoint, b: &PixelBox) -> PixelPoint {
        let at_x = |v: f64| PixelPoint { x: v, y: a.y + (v - a.x) / (c.x - a.x) * (c.y - a.y) };
        let at_y = |v: f64| PixelPoint { x: a.x + (v - a.y) / (c.y - a.y) * (c.x - a.x), y: v };
        match self {
            Edge::Left => at_x(b.x0),
            Edge::Right => at_x(b.x1),
            Edge::Top => at_y(b.y0),
            Edge::Bottom => at_y(b.y1),
        }
    }
}

/// The part of polygon `p` inside box `b`.
pub fn clip_to_box(p: &[PixelPoint], b: &PixelBox) -> Vec<PixelPoint> {
    let mut out = p.to_vec();
    for edge in [Edge::Left, Edge::Right, Edge::Top, Edge::Bottom] {
        let input = std::mem::take(&mut out);
        let n = input.len();
        for i in 0..n {
            let (cur, prev) = (input[i], input[(i + n - 1) % n]);
            match (edge.inside(cur, b), edge.inside(prev, b)) {
                (true, true) => out.push(cur),
                (true, false) => out.extend([edge.crossing(prev, cur, b), cur]),
                (false, true) => out.push(edge.crossing(prev, cur, b)),
                (false, false) => {}
            }
        }
    }
    out
}

/// Intersection over union of polygon `p` and box `b`.
pub fn polygon_box_iou(p: &[PixelPoint], b: &PixelBox) -> f64 {
    let inter = polygon_area(&clip_to_box(p, b));
    let union = polygon_area(p) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
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
    fn a_square_against_boxes() {
        let square = pts(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]);
        assert_eq!(polygon_area(&square), 16.0);
        let same = PixelBox { x0: 0.0, y0: 0.0, x1: 4.0, y1: 4.0 };
        assert!((polygon_box_iou(&square, &same) - 1.0).abs() < 1e-12);
        // Shifted by 1 px: 12 / 20.
        let shifted = PixelBox { x0: 1.0, y0: 0.0, x1: 5.0, y1: 4.0 };
        assert!((polygon_box_iou(&square, &shifted) - 0.6).abs() < 1e-12);
        let apart = PixelBox { x0: 10.0, y0: 10.0, x1: 12.0, y1: 12.0 };
        assert_eq!(polygon_box_iou(&square, &apart), 0.0);
    }

    #[test]
    fn polygons_against_polygons() {
        let square = pts(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]);
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

    #[test]
    fn a_diamond_in_its_box() {
        // A diamond fills half its bounding box.
        let diamond = pts(&[(2.0, 0.0), (4.0, 2.0), (2.0, 4.0), (0.0, 2.0)]);
        let b = PixelBox { x0: 0.0, y0: 0.0, x1: 4.0, y1: 4.0 };
        assert!((polygon_box_iou(&diamond, &b) - 0.5).abs() < 1e-12);
        // Clipped to the box's left half: a quarter of the box.
        let left = PixelBox { x0: 0.0, y0: 0.0, x1: 2.0, y1: 4.0 };
        assert!((polygon_area(&clip_to_box(&diamond, &left)) - 4.0).abs() < 1e-12);
    }
}
