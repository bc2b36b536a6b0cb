//! How detections' outlines fit the shapes of the labels they matched:
//! the median overlap (intersection over union) and the median area error,
//! the figures a user reads before trusting `area_m2`.

use crate::evaluate::{detection_area, label_area, shape_iou, ScoredBox};
use crate::formats::report::ShapeFit;
use crate::objects::PixelLabel;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The fit over matched `pairs`; pairs whose label is a point are left out,
/// and `None` when none is left.
pub fn shape_fit<'a>(pairs: impl IntoIterator<Item = (&'a ScoredBox, &'a PixelLabel)>) -> Option<ShapeFit> {
    let (mut ious, mut errors) = (Vec::new(), Vec::new());
    for (d, t) in pairs {
        let (Some(iou), Some(area)) = (shape_iou(d, t), label_area(t).filter(|a| *a > 0.0)) else { continue };
        ious.push(iou);
        errors.push((detection_area(d, t) - area) / area);
    }
    if ious.is_empty() {
        return None;
    }
    Some(ShapeFit {
        pairs: ious.len(),
        median_iou: median(ious),
        median_abs_area_error: median(errors.iter().map(|e| e.abs()).collect()),
        median_area_error: median(errors),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coords::{PixelBox, PixelPoint};
    use std::sync::Arc;

    fn square(x0: f64, side: f64) -> Arc<[PixelPoint]> {
        [(x0, 0.0), (x0 + side, 0.0), (x0 + side, side), (x0, side)]
            .iter()
            .map(|&(x, y)| PixelPoint { x, y })
            .collect::<Vec<_>>()
            .into()
    }

    #[test]
    fn a_polygon_label_against_its_own_outline_and_a_larger_one() {
        let label = PixelLabel {
            centre: PixelPoint { x: 2.0, y: 2.0 },
            bbox: Some(PixelBox { x0: 0.0, y0: 0.0, x1: 4.0, y1: 4.0 }),
            outline: None,
            polygon: Some(square(0.0, 4.0)),
        };
        let own =
            ScoredBox { centre: label.centre, bbox: label.bbox.unwrap(), score: 1.0, outline: label.polygon.clone() };
        let big = ScoredBox { outline: Some(square(0.0, 8.0)), ..own.clone() };
        let fit = shape_fit([(&own, &label)]).unwrap();
        assert_eq!((fit.pairs, fit.median_iou, fit.median_area_error), (1, 1.0, 0.0));
        let fit = shape_fit([(&own, &label), (&big, &label), (&big, &label)]).unwrap();
        assert_eq!(fit.median_iou, 0.25);
        assert_eq!(fit.median_area_error, 3.0);
        let point = PixelLabel { bbox: None, polygon: None, ..label };
        assert!(shape_fit([(&own, &point)]).is_none());
    }
}
