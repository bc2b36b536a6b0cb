//! The models crate's classifier seen through the pipeline's narrow
//! interface, and where the default model lives.

use pipeline::classify::{PatchBatch, PatchClassifier, PatchSpec};
use std::path::{Path, PathBuf};

/// The model shipped with rsdetect, used when `--model` is not given.
pub fn default_model() -> PathBuf {
    if let Some(p) = std::env::var_os("RSDETECT_MODEL") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/weights/default.safetensors")
}

/// A tch classifier serving the detection stream.
pub struct TchClassifier {
    inner: models::Classifier,
    spec: PatchSpec,
    path: PathBuf,
}

impl TchClassifier {
    /// Loads a model file.
    pub fn load(path: &Path, device: models::DeviceChoice) -> Result<TchClassifier, models::ClassifierError> {
        let inner = models::Classifier::load(path, device)?;
        let m = &inner.model().meta;
        let spec = PatchSpec {
            bands: m.bands.clone(),
            patch: m.patch,
            gsd_m: Some(m.gsd_m),
            classes: m.classes.clone(),
            positive: m.positive,
            score_threshold: m.score_threshold,
            suppression_m: m.suppression_m,
            dense_stride: inner.dense_stride(),
            heatmap: inner.is_heatmap(),
            data_type: m.data_type.clone(),
        };
        Ok(TchClassifier { inner, spec, path: path.to_owned() })
    }

    /// The device it runs on, for run.json.
    pub fn device(&self) -> String {
        format!("{:?}", self.inner.device()).to_lowercase()
    }

    /// Averages a heatmap network's scores over flips and rotations.
    pub fn set_tta(&mut self, on: bool) {
        self.inner.set_tta(on);
    }

    /// Whether it does.
    pub fn tta(&self) -> bool {
        self.inner.tta()
    }

    /// The model's metadata.
    pub fn meta(&self) -> &models::ModelMeta {
        &self.inner.model().meta
    }
}

impl PatchClassifier for TchClassifier {
    fn spec(&self) -> &PatchSpec {
        &self.spec
    }

    fn scores(&mut self, batch: &PatchBatch) -> Result<Vec<f32>, String> {
        self.inner.scores(&batch.data, batch.len)
    }

    fn dense_scores(
        &mut self,
        tile: &[f32],
        height: usize,
        width: usize,
        step: usize,
    ) -> Result<Vec<(f64, f64, f32)>, String> {
        self.inner.dense_scores(tile, height, width, step)
    }

    fn describe(&self) -> String {
        format!("{} ({} parameters)", self.path.display(), self.inner.model().parameters())
    }
}
