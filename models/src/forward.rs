//! Forward helpers inference and training share: normalised inputs,
//! padding to a network's stride, a heatmap network's scores and outline
//! radii.

use crate::model_file::{Model, Net};
use tch::Tensor;

/// Raw values normalised by the model's band statistics.
pub fn normalise(model: &Model, x: &Tensor) -> Tensor {
    crate::normalise::Normalisation::new(&model.meta, x.device()).apply(x)
}

/// Pads N x C x H x W on the right and bottom to multiples of `stride`
/// (with zeros: the mean, once normalised), as a heatmap network needs.
pub fn pad_to_stride(x: &Tensor, stride: i64) -> Tensor {
    let (h, w) = (x.size()[2], x.size()[3]);
    let (ph, pw) = ((stride - h % stride) % stride, (stride - w % stride) % stride);
    if ph == 0 && pw == 0 {
        x.shallow_clone()
    } else {
        x.constant_pad_nd([0, pw, 0, ph])
    }
}

/// Object probabilities (N x H x W) of normalised chips from a heatmap
/// network, in evaluation mode.
pub fn heatmap_scores(model: &Model, x: &Tensor, positive: usize) -> Option<Tensor> {
    heatmap_scores_and_radii(model, x, positive).map(|(scores, _)| scores)
}

/// Object probabilities (N x H x W) and, with an extent head, the outline
/// radii in pixels of an object centred at each pixel (N x RAYS x H x W),
/// of normalised chips, in evaluation mode.
pub fn heatmap_scores_and_radii(model: &Model, x: &Tensor, positive: usize) -> Option<(Tensor, Option<Tensor>)> {
    let Net::Resnet(r) = &model.net else { return None };
    let (maps, log_radii) = r.heatmap_with_extent(&pad_to_stride(x, r.stride), false)?;
    Some(scores_and_radii(maps, log_radii, x, positive))
}

/// Object probabilities (N x H x W) and outline radii in pixels from a
/// heatmap network's logit and log-radius maps of `x` padded to the
/// network's stride: cropped back to `x`'s size.
pub fn scores_and_radii(
    maps: Tensor,
    log_radii: Option<Tensor>,
    x: &Tensor,
    positive: usize,
) -> (Tensor, Option<Tensor>) {
    let (h, w) = (x.size()[2], x.size()[3]);
    let crop = |t: Tensor| t.narrow(1, 0, h).narrow(2, 0, w);
    let crop_rays = |t: Tensor| t.narrow(2, 0, h).narrow(3, 0, w);
    let scores = crop(maps.select(1, positive.saturating_sub(1) as i64)).sigmoid();
    (scores, log_radii.map(|l| crop_rays(l).exp()))
}
