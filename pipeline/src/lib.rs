//! rsdetect's GDAL side: rasters read in windows with their georeferencing,
//! resampling, tiling grids, labels through OGR, candidates, the detection
//! stream, training patches and chips, export and quicklooks. The
//! vocabulary it shares with the models crate (coordinates, the classifier
//! trait, detections, evaluation, file formats) is the detection crate's;
//! nothing here depends on libtorch.

pub mod applicability;
pub mod areas;
pub mod candidates;
pub mod dataset;
pub mod detect;
pub mod error;
pub mod export;
pub mod foreground;
pub mod georef;
pub mod grid;
pub mod inputs;
pub mod interrupt;
pub mod label_hull;
pub mod labels;
pub mod map_raster;
pub mod memory_raster;
pub mod overlay;
pub mod patches;
pub mod quicklook;
pub mod raster;
pub mod resample;
pub mod suggestions;
pub mod synthetic;
pub mod vector;

pub use detection::coords::{LonLat, MapPoint, PixelBox, PixelPoint, PixelWindow};
pub use error::{Error, Result};
pub use georef::{GeoTransform, Georef};
pub use grid::{Grid, Tile};
pub use raster::{BandInfo, CrsInfo, Gsd, Layout, Raster, RasterInfo, WindowData};
pub use resample::Resampling;
