//! rsdetect's shared vocabulary, with neither GDAL nor libtorch: typed
//! coordinates, patch specs and batches with the classifier trait the
//! models crate implements, detections and their suppression, evaluation
//! against labels, detect's options, network shapes, and every file format
//! as one serde struct. `pipeline` (GDAL) and `models` (tch) both build on it.

pub mod applicability;
pub mod arch;
pub mod classify;
pub mod coords;
pub mod error_ranking;
pub mod evaluate;
pub mod examples;
pub mod formats;
pub mod halo;
pub mod objects;
pub mod options;
pub mod outline;
pub mod overlap;
pub mod reliability;
pub mod ring;
pub mod score_map;
pub mod shape_fit;
pub mod suggest;
pub mod suppress;
pub mod watershed;

pub use classify::{ClassifyError, PatchBatch, PatchClassifier, PatchSpec};
pub use coords::{LonLat, MapPoint, PixelBox, PixelPoint, PixelWindow};
pub use objects::{Detection, PixelLabel, ScoredPoint};
