//! What a heatmap network's score at one pixel rests on: the magnitude of
//! that score's gradient with respect to each input pixel, summed over the
//! bands (a saliency map, Simonyan et al. 2014), smoothed over a few pixels
//! so that it reads as regions rather than speckle.

use crate::forward::heatmap_scores;
use crate::model_file::Model;
use tch::{Kind, Tensor};

/// Standard deviation (pixels) of the Gaussian the map is smoothed with.
pub const SMOOTHING_PX: f64 = 1.5;

/// |d score(row, col) / d x| summed over bands (H x W) for `x` (1 x C x H x
/// W, normalised), smoothed; `None` for networks without a heatmap head.
pub fn peak_gradient(model: &Model, x: &Tensor, positive: usize, row: i64, col: i64) -> Option<Tensor> {
    let x = x.detach().to_kind(Kind::Float).set_requires_grad(true);
    let scores = heatmap_scores(model, &x, positive)?;
    let y = scores.get(0).get(row).get(col);
    let grad = Tensor::run_backward(&[&y], &[&x], false, false).pop()?;
    let map = grad.abs().sum_dim_intlist([1i64].as_slice(), true, Kind::Float);
    let r = (3.0 * SMOOTHING_PX).ceil() as i64;
    let g = Tensor::arange_start(-r, r + 1, (Kind::Float, map.device()));
    let g = (-(&g * &g) / (2.0 * SMOOTHING_PX * SMOOTHING_PX)).exp();
    let g = &g / g.sum(Kind::Float);
    // Separable: along rows, then along columns, zero beyond the edges.
    let rows = map.conv2d(&g.view([1, 1, 1, -1]), None::<Tensor>, [1, 1], [0, r], [1, 1], 1);
    let both = rows.conv2d(&g.view([1, 1, -1, 1]), None::<Tensor>, [1, 1], [r, 0], [1, 1], 1);
    Some(both.get(0).get(0))
}
