//! Grad-CAM (Selvaraju et al. 2017) for patch classifiers: where in a patch
//! the evidence for the object class lies, as the feature maps of a layer
//! weighted by the mean gradient of the class's logit over each of them.

use crate::model_file::Model;
use tch::{Kind, Tensor};

/// Grad-CAM's map is as coarse as its layer; the deepest layer with at
/// least this many cells across the patch is used (the last stage of a
/// ResNet on a 64 px patch has 2).
pub const MIN_CELLS: i64 = 8;

/// The class-activation map of `x` (1 x C x P x P, normalised) for class
/// `class`, ReLU'd and upsampled to P x P (bilinear); `None` for networks
/// without a pooled head (heatmap networks: see
/// [`crate::peak_gradient`]).
pub fn grad_cam(model: &Model, x: &Tensor, class: usize) -> Option<Tensor> {
    let p = x.size()[3];
    let (features, logits) = model.net.cam_split(x, MIN_CELLS)?;
    // The layer's output as a leaf, so the gradient stops there.
    let features = features.detach().to_kind(Kind::Float).set_requires_grad(true);
    let y = logits(&features).get(0).get(class as i64);
    let grad = Tensor::run_backward(&[&y], &[&features], false, false).pop()?;
    let weights = grad.mean_dim([2i64, 3].as_slice(), true, Kind::Float);
    let cam = (weights * features.detach()).sum_dim_intlist([1i64].as_slice(), true, Kind::Float).relu();
    Some(cam.upsample_bilinear2d([p, p], false, None, None).view([p, p]))
}

#[cfg(test)]
mod tests {
    use crate::model_file::Model;
    use crate::Classifier;
    use tch::Device;

    /// Both kinds of patch classifier give a map of the patch's size,
    /// in [0, 1] and scaled to 1 at its strongest (or all zero), and
    /// explain whole patches only.
    #[test]
    fn resnet_and_googlenet_maps_cover_the_patch() {
        let _rng = crate::rng_lock();
        for (arch, patch) in [("resnet-small", 16usize), ("googlenet-small", 64)] {
            tch::manual_seed(5);
            let meta = crate::test_meta(arch, patch, 0.5, "shrub");
            let c = Classifier::from_model(Model::new(meta, Device::Cpu).unwrap());
            let tile: Vec<f32> = (0..3 * patch * patch).map(|i| ((i * 37) % 251) as f32).collect();
            let map = c.explain(&tile, patch, patch, (patch / 2, patch / 2)).unwrap();
            assert_eq!(map.len(), patch * patch, "{arch}");
            assert!(map.iter().all(|v| (0.0..=1.0).contains(v)), "{arch}");
            let top = map.iter().copied().fold(0.0f32, f32::max);
            assert!(top == 0.0 || (top - 1.0).abs() < 1e-6, "{arch}: {top}");
            assert!(c.explain(&tile[..3 * 8 * 8], 8, 8, (4, 4)).is_err(), "{arch}: only whole patches");
        }
    }
}
