//! Where a partly labelled raster was labelled, when the user drew no
//! labelled areas: the convex hull of its labels, padded. Training learns
//! background only there, so the unlabelled objects elsewhere in the
//! raster are not taught as background.

use detection::objects::PixelLabel;
use geo::{ConvexHull, Coord, MultiPoint, Point, Polygon};

/// The convex hull of `labels` (centres and extents) padded by `pad_px`
/// raster pixels on every side; `None` without labels.
pub fn padded_label_hull(labels: &[PixelLabel], pad_px: f64) -> Option<Polygon<f64>> {
    if labels.is_empty() {
        return None;
    }
    let mut points = Vec::with_capacity(labels.len() * 4);
    for l in labels {
        let (x0, y0, x1, y1) = match l.bbox {
            Some(b) => (b.x0.min(l.centre.x), b.y0.min(l.centre.y), b.x1.max(l.centre.x), b.y1.max(l.centre.y)),
            None => (l.centre.x, l.centre.y, l.centre.x, l.centre.y),
        };
        // The label's corners moved out by the pad: the hull of them holds
        // every label with at least `pad_px` around it.
        for (x, y) in [
            (x0 - pad_px, y0 - pad_px),
            (x1 + pad_px, y0 - pad_px),
            (x1 + pad_px, y1 + pad_px),
            (x0 - pad_px, y1 + pad_px),
        ] {
            points.push(Point(Coord { x, y }));
        }
    }
    Some(MultiPoint(points).convex_hull())
}

/// How far around its labels a partly labelled raster is taken as
/// labelled: the larger of this many metres and the largest label's side.
pub const HULL_PAD_M: f64 = 5.0;

/// The pad, in raster pixels, for `labels` of a raster of `pixel_m` metres
/// per pixel (see [`HULL_PAD_M`]).
pub fn hull_pad_px(labels: &[PixelLabel], pixel_m: f64) -> f64 {
    let largest = labels.iter().filter_map(|l| l.bbox).map(|b| (b.x1 - b.x0).max(b.y1 - b.y0)).fold(0.0, f64::max);
    (HULL_PAD_M / pixel_m).max(largest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use detection::coords::{PixelBox, PixelPoint};
    use geo::{Area, Contains};

    fn point(x: f64, y: f64) -> PixelLabel {
        PixelLabel { centre: PixelPoint { x, y }, bbox: None, outline: None, polygon: None }
    }

    #[test]
    fn the_hull_holds_every_label_with_its_pad_and_not_the_far_side() {
        let labels = [point(10.0, 10.0), point(50.0, 12.0), point(30.0, 40.0)];
        let hull = padded_label_hull(&labels, 5.0).unwrap();
        for l in &labels {
            for (dx, dy) in [(-4.9, 0.0), (4.9, 0.0), (0.0, -4.9), (0.0, 4.9)] {
                assert!(hull.contains(&Point::new(l.centre.x + dx, l.centre.y + dy)));
            }
        }
        assert!(!hull.contains(&Point::new(30.0, 60.0)));
        assert!(!hull.contains(&Point::new(200.0, 200.0)));
        assert!(padded_label_hull(&[], 5.0).is_none());
    }

    #[test]
    fn boxes_widen_the_pad_and_the_hull() {
        let b = PixelLabel {
            centre: PixelPoint { x: 20.0, y: 20.0 },
            bbox: Some(PixelBox { x0: 10.0, y0: 10.0, x1: 30.0, y1: 30.0 }),
            outline: None,
            polygon: None,
        };
        assert_eq!(hull_pad_px(std::slice::from_ref(&b), 0.5), 20.0, "the box's side beats 5 m = 10 px");
        assert_eq!(hull_pad_px(&[point(1.0, 1.0)], 0.5), 10.0);
        let hull = padded_label_hull(&[b], 2.0).unwrap();
        assert!((hull.unsigned_area() - 24.0 * 24.0).abs() < 1e-9);
    }
}
