//! The one normalisation training and detection share: each band minus the
//! training imagery's mean, over its standard deviation (the model file's
//! `mean` and `std`).

use crate::model_file::ModelMeta;
use tch::{Device, Tensor};

/// A model's band statistics, on a device, ready to apply.
pub struct Normalisation {
    mean: Tensor,
    std: Tensor,
    /// The same, as numbers, for [`Normalisation::interleaved`].
    values: Vec<(f32, f32)>,
}

impl Normalisation {
    /// The statistics of `meta`, on `device`.
    pub fn new(meta: &ModelMeta, device: Device) -> Normalisation {
        let n = meta.bands.len() as i64;
        Normalisation {
            mean: Tensor::from_slice(&meta.mean).view([1, n, 1, 1]).to_device(device),
            std: Tensor::from_slice(&meta.std).view([1, n, 1, 1]).to_device(device),
            values: meta.mean.iter().copied().zip(meta.std.iter().copied()).collect(),
        }
    }

    /// Network input from raw values (N x C x H x W, on the same device).
    pub fn apply(&self, raw: &Tensor) -> Tensor {
        (raw - &self.mean) / &self.std
    }

    /// Network input from raw values channels first (N x C x H x W,
    /// row-major), normalised as [`Normalisation::apply`] does, value for
    /// value, and interleaved channels-last (N x H x W x C): the layout the
    /// network runs fastest in on the CPU, in one pass over the tile instead
    /// of one for each operation and one more to reorder.
    pub fn interleaved(&self, raw: &[f32], height: usize, width: usize) -> Vec<f32> {
        let c = self.values.len();
        let plane = height * width;
        let mut out = vec![0f32; raw.len()];
        if c * plane == 0 {
            return out;
        }
        for (src, dst) in raw.chunks_exact(c * plane).zip(out.chunks_exact_mut(c * plane)) {
            for (b, &(mean, std)) in self.values.iter().enumerate() {
                for (p, &v) in src[b * plane..(b + 1) * plane].iter().enumerate() {
                    dst[p * c + b] = (v - mean) / std;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use detection::arch::Arch;

    /// The one-pass interleaving gives the tensor path's values exactly.
    #[test]
    fn interleaved_is_the_normalisation_channels_last() {
        let mut meta =
            ModelMeta::new(Arch::named("resnet-small").unwrap(), vec![1, 2, 3], 32, 0.6, vec!["a".into(), "b".into()]);
        meta.mean = vec![115.9, 116.7, 108.4];
        meta.std = vec![43.6, 38.4, 38.39];
        let norm = Normalisation::new(&meta, Device::Cpu);
        let (n, h, w) = (2usize, 5usize, 7usize);
        let raw: Vec<f32> = (0..n * 3 * h * w).map(|i| ((i * 7919) % 256) as f32).collect();
        let tensor = norm.apply(&Tensor::from_slice(&raw).view([n as i64, 3, h as i64, w as i64]));
        let want = Vec::<f32>::try_from(tensor.permute([0, 2, 3, 1]).contiguous().view([-1])).unwrap();
        assert_eq!(norm.interleaved(&raw, h, w), want);
    }
}
