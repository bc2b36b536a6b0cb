//! Peaks of a score map: pixels scoring at least as high as every
//! neighbour within a radius, the detections of a heatmap network.

use detection::coords::PixelPoint;
use detection::objects::ScoredPoint;
use tch::{Kind, Tensor};

/// A peak as [`local_maxima`] gives it, as the scored centre of its pixel.
pub fn pixel_centre((x, y, score): (usize, usize, f32)) -> ScoredPoint {
    ScoredPoint { at: PixelPoint { x: x as f64 + 0.5, y: y as f64 + 0.5 }, score, radii: None, uncertainty: None }
}

/// Local maxima of `scores` (H x W) within a `(2 radius + 1)`-pixel square
/// that score at least `floor`: (column, row, score), row-major order.
/// Found on the CPU (where every caller's map already is), in one scan.
pub fn local_maxima(scores: &Tensor, radius: i64, floor: f32) -> Vec<(usize, usize, f32)> {
    let s = scores.to_device(tch::Device::Cpu).to_kind(Kind::Float).contiguous();
    let width = s.size()[1] as usize;
    let values = Vec::<f32>::try_from(s.view([-1])).unwrap_or_default();
    maxima_in(&values, width, radius as usize, floor)
}

/// [`local_maxima`] of a row-major map `width` pixels wide, in one pass
/// that looks around only the pixels at or above the floor (few: most of a
/// tile scores near zero), instead of a max-pool over the whole map.
fn maxima_in(values: &[f32], width: usize, radius: usize, floor: f32) -> Vec<(usize, usize, f32)> {
    let height = values.len().checked_div(width).unwrap_or(0);
    let mut out = Vec::new();
    for y in 0..height {
        let row = &values[y * width..(y + 1) * width];
        for (x, &v) in row.iter().enumerate() {
            if v.is_nan() || v < floor {
                continue;
            }
            let (x0, x1) = (x.saturating_sub(radius), (x + radius).min(width - 1));
            let rows = y.saturating_sub(radius)..=(y + radius).min(height - 1);
            if rows.into_iter().all(|r| values[r * width + x0..=r * width + x1].iter().all(|&u| u <= v)) {
                out.push((x, y, v));
            }
        }
    }
    out
}

/// Heatmap peaks scoring under this are dropped before anything else sees
/// them: far below any operating point, and most pixels of a tile.
pub const PEAK_FLOOR: f32 = 0.02;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxima_above_the_floor() {
        #[rustfmt::skip]
        let s = Tensor::from_slice(&[
            0.1f32, 0.2, 0.1, 0.0, 0.0,
            0.2,    0.9, 0.3, 0.0, 0.4,
            0.1,    0.3, 0.2, 0.0, 0.0,
        ]).view([3, 5]);
        assert_eq!(local_maxima(&s, 1, 0.3), vec![(1, 1, 0.9), (4, 1, 0.4)]);
        assert_eq!(local_maxima(&s, 1, 0.5), vec![(1, 1, 0.9)]);
        // A wider neighbourhood swallows the lower peak.
        assert_eq!(local_maxima(&s, 3, 0.0), vec![(1, 1, 0.9)]);
    }

    /// The one-pass scan finds what a max-pool finds, plateaus (ties) and
    /// edges included.
    #[test]
    fn the_scan_agrees_with_a_max_pool() {
        let (h, w) = (37usize, 53usize);
        // Coarse values: many ties and plateaus.
        let v: Vec<f32> = (0..h * w).map(|i| ((i * 7919 + i / 13 * 31) % 11) as f32 / 10.0).collect();
        let t = Tensor::from_slice(&v).view([h as i64, w as i64]);
        for (radius, floor) in [(1, 0.0), (1, 0.5), (2, 0.3), (3, 0.9)] {
            let k = 2 * radius + 1;
            let max = t.view([1, 1, h as i64, w as i64]).max_pool2d([k, k], [1, 1], [radius, radius], [1, 1], false);
            let keep = t.eq_tensor(&max.view([h as i64, w as i64])).logical_and(&t.ge(floor as f64));
            let pooled: Vec<(usize, usize)> = Vec::<i64>::try_from(keep.nonzero().contiguous().view([-1]))
                .unwrap()
                .chunks(2)
                .map(|rc| (rc[1] as usize, rc[0] as usize))
                .collect();
            let scanned: Vec<(usize, usize)> =
                maxima_in(&v, w, radius as usize, floor).into_iter().map(|(x, y, _)| (x, y)).collect();
            assert!(!scanned.is_empty());
            assert_eq!(scanned, pooled, "radius {radius}, floor {floor}");
        }
    }
}
