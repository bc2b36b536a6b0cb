//! `run.json`: what `rsdetect detect` (or `rsdetect merge`) did, input by
//! input, in an output folder. `evaluate` and `merge` find each input's
//! detections through it, and a rerun resumes from it.

use crate::formats::model::ModelMeta;
use crate::options::DetectOptions;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The version of run.json this build writes and reads.
pub const RUN_VERSION: u32 = 1;

/// The file's name inside an output folder.
pub const RUN_FILE: &str = "run.json";

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    /// Version of this format ([`RUN_VERSION`]).
    #[serde(default)]
    pub version: u32,
    /// rsdetect's version.
    pub rsdetect: String,
    /// The model detect ran (absent in merged folders).
    pub model: Option<RunModel>,
    /// The device it ran on.
    pub device: Option<String>,
    /// The validated options.
    pub config: Option<DetectOptions>,
    /// The CRS of the outputs.
    pub crs: Option<OutputFrame>,
    /// One shard of a run, written `K/N`.
    pub shard: Option<ShardOf>,
    /// The folders a merge combined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<Vec<PathBuf>>,
    /// The formats written besides GeoJSON (`gpkg`, `shp`), which a merge
    /// writes too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<String>,
    /// One record per input, in the order processed.
    pub inputs: Vec<InputRecord>,
    /// Sums over the inputs.
    pub totals: Totals,
    /// Where a Ctrl-C stopped the run, written `after K of N rasters`.
    pub interrupted: Option<Interruption>,
    /// Wall seconds of the run.
    pub seconds: Option<f64>,
}

/// The CRS detect wrote its outputs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFrame {
    /// WGS84 lon/lat (RFC 7946).
    Wgs84,
    /// Each raster's own CRS.
    Native,
}

/// Share `k` of `n` of a run's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ShardOf {
    /// This share, from 0.
    pub k: u64,
    /// Number of shares.
    pub n: u64,
}

impl From<ShardOf> for String {
    fn from(s: ShardOf) -> String {
        format!("{}/{}", s.k, s.n)
    }
}

impl TryFrom<String> for ShardOf {
    type Error = String;

    fn try_from(s: String) -> Result<ShardOf, String> {
        let (k, n) = s.split_once('/').ok_or(format!("shard '{s}' is not K/N"))?;
        let num = |v: &str| v.parse::<u64>().map_err(|_| format!("shard '{s}' is not K/N"));
        Ok(ShardOf { k: num(k)?, n: num(n)? })
    }
}

/// Where a Ctrl-C stopped a run: after `finished` of `of` rasters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Interruption {
    /// Rasters done with (finished, skipped or failed).
    pub finished: usize,
    /// Rasters the run was asked for.
    pub of: usize,
}

impl From<Interruption> for String {
    fn from(i: Interruption) -> String {
        format!("after {} of {} rasters", i.finished, i.of)
    }
}

impl TryFrom<String> for Interruption {
    type Error = String;

    fn try_from(s: String) -> Result<Interruption, String> {
        let bad = || format!("'{s}' is not 'after K of N rasters'");
        let rest = s.strip_prefix("after ").and_then(|r| r.strip_suffix(" rasters")).ok_or_else(bad)?;
        let (k, n) = rest.split_once(" of ").ok_or_else(bad)?;
        Ok(Interruption { finished: k.parse().map_err(|_| bad())?, of: n.parse().map_err(|_| bad())? })
    }
}

/// The model as run.json records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunModel {
    /// The model file.
    pub path: PathBuf,
    /// A one-line description (file, parameters).
    pub describe: String,
    /// Its metadata.
    pub meta: ModelMeta,
}

/// How one input went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputStatus {
    /// Detected and written.
    Done,
    /// Its output existed already (a resumed run).
    Skipped,
    /// An error; its message is in `error`.
    Failed,
}

/// What happened to one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// The raster (empty for an input that was never found).
    pub path: PathBuf,
    /// Its GeoJSON file in the folder, when it has one.
    pub output: Option<String>,
    /// How it went.
    pub status: InputStatus,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// What the user should know.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Counts and timings.
    #[serde(default)]
    pub stats: Option<Stats>,
    /// How the raster fits the model (ground sample distance, band
    /// statistics against the training imagery's), judged before the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicability: Option<crate::applicability::Applicability>,
}

/// Sums over the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Inputs recorded.
    pub inputs: usize,
    /// Inputs that failed.
    pub failed: usize,
    /// Detections in the merged file.
    pub detections: usize,
}

/// Seconds spent per stage. Reading and candidates run in parallel, so they
/// add up worker time; inference and merging are wall time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Reading windows (worker seconds).
    pub read: f64,
    /// Candidates and patches (worker seconds).
    pub candidates: f64,
    /// Classifier calls.
    pub inference: f64,
    /// Suppression and conversion to raster pixels.
    pub merge: f64,
    /// The whole raster, wall time.
    pub total: f64,
}

/// Counts for run.json.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Tiles read.
    pub tiles: usize,
    /// Patches classified.
    pub classified: usize,
    /// Patches scoring at or above the threshold.
    pub above_threshold: usize,
    /// Detections after merging.
    pub detections: usize,
    /// Time per stage.
    pub seconds: Timings,
}

impl RunFile {
    /// The text written to disk: pretty JSON with keys in sorted order.
    pub fn to_json(&self) -> String {
        crate::formats::sorted_json(self)
    }

    /// Reads the text back.
    pub fn from_json(text: &str) -> Result<RunFile, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_file_reads_back_as_written() {
        let run = RunFile {
            version: RUN_VERSION,
            rsdetect: "0.1.0".into(),
            model: None,
            device: Some("cpu".into()),
            config: None,
            crs: Some(OutputFrame::Wgs84),
            shard: Some(ShardOf { k: 1, n: 3 }),
            merged_from: None,
            formats: vec!["gpkg".into()],
            inputs: vec![InputRecord {
                path: "a.tif".into(),
                output: Some("a.geojson".into()),
                status: InputStatus::Skipped,
                error: None,
                notes: vec!["output exists".into()],
                stats: Some(Stats::default()),
                applicability: None,
            }],
            totals: Totals { inputs: 1, failed: 0, detections: 0 },
            interrupted: Some(Interruption { finished: 2, of: 5 }),
            seconds: Some(1.5),
        };
        let text = run.to_json();
        assert!(text.contains("\"status\": \"skipped\"") && text.contains("\"version\": 1"), "{text}");
        assert!(
            text.contains("\"shard\": \"1/3\"") && text.contains("\"interrupted\": \"after 2 of 5 rasters\""),
            "{text}"
        );
        assert!(text.contains("\"crs\": \"wgs84\""), "{text}");
        assert_eq!(RunFile::from_json(&text).unwrap(), run);
        // Keys sorted, as the files have always been written.
        let keys: Vec<&str> =
            text.lines().filter(|l| l.starts_with("  \"")).map(|l| l.split('"').nth(1).unwrap()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
}
