//! What `rsdetect explain` wrote (`explain.json` in its output folder):
//! the model and method, and for each detection explained its map, its
//! picture and how much of the map lies on the object.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The version of the file this build writes and reads.
pub const EXPLAIN_VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainFile {
    /// Version of this format ([`EXPLAIN_VERSION`]).
    pub version: u32,
    /// The model whose decisions are explained.
    pub model: PathBuf,
    /// How: "grad-cam" (patch classifiers) or "score-gradient" (heatmap
    /// networks), with the layer or context it used.
    pub method: String,
    /// One entry per detection explained, raster by raster, best first.
    pub explained: Vec<Explained>,
}

/// One detection explained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Explained {
    /// The raster.
    pub source: PathBuf,
    /// The detection's position among the raster's features (from 0).
    pub id: usize,
    /// Its score.
    pub score: f64,
    /// Its uncertainty, when detect gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_sd: Option<f64>,
    /// The map's window in the raster's pixels: x, y, width, height.
    pub window: [usize; 4],
    /// The share of the map's mass inside the detection's outline: near 1
    /// when the network looked at the object alone. None for detections
    /// without an outline (a patch classifier's box is the patch itself).
    pub mass_inside: Option<f64>,
    /// The GeoTIFF holding the map, on the raster's grid (shared by the
    /// raster's detections: the largest value of their maps at each pixel).
    pub map: PathBuf,
    /// The PNG of the map over the image.
    pub png: PathBuf,
}

impl ExplainFile {
    /// The text written to disk: pretty JSON with keys in sorted order.
    pub fn to_json(&self) -> String {
        crate::formats::sorted_json(self)
    }

    /// Reads the text [`ExplainFile::to_json`] wrote.
    pub fn from_json(text: &str) -> Result<ExplainFile, serde_json::Error> {
        serde_json::from_str(text)
    }
}
