//! rsdetect's libtorch side: devices, networks (ResNet, GoogLeNet, with
//! torchvision's parameter names), model files, batched inference and
//! training. Nothing here depends on GDAL.

pub mod classifier;
pub mod device;
pub mod googlenet;
pub mod model_file;
pub mod resnet;

pub use classifier::{Classifier, ClassifierError};
pub use device::{devices, resolve, DeviceChoice, DeviceError, Devices};
pub use model_file::{Arch, Model, ModelError, ModelMeta, Strictness};
