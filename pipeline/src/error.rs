//! Errors of the GDAL side, each carrying what a user needs to find the
//! problem (the file, the window, the band) and, where there is one, the fix.

use detection::coords::PixelWindow;
use std::path::PathBuf;

/// Everything that can go wrong reading and describing rasters.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path does not exist.
    #[error("{path}: no such file or folder")]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// GDAL could not open the file as a raster.
    #[error("{path}: not a raster GDAL can read ({reason}); check the file is complete and `gdalinfo` opens it")]
    NotRaster {
        /// The file.
        path: PathBuf,
        /// GDAL's own words.
        reason: String,
    },
    /// A band number outside 1..=band count.
    #[error("{path}: has {count} band(s), band {band} was asked for; choose bands between 1 and {count}")]
    NoSuchBand {
        /// The raster.
        path: PathBuf,
        /// The band asked for (1-based, as GDAL counts).
        band: usize,
        /// How many bands the raster has.
        count: usize,
    },
    /// The raster lacks bands something needs.
    #[error("{path}: has {count} band(s) but the {reader} reads bands {bands:?}; use a model trained on {count} band(s), or pick bands with gdal_translate -b")]
    BandsMismatch {
        /// The raster.
        path: PathBuf,
        /// The bands needed.
        bands: Vec<usize>,
        /// How many bands the raster has.
        count: usize,
        /// What needs them ("model", "panchromatic conversion").
        reader: String,
    },
    /// A window that does not lie inside the raster.
    #[error("{path}: {window} lies outside the {width}x{height} raster")]
    WindowOutside {
        /// The raster.
        path: PathBuf,
        /// The window asked for.
        window: PixelWindow,
        /// Raster width.
        width: usize,
        /// Raster height.
        height: usize,
    },
    /// GDAL failed while reading pixels.
    #[error("{path}: reading band {band}, {window}: {reason}; the file may be truncated or corrupt (`gdalinfo -checksum` reads it all), re-export or re-download it")]
    Read {
        /// The raster.
        path: PathBuf,
        /// The band being read.
        band: usize,
        /// The window being read.
        window: PixelWindow,
        /// GDAL's message.
        reason: String,
    },
    /// Resampling to a ground sample distance is impossible or failed.
    #[error("{path}: cannot resample to {target_m} m: {reason}")]
    Resample {
        /// The raster.
        path: PathBuf,
        /// The ground sample distance asked for, in metres.
        target_m: f64,
        /// Why not, and what to do.
        reason: String,
    },
    /// A coordinate transformation failed.
    #[error("{path}: cannot transform coordinates to WGS84: {reason}")]
    Transform {
        /// The raster.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The classifier failed on a batch.
    #[error("{path}: the classifier failed: {error}")]
    Classifier {
        /// The raster being processed.
        path: PathBuf,
        /// What the classifier said.
        error: detection::classify::ClassifyError,
    },
    /// An output file could not be written or read back.
    #[error("{path}: {reason}")]
    Output {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A label file that cannot be used.
    #[error("{path}: {reason}")]
    Labels {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A tiling grid with impossible parameters.
    #[error("bad tiling grid: {0}")]
    Grid(String),
    /// Imagery of another data type (so another range of values) than the
    /// model was trained on.
    #[error("{path}: {found} imagery, but the model was trained on {expected} imagery, whose values span another range; convert it as the training imagery was (e.g. gdal_translate -ot {expected} -scale in.tif out.tif, or -ot {expected} alone if its values already fit), or train a model on {found} imagery")]
    DataType {
        /// The raster.
        path: PathBuf,
        /// Its data type.
        found: String,
        /// The model's.
        expected: String,
    },
    /// Every pixel is nodata or masked.
    #[error("{path}: no pixel holds data (nodata value {}); check it with gdalinfo, and clear a wrong nodata value with gdal_edit.py -unsetnodata", nodata.map_or("none: masked by its mask or alpha band".into(), |v| v.to_string()))]
    NoData {
        /// The raster.
        path: PathBuf,
        /// Its first band's nodata value.
        nodata: Option<f64>,
    },
    /// The user asked to stop (Ctrl-C); nothing of this raster was written.
    #[error("{path}: interrupted before it was finished")]
    Interrupted {
        /// The raster being processed.
        path: PathBuf,
    },
}

/// The pipeline's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
