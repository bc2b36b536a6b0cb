//! What detect does with a raster, validated once: where candidates come
//! from, tiles, batches, the operating point and resampling. The detect
//! config file (`configs/*.toml`) resolves into these.

use serde::{Deserialize, Serialize};

/// ITU-R BT.601 luma weights, the usual grey conversion of RGB.
pub const LUMA_WEIGHTS: [f32; 3] = [0.299, 0.587, 0.114];

/// Preprocessing as in Guirado et al. 2017.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    /// Bands combined into the panchromatic band (1-based).
    pub bands: Vec<usize>,
    /// One weight per band.
    pub weights: Vec<f32>,
    /// Fixed value or Otsu.
    pub threshold: Threshold,
    /// Objects are darker than the threshold (else brighter).
    pub darker: bool,
    /// Opening radius in pixels, to drop specks.
    pub open_radius: u8,
    /// Smallest blob, m².
    pub min_area_m2: f64,
    /// Largest blob, m².
    pub max_area_m2: f64,
}

/// A sliding window, in pixels of the raster as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sliding {
    /// Window side.
    pub size: usize,
    /// Step between windows.
    pub stride: usize,
    /// Right and bottom edge rule.
    pub edge: EdgePolicy,
}

/// Where candidates come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum CandidateSource {
    /// Blobs of a thresholded panchromatic band.
    Preprocess(Preprocess),
    /// Every window of a grid.
    Sliding(Sliding),
    /// Every window on a lattice, scored at once per tile by a classifier
    /// that runs convolutionally.
    Dense {
        /// Lattice step in pixels.
        step: usize,
    },
}

/// Everything detection needs besides the classifier, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectOptions {
    /// Candidate generation.
    pub source: CandidateSource,
    /// Tile core side, in pixels of the raster as the model sees it.
    pub tile: usize,
    /// Patches per classifier call.
    pub batch: usize,
    /// Detections scoring below this are dropped.
    pub score_threshold: f32,
    /// Detections closer than this (metres) are merged.
    pub suppression_m: f64,
    /// What the user stated about rasters that lack it (run.json's
    /// `input_gsd_m` and `bounds`).
    #[serde(flatten)]
    pub declared: Declared,
    /// How the raster is resampled to the model's ground sample distance.
    pub resampling: Resampling,
    /// Dense scoring: pixels of context read around each tile's core
    /// (rounded up to the network's stride); `None` for other sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halo: Option<usize>,
}

/// What a user states about rasters that lack it: the one rule every
/// command that reads rasters follows (a raster's own georeferencing and
/// ground sample distance always win).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Declared {
    /// Metres per pixel (`--input-gsd`).
    #[serde(default, rename = "input_gsd_m")]
    pub gsd_m: Option<f64>,
    /// Lon/lat of the image's edges (`--bounds`): the raster is then
    /// georeferenced in WGS84, and its metres per pixel follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds: Option<LonLatBounds>,
}

/// The lon/lat edges of an image, as Google Earth Pro states them when it
/// saves one: `WEST,SOUTH,EAST,NORTH` in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LonLatBounds {
    /// Longitude of the left edge.
    pub west: f64,
    /// Latitude of the bottom edge.
    pub south: f64,
    /// Longitude of the right edge.
    pub east: f64,
    /// Latitude of the top edge.
    pub north: f64,
}

impl std::str::FromStr for LonLatBounds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let v: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("'{s}': give WEST,SOUTH,EAST,NORTH in degrees, e.g. -2.41,36.91,-2.40,36.92"))?;
        let [west, south, east, north] = v[..] else {
            return Err(format!("'{s}': give four numbers, WEST,SOUTH,EAST,NORTH in degrees"));
        };
        if !(west < east && south < north) {
            return Err(format!(
                "'{s}': WEST must be less than EAST and SOUTH less than NORTH (WEST,SOUTH,EAST,NORTH)"
            ));
        }
        if !(-180.0..=360.0).contains(&west) || east > 360.0 || south < -90.0 || north > 90.0 {
            return Err(format!("'{s}': longitudes lie in -180..360 and latitudes in -90..90 degrees"));
        }
        Ok(LonLatBounds { west, south, east, north })
    }
}

/// What happens at the right and bottom edges, where the last stride rarely
/// lands exactly on the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgePolicy {
    /// Windows at every stride that fit, plus one flush with the edge when
    /// the strides stop short of it: every pixel is in some window.
    #[default]
    Cover,
    /// Only windows at whole strides that fit; a margin may stay unseen.
    Fit,
    /// As the original study's code: the scan stops one stride early
    /// (positions while `x + size + stride < width`), which gives the
    /// 9,506 windows of its reference on the 1945x1924 Ziziphus scene.
    Guirado2017,
}

/// How to choose the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Threshold {
    /// A fixed value on the panchromatic scale.
    Fixed(f32),
    /// Otsu's method on the raster's histogram: the word "otsu".
    Method(ThresholdMethod),
}

/// Thresholds computed from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMethod {
    /// Otsu's between-class variance maximum.
    Otsu,
}

impl Default for Threshold {
    /// Guirado et al. 2017: shrubs are darker than 100.
    fn default() -> Self {
        Threshold::Fixed(100.0)
    }
}

/// How source pixels combine into an output pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resampling {
    /// Area average: right for shrinking (0.1 m -> 0.6 m), no aliasing.
    #[default]
    Average,
    /// Bilinear interpolation: right for enlarging.
    Bilinear,
    /// Cubic convolution.
    Cubic,
    /// Nearest neighbour: keeps original values (labels, classes).
    Nearest,
}
