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
pub fn local_maxima(scores: &Tensor, radius: i64, floor: f32) -> Vec<(usize, usize, f32)> {
    let k = 2 * radius + 1;
    let s = scores.to_kind(Kind::Float);
    let max = s
        .unsqueeze(0)
        .unsqueeze(0)
        .max_pool2d([k, k], [1, 1], [radius, radius], [1, 1], false)
        .squeeze_dim(0)
        .squeeze_dim(0);
    let keep = s.eq_tensor(&max).logical_and(&s.ge(floor as f64));
    let at = keep.nonzero().to_device(tch::Device::Cpu);
    let n = at.size()[0];
    if n == 0 {
        return Vec::new();
    }
    let values = s.index(&[Some(at.select(1, 0).to_device(s.device())), Some(at.select(1, 1).to_device(s.device()))]);
    let rows = Vec::<i64>::try_from(at.select(1, 0).contiguous()).unwrap_or_default();
    let cols = Vec::<i64>::try_from(at.select(1, 1).contiguous()).unwrap_or_default();
    let values = Vec::<f32>::try_from(values.to_device(tch::Device::Cpu).contiguous()).unwrap_or_default();
    rows.into_iter().zip(cols).zip(values).map(|((r, c), v)| (c as usize, r as usize, v)).collect()
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
}
