//! rsdetect's libtorch side: devices, networks (ResNet, GoogLeNet, with
//! torchvision's parameter names), model files, batched inference behind
//! the detection crate's classifier trait, and training. Nothing here
//! depends on GDAL.

pub mod allocator;
pub mod classifier;
pub mod device;
pub mod extent;
pub mod focal;
pub mod folded;
pub mod foreground;
pub mod forward;
pub mod fpn;
pub mod googlenet;
pub mod grad_cam;
pub mod memory;
pub mod model_file;
pub mod normalise;
pub mod patch_classifier;
pub mod peak_gradient;
pub mod peaks;
pub mod resnet;
pub mod targets;
pub mod train;

pub use classifier::{cpu_has_bf16, Classifier, ClassifierError};
pub use device::{devices, resolve, DeviceChoice, DeviceError, Devices};
pub use model_file::{Arch, Model, ModelError, ModelMeta, Strictness};
pub use patch_classifier::{default_model, resolve_model, shipped_models, ShippedModel, TchClassifier};

/// The device type of tensors, for callers that place models.
pub use tch::Device;

/// Seeds libtorch's random generator (weight initialisation, shuffling,
/// augmentation), so training on the CPU is reproducible.
pub fn seed(seed: u64) {
    tch::manual_seed(seed as i64);
}

/// Tests that draw from libtorch's global random generator take this lock,
/// so a test asserting reproducibility is not disturbed by another thread.
#[cfg(test)]
pub(crate) static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes [`TORCH_RNG`], whatever a panicking test left behind.
#[cfg(test)]
pub(crate) fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// The metadata of the untrained 3-band model tests build: network `arch`
/// by name, `patch` pixels at `gsd_m`, classes background and `class`,
/// normalised as 8-bit imagery roughly is (mean 100, sd 40).
#[cfg(test)]
pub(crate) fn test_meta(arch: &str, patch: usize, gsd_m: f64, class: &str) -> ModelMeta {
    let arch = detection::arch::Arch::named(arch).expect("a network rsdetect builds");
    let mut meta = ModelMeta::new(arch, vec![1, 2, 3], patch, gsd_m, vec!["background".into(), class.into()]);
    meta.mean = vec![100.0; 3];
    meta.std = vec![40.0; 3];
    meta
}
