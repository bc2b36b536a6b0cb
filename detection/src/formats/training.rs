//! What training records: the `[train]` settings of a training config, the
//! figures of each epoch, and the record of how a model was made that its
//! file (and each checkpoint) carries.

use crate::evaluate::Counts;
use crate::options::CandidateSource;
use serde::{Deserialize, Serialize};

/// The optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// SGD with Nesterov momentum.
    Sgd,
    /// Adam with decoupled weight decay.
    Adam,
}

/// Augmentation applied to each training batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Augment {
    /// Random horizontal and vertical flips.
    pub flips: bool,
    /// Random 90° rotations.
    pub rot90: bool,
    /// Brightness shift, as a fraction of a band's standard deviation.
    pub brightness: f64,
    /// Contrast factor range: 1 ± this.
    pub contrast: f64,
    /// Scale factor range: 1 ± this (per batch; patch classifiers only).
    pub scale: f64,
    /// Per-band gain range: 1 ± this, drawn per sample and band (another
    /// sensor's or year's calibration).
    #[serde(skip_serializing_if = "is_zero")]
    pub band_gain: f64,
    /// Per-band offset: ± this many standard deviations, per sample and band.
    #[serde(skip_serializing_if = "is_zero")]
    pub band_offset: f64,
    /// Gamma range: exp(± this), per sample (other processing curves).
    #[serde(skip_serializing_if = "is_zero")]
    pub gamma: f64,
    /// Saturation factor range: 1 ± this, per sample (three-band imagery).
    #[serde(skip_serializing_if = "is_zero")]
    pub saturation: f64,
    /// Hue rotation: ± this many half-turns about the grey axis, per sample
    /// (three-band imagery; another season's greens).
    #[serde(skip_serializing_if = "is_zero")]
    pub hue: f64,
    /// Blur or sharpen: detail (the image less its 3x3 blur) scaled by a
    /// factor in 1 ± this, per sample (other optics and resampling).
    #[serde(skip_serializing_if = "is_zero")]
    pub blur_sharpen: f64,
    /// Gaussian noise of up to this many standard deviations, per sample.
    #[serde(skip_serializing_if = "is_zero")]
    pub noise: f64,
}

/// Augmentations that are off are left out of the training record, so the
/// records of models trained before they existed read and write alike.
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            flips: true,
            rot90: true,
            brightness: 0.2,
            contrast: 0.2,
            scale: 0.1,
            band_gain: 0.0,
            band_offset: 0.0,
            gamma: 0.0,
            saturation: 0.0,
            hue: 0.0,
            blur_sharpen: 0.0,
            noise: 0.0,
        }
    }
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the training patches.
    pub epochs: usize,
    /// Patches per step.
    pub batch_size: usize,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Peak learning rate.
    pub lr: f64,
    /// Momentum (SGD).
    pub momentum: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Augmentation.
    pub augment: Augment,
    /// Seed of initialisation, shuffling and augmentation.
    pub seed: u64,
    /// Train only the classifier head (transfer learning).
    pub freeze_backbone: bool,
    /// Heatmap networks: spread of the Gaussian drawn on each object
    /// centre, pixels.
    pub sigma_px: f64,
    /// Heatmap networks: side of the random crops trained on, pixels.
    pub crop: usize,
    /// Epochs at the start in which only the decoder and head learn, on the
    /// trunk as it came (`--init`): small sets first fit what is new.
    #[serde(skip_serializing_if = "is_zero_count")]
    pub freeze_epochs: usize,
    /// Early stopping: stop once validation (F1 for heatmap networks, loss
    /// for patch classifiers) has not improved for this many epochs, and
    /// keep the best epoch's weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patience: Option<usize>,
    /// Heatmap networks: crops drawn per epoch at least. An epoch is
    /// otherwise as many crops as tile the training chips, which for a few
    /// labelled blocks is a step or two: too few for early stopping's
    /// epochs to mean anything.
    #[serde(skip_serializing_if = "is_zero_count")]
    pub min_crops_per_epoch: usize,
}

fn is_zero_count(v: &usize) -> bool {
    *v == 0
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 12,
            batch_size: 128,
            optimizer: Optimizer::Adam,
            lr: 2e-3,
            momentum: 0.9,
            weight_decay: 1e-4,
            augment: Augment::default(),
            seed: 1,
            freeze_backbone: false,
            sigma_px: 2.0,
            crop: 128,
            freeze_epochs: 0,
            patience: None,
            min_crops_per_epoch: 0,
        }
    }
}

/// One epoch's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy (on augmented patches; patch classifiers only).
    pub train_acc: Option<f64>,
    /// Validation loss.
    pub val_loss: f64,
    /// Validation accuracy (patch classifiers only).
    pub val_acc: Option<f64>,
    /// Validation F1 of the detections at their best threshold, when the
    /// caller measures it (heatmap networks).
    pub val_f1: Option<f64>,
    /// Learning rate at the epoch's end.
    pub lr: f64,
    /// Wall seconds. Logs keep them; model files do not, so that the same
    /// training writes the same file byte for byte.
    #[serde(default, skip_serializing)]
    pub seconds: f64,
}

