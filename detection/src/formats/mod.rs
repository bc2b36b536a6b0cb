//! Every file rsdetect writes or reads besides rasters and vector layers,
//! each as one serde struct used both ways, so a change that breaks a
//! format breaks the build: run.json, model metadata and the training
//! record (with checkpoints), evaluation reports, the two config files, and Pascal VOC labels.

pub mod detect_config;
pub mod explain;
pub mod features;
pub mod model;
pub mod report;
pub mod run;
pub mod train_config;
pub mod training;
pub mod training_log;
pub mod voc;

use serde::{Serialize, Serializer};
use std::path::PathBuf;

/// Why a config file cannot be used: each names the file, or the key and
/// what it accepts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{}: cannot read{}{}: {reason}", .path.display(), if .what.is_empty() { "" } else { " " }, .what)]
    Read {
        /// The file.
        path: PathBuf,
        /// What it is ("the config"), or nothing.
        what: &'static str,
        /// The system's words.
        reason: String,
    },
    /// Not valid TOML, or keys it does not know.
    #[error("{}: invalid {what}: {reason}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What it should be, and where every key is shown.
        what: &'static str,
        /// The parser's words.
        reason: String,
    },
    /// A value out of range, or values that contradict each other.
    #[error("{0}")]
    Invalid(String),
}

/// Pretty JSON with every object's keys in sorted order, as rsdetect's
/// JSON files have always been written (serde_json's maps sort them).
pub fn sorted_json<T: Serialize>(value: &T) -> String {
    let v = serde_json::to_value(value).expect("rsdetect's file formats serialise to JSON");
    serde_json::to_string_pretty(&v).expect("a JSON value prints")
}

/// Serialises a field with its keys in sorted order (see [`sorted_json`]).
pub fn sorted<T: Serialize, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    serde_json::to_value(value).map_err(serde::ser::Error::custom)?.serialize(s)
}
