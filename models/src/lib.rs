//! rsdetect's libtorch side: devices, and (as the pipeline grows) networks,
//! model files, batched inference and training. Nothing here depends on GDAL.

pub mod device;

pub use device::{devices, resolve, DeviceChoice, DeviceError, Devices};
