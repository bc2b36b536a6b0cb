//! rsdetect's GDAL side: rasters read in windows with their georeferencing,
//! tiling grids, and (as the pipeline grows) candidates, merging, export and
//! evaluation. Nothing here depends on libtorch.

pub mod candidates;
pub mod classify;
pub mod coords;
pub mod dataset;
pub mod detect;
pub mod error;
pub mod evaluate;
pub mod export;
pub mod georef;
pub mod grid;
pub mod inputs;
pub mod interrupt;
pub mod labels;
pub mod memory;
pub mod merge;
pub mod patches;
pub mod quicklook;
pub mod raster;
pub mod resample;
pub mod synthetic;

pub use coords::{LonLat, MapPoint, PixelBox, PixelPoint, PixelWindow};
pub use error::{Error, Result};
pub use georef::{GeoTransform, Georef};
pub use grid::{Grid, Tile};
pub use raster::{BandInfo, CrsInfo, Gsd, Layout, Raster, RasterInfo, WindowData};
pub use resample::Resampling;
