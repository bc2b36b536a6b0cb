//! A model file's metadata: everything needed to use the weights
//! (architecture, bands, ground sample distance, patch size, normalisation,
//! classes, operating point) and how they were made. The models crate keeps
//! it in the safetensors header under [`META_KEY`].

use crate::arch::Arch;
use crate::formats::training::TrainingRecord;
use serde::{Deserialize, Serialize};

/// The metadata key holding [`ModelMeta`] as JSON.
pub const META_KEY: &str = "rsdetect";
/// The version of the metadata this build writes and reads (its `format`).
pub const FORMAT_VERSION: u32 = 1;

/// Everything about a model besides its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelMeta {
    /// Metadata version.
    pub format: u32,
    /// Network.
    pub arch: Arch,
    /// Raster bands read, 1-based, in input-channel order.
    pub bands: Vec<usize>,
    /// Ground sample distance of the training imagery, metres.
    pub gsd_m: f64,
    /// Patch side in pixels.
    pub patch: usize,
    /// Per-band mean subtracted from raw values.
    pub mean: Vec<f32>,
    /// Per-band standard deviation raw values are divided by.
    pub std: Vec<f32>,
    /// Class names.
    pub classes: Vec<String>,
    /// Index of the object class.
    pub positive: usize,
    /// Score threshold chosen on validation data.
    pub score_threshold: f32,
    /// Suppression distance between detections, metres.
    pub suppression_m: f64,
    /// Heatmap networks: scores are averaged over the 8 flips and
    /// rotations of the input (test-time augmentation), as when the
    /// operating point was chosen.
    #[serde(default)]
    pub tta: bool,
    /// GDAL data type of the imagery trained on (Byte, UInt16, ...): other
    /// imagery has other value ranges, and is refused.
    #[serde(default)]
    pub data_type: Option<String>,
    /// How the model was made: command, data, epochs, metrics (none for
    /// an untrained model). Its keys are written in sorted order.
    #[serde(default, serialize_with = "crate::formats::sorted")]
    pub training: Option<TrainingRecord>,
    /// The imagery it learned from, when the network saw it resampled
    /// (another ground sample distance than `gsd_m`): what a raster is
    /// judged against before a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imagery: Option<crate::applicability::Imagery>,
    /// The map from the network's raw peak score to the probability that a
    /// detection is a real object, fitted when the operating point was
    /// chosen: scores and the threshold are then probabilities. Without it
    /// scores are the network's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_map: Option<crate::score_map::ScoreMap>,
    /// Heatmap networks: the context, pixels, dense scoring reads around
    /// each tile's core, measured as the least that leaves the model's
    /// detections as they are with its whole patch of context. Without it,
    /// the patch side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halo: Option<usize>,
}

impl ModelMeta {
    /// Metadata of an untrained model: identity normalisation, the last
    /// class as the object class, threshold 0.5, suppression 3 m. Training
    /// fills in the normalisation; calibration the operating point.
    pub fn new(arch: Arch, bands: Vec<usize>, patch: usize, gsd_m: f64, classes: Vec<String>) -> ModelMeta {
        let n = bands.len();
        ModelMeta {
            format: FORMAT_VERSION,
            arch,
            bands,
            gsd_m,
            patch,
            mean: vec![0.0; n],
            std: vec![1.0; n],
            positive: classes.len().saturating_sub(1),
            classes,
            score_threshold: 0.5,
            suppression_m: 3.0,
            tta: false,
            data_type: None,
            training: None,
            imagery: None,
            score_map: None,
            halo: None,
        }
    }

    /// The score threshold in the network's raw scores: the threshold
    /// itself without a score map, else the raw threshold the map was
    /// fitted at (what a run that starts from this model's weights
    /// validates with, before its own calibration).
    pub fn raw_score_threshold(&self) -> f32 {
        let fitted = self.training.as_ref().and_then(|t| t.calibration.as_ref()).and_then(|c| c.probabilities.as_ref());
        match (&self.score_map, fitted) {
            (Some(_), Some(fit)) => fit.raw_threshold as f32,
            _ => self.score_threshold,
        }
    }

    /// Checks that the fields agree with one another.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.bands.len();
        if n == 0 || self.mean.len() != n || self.std.len() != n {
            return Err(format!(
                "{} bands but {} means and {} standard deviations",
                n,
                self.mean.len(),
                self.std.len()
            ));
        }
        if self.std.iter().any(|s| s.is_nan() || *s <= 0.0) {
            return Err("standard deviations must be positive".into());
        }
        if self.classes.len() < 2 || self.positive >= self.classes.len() {
            return Err(format!("{} classes with positive class {}", self.classes.len(), self.positive));
        }
        if self.patch < 8 || self.gsd_m.is_nan() || self.gsd_m <= 0.0 {
            return Err(format!("patch {} px at {} m is not usable", self.patch, self.gsd_m));
        }
        if let Arch::Resnet(c) = &self.arch {
            c.validate()?;
        }
        if let Some(m) = &self.score_map {
            m.validate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metadata JSON in a safetensors file's header.
    fn header_meta(path: &std::path::Path) -> String {
        let bytes = std::fs::read(path).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        header["__metadata__"][META_KEY].as_str().unwrap().to_owned()
    }

    /// The shipped model's metadata reads into the typed struct and writes
    /// back byte for byte, training record, calibration and score map
    /// included: what `make model` wrote, they write again.
    #[test]
    fn the_shipped_metadata_round_trips_exactly() {
        for (name, epochs) in [("default", 12), ("rgbn", 6)] {
            let path =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../models/weights/{name}.safetensors"));
            let text = header_meta(&path);
            let meta: ModelMeta = serde_json::from_str(&text).unwrap();
            let record = meta.training.as_ref().expect("a training record");
            assert_eq!(record.epochs, Some(epochs), "{name}");
            let calibration = record.calibration.as_ref().expect("an operating point");
            assert_eq!((calibration.per_suppression.len(), calibration.per_set.len()), (3, 2), "{name}");
            // Scores are probabilities: the map, and the threshold it gives the raw one.
            let (map, fit) = (meta.score_map.as_ref().expect("a score map"), calibration.probabilities.as_ref());
            let raw = fit.expect("the map's fit").raw_threshold;
            assert_eq!(meta.score_threshold, map.apply(raw) as f32, "{name}");
            assert_eq!(meta.raw_score_threshold(), raw as f32, "{name}");
            assert_eq!(serde_json::to_string(&meta).unwrap(), text, "{name}");
        }
    }

    #[test]
    fn an_untrained_model_records_no_training() {
        let meta =
            ModelMeta::new(Arch::named("resnet-small").unwrap(), vec![1, 2, 3], 32, 0.6, vec!["a".into(), "b".into()]);
        let text = serde_json::to_string(&meta).unwrap();
        assert!(text.ends_with("\"training\":null}"), "{text}");
        assert_eq!(serde_json::from_str::<ModelMeta>(&text).unwrap(), meta);
    }
}
