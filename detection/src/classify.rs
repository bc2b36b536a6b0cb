//! The narrow interface between the pipeline and a classifier: patches in,
//! class scores out. The pipeline needs nothing else from a model, so
//! detection is built and tested without libtorch; the models crate
//! implements this trait.

use crate::objects::ScoredPoint;
use serde::Serialize;

/// What the pipeline must know about a classifier to feed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchSpec {
    /// Raster bands to read, 1-based, in the order the model expects.
    pub bands: Vec<usize>,
    /// Side of the square patch the model takes, in pixels.
    pub patch: usize,
    /// Ground sample distance the model was trained at, in metres.
    pub gsd_m: Option<f64>,
    /// Class names; index `positive` is the object class.
    pub classes: Vec<String>,
    /// Index of the class that counts as a detection.
    pub positive: usize,
    /// Default score threshold (the model's operating point).
    pub score_threshold: f32,
    /// Default suppression distance between detections, in metres.
    pub suppression_m: f64,
    /// The lattice of dense scoring, when the classifier has one.
    pub dense_stride: Option<usize>,
    /// The classifier scores every pixel at once (a heatmap network):
    /// dense scoring is its natural mode, scores every pixel, and reports
    /// only local maxima; tiles need no padding at the raster's edge.
    pub heatmap: bool,
    /// GDAL data type of the imagery the model was trained on, when known.
    pub data_type: Option<String>,
    /// Per-band statistics of the training imagery (the model's
    /// normalisation), for judging whether a raster fits the model.
    pub training_stats: Option<crate::applicability::BandStats>,
    /// The finest and coarsest ground sample distance of the imagery the
    /// model learned from, when the network saw it resampled.
    pub learned_gsd_m: Option<[f64; 2]>,
    /// Dense scoring: the context, pixels, a tile needs around its core
    /// for the scores there to be those of unlimited context (measured for
    /// the model; `None`: the patch side).
    pub halo: Option<usize>,
    /// The tile core side this classifier runs best at, when it knows
    /// better than the pipeline's default (a heatmap network in bf16 holds
    /// half the activations a pixel, so larger tiles fit).
    pub tile: Option<usize>,
}

/// Patches in one batch, channels first: `len * bands * patch * patch`
/// raw pixel values (the classifier applies its own normalisation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchBatch {
    /// Number of patches.
    pub len: usize,
    /// Bands per patch.
    pub bands: usize,
    /// Side of each patch in pixels.
    pub patch: usize,
    /// The values.
    pub data: Vec<f32>,
}

impl PatchBatch {
    /// An empty batch of patches of this shape, with room for `capacity`.
    pub fn new(bands: usize, patch: usize, capacity: usize) -> Self {
        PatchBatch { len: 0, bands, patch, data: Vec::with_capacity(capacity * bands * patch * patch) }
    }

    /// Values in one patch.
    pub fn patch_len(&self) -> usize {
        self.bands * self.patch * self.patch
    }

    /// The `i`-th patch.
    pub fn get(&self, i: usize) -> &[f32] {
        let n = self.patch_len();
        &self.data[i * n..(i + 1) * n]
    }

    /// Appends a patch of `patch_len()` values.
    pub fn push(&mut self, values: &[f32]) {
        debug_assert_eq!(values.len(), self.patch_len());
        self.data.extend_from_slice(values);
        self.len += 1;
    }
}

/// A classifier of patches. It runs on one thread (libtorch tensors are not
/// `Sync`), fed batches by the detection stream.
pub trait PatchClassifier {
    /// Its input and defaults.
    fn spec(&self) -> &PatchSpec;
    /// The score of the positive class for each patch, in [0, 1].
    fn scores(&mut self, batch: &PatchBatch) -> Result<Vec<f32>, ClassifyError>;
    /// Each patch's score and, where the classifier measures one, its
    /// uncertainty (see [`crate::objects::Detection::uncertainty`]).
    fn scores_with_spread(&mut self, batch: &PatchBatch) -> Result<Vec<(f32, Option<f32>)>, ClassifyError> {
        Ok(self.scores(batch)?.into_iter().map(|s| (s, None)).collect())
    }
    /// A short description for run.json (architecture, file, device).
    fn describe(&self) -> String;

    /// Scores of every patch-sized window whose top-left corner lies on a
    /// `step`-pixel lattice of a tile of raw values (the model's bands,
    /// channels first, `height` x `width`): window centres in tile pixels
    /// with their scores, and a heatmap network's maps where it has a
    /// foreground head.
    fn dense_scores(
        &mut self,
        tile: &[f32],
        height: usize,
        width: usize,
        step: usize,
    ) -> Result<DenseScores, ClassifyError> {
        let _ = (tile, height, width, step);
        Err(ClassifyError::NoDenseForm)
    }
}

/// What a classifier scored densely over one tile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DenseScores {
    /// The scored positions: windows' centres, or a heatmap's peaks.
    pub points: Vec<ScoredPoint>,
    /// A heatmap network's maps over the tile, where it has a foreground
    /// head: what the objects' outlines are measured from.
    pub maps: Option<ObjectMaps>,
}

impl From<Vec<ScoredPoint>> for DenseScores {
    fn from(points: Vec<ScoredPoint>) -> DenseScores {
        DenseScores { points, maps: None }
    }
}

/// A heatmap network's maps of one tile, each `height` x `width` values,
/// row-major, in the tile's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMaps {
    /// The score (the probability of an object's centre) at each pixel.
    pub scores: Vec<f32>,
    /// The probability that each pixel belongs to an object.
    pub foreground: Vec<f32>,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

/// Why a classifier could not score what it was given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClassifyError {
    /// The classifier has no dense (convolutional) form.
    #[error("this model cannot score densely; use --mode sliding")]
    NoDenseForm,
    /// Input of another shape than the classifier takes.
    #[error("{0}")]
    Shape(String),
    /// The network's runtime failed.
    #[error("{0}")]
    Runtime(String),
}
