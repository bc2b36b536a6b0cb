//! The penalty-reduced focal loss of CenterNet (Zhou et al. 2019) for
//! heatmaps: object-centre pixels are positives, every other pixel a
//! negative whose weight falls near a centre, so a network is not punished
//! for scoring the pixel beside a centre almost as high.

use tch::{Kind, Reduction, Tensor};

/// Mean loss per object of `logits` against `targets` (same shape, 1 at
/// centres, Gaussian bumps around them), counting only pixels where `valid`
/// (same shape, 0 or 1) is 1.
pub fn centre_focal_loss(logits: &Tensor, targets: &Tensor, valid: &Tensor) -> Tensor {
    let pos = targets.eq(1.0).to_kind(Kind::Float) * valid;
    let neg = (-targets.eq(1.0).to_kind(Kind::Float) + 1.0) * valid;
    let p = logits.sigmoid();
    // log p and log(1 - p) from the logits, which stays finite where p saturates.
    let log_p = logits.log_sigmoid();
    let log_not_p = (-logits).log_sigmoid();
    let pos_loss = (&log_p * (-&p + 1.0).square() * &pos).sum(Kind::Float);
    let neg_loss = (&log_not_p * p.square() * (-targets + 1.0).pow_tensor_scalar(4) * &neg).sum(Kind::Float);
    let objects = pos.sum(Kind::Float).clamp_min(1.0);
    -(pos_loss + neg_loss) / objects
}

/// Binary cross-entropy of the same maps, for logging: comparable across
/// chips whatever their object count.
pub fn pixel_bce(logits: &Tensor, targets: &Tensor, valid: &Tensor) -> Tensor {
    let per_pixel = logits.binary_cross_entropy_with_logits::<Tensor>(targets, None, None, Reduction::None);
    (per_pixel * valid).sum(Kind::Float) / valid.sum(Kind::Float).clamp_min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn confident_right_answers_cost_less() {
        let targets = Tensor::from_slice(&[1.0f32, 0.6, 0.0, 0.0]).view([1, 1, 2, 2]);
        let valid = Tensor::ones([1, 1, 2, 2], (Kind::Float, Device::Cpu));
        let good = Tensor::from_slice(&[4.0f32, 0.0, -4.0, -4.0]).view([1, 1, 2, 2]);
        let bad = Tensor::from_slice(&[-4.0f32, 0.0, 4.0, 4.0]).view([1, 1, 2, 2]);
        let l = |x: &Tensor| f64::try_from(centre_focal_loss(x, &targets, &valid)).unwrap();
        assert!(l(&good) < 0.01 && l(&bad) > 5.0, "{} {}", l(&good), l(&bad));
        // Invalid pixels do not count.
        let none = Tensor::zeros([1, 1, 2, 2], (Kind::Float, Device::Cpu));
        assert_eq!(f64::try_from(centre_focal_loss(&bad, &targets, &none)).unwrap(), 0.0);
    }
}
