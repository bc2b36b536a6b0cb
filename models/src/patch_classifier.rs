//! The classifier seen through the detection crate's narrow interface, so
//! the pipeline's detection stream can feed it, and where the default model
//! lives.

use crate::classifier::{Classifier, ClassifierError};
use crate::device::DeviceChoice;
use crate::model_file::ModelMeta;
use detection::classify::{ClassifyError, DenseScores, PatchBatch, PatchClassifier, PatchSpec};
use detection::score_map::ScoreMap;
use std::path::{Path, PathBuf};

/// The model shipped with rsdetect, used when `--model` is not given.
pub fn default_model() -> PathBuf {
    if let Some(p) = std::env::var_os("RSDETECT_MODEL") {
        return PathBuf::from(p);
    }
    shipped_dir().join("default.safetensors")
}

/// Where the shipped models and their cards live.
pub fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("weights")
}

/// A shipped model: `NAME.safetensors` beside its card `NAME.md`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ShippedModel {
    /// What `--model` takes.
    pub name: String,
    /// The model file.
    pub path: PathBuf,
    /// The card's first line, without its heading marks.
    pub summary: String,
    /// What it finds: the class every detection of it carries.
    pub class: Option<String>,
}

/// The shipped models, by name.
pub fn shipped_models() -> Vec<ShippedModel> {
    let dir = shipped_dir();
    let mut out: Vec<ShippedModel> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .filter(|p| !p.to_string_lossy().ends_with(".ckpt.safetensors"))
        .map(|path| {
            let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            let card = std::fs::read_to_string(dir.join(format!("{name}.md"))).unwrap_or_default();
            let summary = card.lines().map(|l| l.trim_start_matches('#').trim()).find(|l| !l.is_empty());
            let class = crate::Model::read_meta(&path).ok().and_then(|m| m.classes.get(m.positive).cloned());
            ShippedModel { summary: summary.unwrap_or("(no card)").to_owned(), name, path, class }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The model file `--model` means: a file that exists, else the shipped
/// model of that name; `None` when it is neither.
pub fn resolve_model(arg: &Path) -> Option<PathBuf> {
    if arg.is_file() {
        return Some(arg.to_owned());
    }
    let name = arg.to_str().filter(|n| !n.contains(['/', '.']))?;
    shipped_models().into_iter().find(|m| m.name == name).map(|m| m.path)
}

/// Resident memory over which free heap pages are handed back after a
/// dense tile. Under it they are kept, and the next tile's forward pass
/// reuses them instead of faulting them in again; over it (a long raster
/// fragments the heap) they go back, so memory stays flat.
const HEAP_BUDGET: u64 = 1280 << 20;

/// A tch classifier serving the detection stream.
pub struct TchClassifier {
    inner: Classifier,
    spec: PatchSpec,
    path: PathBuf,
    /// The model's map from raw score to probability, applied to every
    /// score reported (none: raw scores).
    score_map: Option<ScoreMap>,
}

impl TchClassifier {
    /// Loads a model file.
    pub fn load(path: &Path, device: DeviceChoice) -> Result<TchClassifier, ClassifierError> {
        let inner = Classifier::load(path, device)?;
        crate::allocator::reuse_working_set();
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
            // An untrained model's normalisation is the identity, not imagery.
            training_stats: match &m.imagery {
                Some(i) => Some(i.stats.clone()),
                None => m.training.is_some().then(|| detection::applicability::BandStats {
                    mean: m.mean.iter().map(|&v| v as f64).collect(),
                    sd: m.std.iter().map(|&v| v as f64).collect(),
                }),
            },
            learned_gsd_m: m.imagery.as_ref().map(|i| i.gsd_m),
            halo: m.halo,
            tile: None,
        };
        let score_map = m.score_map.clone();
        Ok(TchClassifier { inner, spec, path: path.to_owned(), score_map })
    }

    /// The device it runs on, with its precision where reduced, for run.json.
    pub fn device(&self) -> String {
        let device = format!("{:?}", self.inner.device()).to_lowercase();
        match (self.inner.mixed_precision(), self.inner.device().is_cuda()) {
            (false, _) => device,
            (true, true) => format!("{device} (mixed precision)"),
            (true, false) => format!("{device} (bf16)"),
        }
    }

    /// The classifier behind the trait, for what the trait does not say
    /// (explaining a score).
    pub fn classifier(&self) -> &Classifier {
        &self.inner
    }

    /// Averages a heatmap network's scores over flips and rotations.
    pub fn set_tta(&mut self, on: bool) {
        self.inner.set_tta(on);
    }

    /// Reduced precision: bf16 for heatmap networks on the CPU, mixed
    /// precision on CUDA (already its default).
    pub fn set_reduced_precision(&mut self, on: bool) {
        self.inner.set_mixed_precision(on);
        self.spec.tile = self.bf16_tile();
    }

    /// A heatmap network in bf16 on the CPU holds half fp32's activations a
    /// pixel: 1024 px tile cores (1,120 px with a 48 px halo) keep its
    /// forward pass where 640 px ones do in fp32, and ran a 4096x4096 scene
    /// in 7.5 s against 8.3 (832 px: 7.8 s; 1,376 px: 8.4 s, 1.5 GB).
    fn bf16_tile(&self) -> Option<usize> {
        let cpu_bf16 = self.inner.mixed_precision() && !self.inner.device().is_cuda();
        (cpu_bf16 && self.inner.is_heatmap()).then_some(1024)
    }

    /// Reports the network's raw scores, without the model's map to
    /// probabilities (what calibration fits the map on).
    pub fn use_raw_scores(&mut self) {
        self.score_map = None;
    }

    /// A raw score as reported: through the model's map when it has one.
    fn reported(&self, raw: f32) -> f32 {
        match &self.score_map {
            Some(m) => m.apply(raw as f64) as f32,
            None => raw,
        }
    }

    /// Whether it does.
    pub fn tta(&self) -> bool {
        self.inner.tta()
    }

    /// The model's metadata.
    pub fn meta(&self) -> &ModelMeta {
        &self.inner.model().meta
    }
}

impl PatchClassifier for TchClassifier {
    fn spec(&self) -> &PatchSpec {
        &self.spec
    }

    fn scores(&mut self, batch: &PatchBatch) -> Result<Vec<f32>, ClassifyError> {
        let raw = self.inner.scores(&batch.data, batch.len)?;
        Ok(raw.into_iter().map(|s| self.reported(s)).collect())
    }

    fn scores_with_spread(&mut self, batch: &PatchBatch) -> Result<Vec<(f32, Option<f32>)>, ClassifyError> {
        let (scores, spread) = self.inner.scores_and_spread(&batch.data, batch.len)?;
        // The spread stays in raw units: it ranks detections by doubt.
        Ok(match spread {
            Some(sd) => scores.into_iter().zip(sd).map(|(s, u)| (self.reported(s), Some(u))).collect(),
            None => scores.into_iter().map(|s| (self.reported(s), None)).collect(),
        })
    }

    fn dense_scores(
        &mut self,
        tile: &[f32],
        height: usize,
        width: usize,
        step: usize,
    ) -> Result<DenseScores, ClassifyError> {
        let mut scored = self.inner.dense_scores(tile, height, width, step);
        crate::memory::release_free_memory_over(HEAP_BUDGET);
        // Peaks are found on the raw map (the map to probabilities keeps
        // their order); only their scores are reported as probabilities.
        if let (Ok(d), Some(_)) = (&mut scored, &self.score_map) {
            for p in &mut d.points {
                p.score = self.reported(p.score);
            }
        }
        scored
    }

    fn describe(&self) -> String {
        format!("{} ({} parameters)", self.path.display(), self.inner.model().parameters())
    }
}