/// How a model was made, in its file's metadata. A checkpoint records the
/// epoch it was written after; a finished model the epochs and the last
/// epoch's figures; calibration adds the operating point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// The command line that trained it.
    pub command: String,
    /// Training rasters.
    pub train_rasters: usize,
    /// Labelled objects inside them.
    pub train_objects: usize,
    /// Patches cut from them (patch classifiers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_patches: Option<usize>,
    /// Chips cut from them (heatmap networks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_chips: Option<usize>,
    /// Validation rasters.
    pub val_rasters: usize,
    /// Labelled objects inside them.
    pub val_objects: usize,
    /// Validation patches (patch classifiers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_patches: Option<usize>,
    /// Validation chips (heatmap networks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_chips: Option<usize>,
    /// Labelled-area polygons trained with (background learned inside them
    /// only); absent: every object in each training raster was labelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labelled_areas: Option<usize>,
    /// The settings trained with.
    pub config: TrainingSettings,
    /// Checkpoints: the epoch written after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<usize>,
    /// Finished models: epochs trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Finished models stopped early: the epoch whose weights were kept
    /// (the best on validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_epoch: Option<usize>,
    /// Finished models: the last epoch's figures (the kept one's, when
    /// stopped early).
    #[serde(default, rename = "final", skip_serializing_if = "Option::is_none")]
    pub last: Option<Option<EpochLog>>,
    /// Wall seconds of training, rounded, in files written before model
    /// files were made reproducible byte for byte (the log has the time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// The operating point chosen on validation rasters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
}

/// The settings a model was trained with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingSettings {
    /// Architecture name.
    pub model: String,
    /// Patch side, pixels.
    pub patch: usize,
    /// Chip side, pixels (heatmap networks).
    pub chip: usize,
    /// The optimisation.
    pub train: TrainConfig,
}

/// The operating point chosen on validation rasters, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The matching rule optimised.
    #[serde(rename = "match")]
    pub rule: String,
    /// Validation rasters.
    pub rasters: usize,
    /// Without validation rasters: the blocks (chips) held out of the
    /// training rasters that chose it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<usize>,
    /// The chosen score threshold.
    pub score_threshold: f64,
    /// The chosen suppression distance, metres.
    pub suppression_m: f64,
    /// Scores averaged over flips and rotations.
    pub tta: bool,
    /// Validation counts at the chosen point.
    pub validation: Counts,
    /// The best threshold for each suppression distance tried.
    pub per_suppression: Vec<SuppressionTrial>,
    /// With several validation sets (e.g. one per year): each one's counts
    /// at the chosen point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_set: Vec<SetCounts>,
    /// When scores were mapped to probabilities there: how well they read
    /// as such. `score_threshold` is then a probability, and the
    /// thresholds of `per_suppression` raw scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<ProbabilityFit>,
    /// Heatmap networks: how the halo dense scoring reads around each
    /// tile's core was measured (the model's `halo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halo: Option<HaloFit>,
}

/// How a heatmap network's halo was measured: the validation rasters cut
/// into small cores, scored with each halo tried and with the patch side
/// of context, their detections (raw scores above the floor) compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaloFit {
    /// Side of the tile cores, pixels.
    pub core: usize,
    /// The reference's halo (the patch side, on the network's stride).
    pub reference: usize,
    /// Detections of the reference.
    pub detections: usize,
    /// The halos tried, in increasing order.
    pub trials: Vec<crate::halo::HaloTrial>,
    /// The least halo that kept the detections (the reference's if none).
    pub chosen: usize,
}

/// How the map from raw score to probability was fitted, and how well
/// scores read as probabilities before and after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbabilityFit {
    /// Validation detections fitted on (all above the floor, each judged
    /// among those scoring at least its own score).
    pub detections: usize,
    /// The chosen threshold in raw scores.
    pub raw_threshold: f64,
    /// Expected calibration error of the detections at the operating
    /// point, all validation rasters and then each set.
    pub per_set: Vec<SetCalibration>,
}

/// One validation set's expected calibration error at the operating point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetCalibration {
    /// The set's name.
    pub name: String,
    /// Its detections at the operating point.
    pub detections: usize,
    /// With raw scores.
    pub raw: f64,
    /// With the map's probabilities.
    pub calibrated: f64,
}

/// One validation set's counts at the chosen operating point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetCounts {
    /// The set's name (its list file's stem).
    pub name: String,
    /// Its rasters.
    pub rasters: usize,
    /// Its counts.
    pub counts: Counts,
}

/// The best threshold for one suppression distance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuppressionTrial {
    /// Metres.
    pub suppression_m: f64,
    /// The candidate source detect used with it.
    pub stride: CandidateSource,
    /// The threshold with the best F1.
    pub best_threshold: f64,
    /// Validation counts there.
    pub counts: Counts,
}
