//! The one normalisation training and detection share: each band minus the
//! training imagery's mean, over its standard deviation (the model file's
//! `mean` and `std`).

use crate::model_file::ModelMeta;
use tch::{Device, Tensor};

/// A model's band statistics, on a device, ready to apply.
pub struct Normalisation {
    mean: Tensor,
    std: Tensor,
}

impl Normalisation {
    /// The statistics of `meta`, on `device`.
    pub fn new(meta: &ModelMeta, device: Device) -> Normalisation {
        let n = meta.bands.len() as i64;
        Normalisation {
            mean: Tensor::from_slice(&meta.mean).view([1, n, 1, 1]).to_device(device),
            std: Tensor::from_slice(&meta.std).view([1, n, 1, 1]).to_device(device),
        }
    }

    /// Network input from raw values (N x C x H x W, on the same device).
    pub fn apply(&self, raw: &Tensor) -> Tensor {
        (raw - &self.mean) / &self.std
    }
}
