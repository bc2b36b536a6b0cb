//! The glue that needs both GDAL (pipeline) and libtorch (models), as
//! library code the `rsdetect` binary calls: training sets assembled from
//! rasters and labels, the operating point chosen on validation rasters,
//! and the output folders of detect and merge.

pub mod calibration;
pub mod error;
pub mod outcome;
pub mod outputs;
pub mod starting_point;
pub mod training;

pub use error::{Error, Result};
pub use outcome::Outcome;
