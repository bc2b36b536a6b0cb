//! Batched inference: raw pixel patches in, object scores out, on the CPU or
//! a CUDA device (with mixed precision there).

use crate::device::{resolve, DeviceChoice, DeviceError};
use crate::model_file::{Model, ModelError};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// A loaded model ready to score patches.
pub struct Classifier {
    model: Model,
    device: Device,
    mean: Tensor,
    std: Tensor,
    mixed_precision: bool,
}

/// Why a classifier could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    /// The model file.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The device.
    #[error(transparent)]
    Device(#[from] DeviceError),
}

impl Classifier {
    /// Loads a model file onto the chosen device.
    pub fn load(path: &Path, choice: DeviceChoice) -> Result<Classifier, ClassifierError> {
        let device = resolve(choice)?;
        let model = Model::load(path, device)?;
        Ok(Self::from_model(model))
    }

    /// Wraps a model already in memory (for validation during training).
    pub fn from_model(model: Model) -> Classifier {
        let device = model.vs.device();
        let n = model.meta.bands.len() as i64;
        let mean = Tensor::from_slice(&model.meta.mean).view([1, n, 1, 1]).to_device(device);
        let std = Tensor::from_slice(&model.meta.std).view([1, n, 1, 1]).to_device(device);
        Classifier { mixed_precision: device.is_cuda(), model, device, mean, std }
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The device it runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Probability of the positive class for `n` patches of raw values,
    /// channels first.
    pub fn scores(&self, data: &[f32], n: usize) -> Result<Vec<f32>, String> {
        let m = &self.model.meta;
        let (c, p) = (m.bands.len() as i64, m.patch as i64);
        if data.len() != n * (c * p * p) as usize {
            return Err(format!("expected {n} patches of {c}x{p}x{p} values, got {} values", data.len()));
        }
        let probs = tch::no_grad(|| {
            let x = Tensor::from_slice(data).view([n as i64, c, p, p]).to_device(self.device);
            let x = (x - &self.mean) / &self.std;
            let logits = tch::autocast(self.mixed_precision, || self.model.net.forward(&x, false));
            logits.to_kind(Kind::Float).softmax(-1, Kind::Float).select(1, m.positive as i64).to_device(Device::Cpu)
        });
        Vec::<f32>::try_from(probs).map_err(|e| e.to_string())
    }
}
