//! The train stage as one call: patches cut from imagery around labels
//! (patch classifiers) or chips of imagery with every object centre
//! (heatmap networks), a network trained on them with a checkpoint every
//! epoch, a CSV log and a PNG of the curves, and the operating point chosen
//! on the validation rasters. A [`TrainRequest`] is resolved once into a
//! [`TrainPlan`] (rasters, labels, starting point, examples), which
//! [`TrainPlan::run`] trains, telling a [`TrainProgress`] how it goes.

use crate::calibration::{calibrate_model, calibrate_on_chips, CalibrationProgress};
use crate::error::{Error, Result};
use crate::starting_point::{self, Start};
use crate::training::{
    examples, heatmap_f1, hold_out_blocks, plot_curves, rasters, read_log, Cutting, Examples, Labels,
};
use detection::applicability::{BandStats, Imagery};
use detection::arch::Arch;
use detection::formats::train_config::TrainFile;
use detection::formats::training::{EpochLog, TrainingRecord, TrainingSettings};
use detection::formats::training_log;
use models::{DeviceChoice, Model, ModelMeta, Strictness};
use pipeline::dataset::Sampling;
use pipeline::raster::Declared;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// What a training run is asked to do.
#[derive(Debug, Clone, Default)]
pub struct TrainRequest {
    /// Training rasters, or folders of them.
    pub images: Vec<PathBuf>,
    /// Label files or folders of them.
    pub labels: Vec<PathBuf>,
    /// Lists of raster names to train on (none: every raster found).
    pub list: Vec<PathBuf>,
    /// Validation rasters, or folders of them (none: held out of training).
    pub val_images: Vec<PathBuf>,
    /// Lists of validation raster names, each a validation set.
    pub val_list: Vec<PathBuf>,
    /// The model file to write.
    pub out: PathBuf,
    /// Labelled-area files.
    pub areas: Vec<PathBuf>,
    /// Every object of every raster is labelled.
    pub all_labelled: bool,
    /// A network by name (trains from scratch).
    pub arch: Option<String>,
    /// A training config (trains its network from scratch).
    pub config: Option<PathBuf>,
    /// Epochs, over the config's.
    pub epochs: Option<usize>,
    /// Bands, 1-based (none: all of the first raster's).
    pub bands: Option<Vec<usize>>,
    /// Where training runs.
    pub device: DeviceChoice,
    /// The model to start from (a file or a shipped model's name).
    pub init: Option<PathBuf>,
    /// Start from random weights.
    pub scratch: bool,
    /// Train the head only.
    pub freeze_backbone: bool,
    /// A checkpoint to continue from.
    pub resume: Option<PathBuf>,
    /// What the user states about rasters that lack it.
    pub declared: Declared,
    /// The ground sample distance to train at, metres.
    pub gsd: Option<f64>,
    /// Skip choosing the operating point.
    pub no_calibrate: bool,
    /// The command as the model file records it.
    pub command: String,
}

/// How training goes, told as it goes. Lines are whole sentences for the
/// user, printed as they come (the command line prints them on stderr).
pub trait TrainProgress {
    /// A line for the user.
    fn say(&mut self, line: &str);
    /// `step` of an epoch's `total` optimiser steps are done, at `loss`.
    fn step(&mut self, _step: usize, _total: usize, _loss: f64) {}
    /// Epoch `next` of `of` is next.
    fn epoch(&mut self, _next: usize, _of: usize) {}
    /// Training is over (saving and calibration follow).
    fn finish(&mut self) {}
    /// Calibration scored `done` of `total` validation rasters at
    /// `suppression_m`.
    fn scored(&mut self, _suppression_m: f64, _done: usize, _total: usize) {}
    /// What to tell as the `rasters` rasters of training set `set` ("train",
    /// "val") are cut into patches.
    fn cutting(&mut self, _set: &str, _rasters: usize) -> Box<dyn Cutting> {
        Box::new(())
    }
}

/// Calibration's lines and counts, told to a training run's progress.
struct Calibrating<'a>(&'a mut dyn TrainProgress);

impl CalibrationProgress for Calibrating<'_> {
    fn say(&mut self, line: &str) {
        self.0.say(line);
    }

    fn scored(&mut self, suppression_m: f64, done: usize, total: usize) {
        self.0.scored(suppression_m, done, total);
    }
}

/// A training run resolved: what it trains on, from where, how.
pub struct TrainPlan {
    req: TrainRequest,
    start: Instant,
    from: Start,
    inherited: Option<ModelMeta>,
    cfg: TrainFile,
    arch: Arch,
    bands: Vec<usize>,
    data_type: Option<String>,
    gsd_m: f64,
    labels: Labels,
    train_paths: Vec<PathBuf>,
    val_sets: Vec<(String, Vec<PathBuf>)>,
    /// The training rasters' own metres per pixel.
    native_m: Vec<f64>,
    train_data: Examples,
    val_data: Examples,
    n_train: usize,
    n_val: usize,
    held_out: bool,
}

impl TrainPlan {
    /// Resolves a request: the rasters and labels found, the starting
    /// point and the config chosen, the examples cut and split; says what
    /// it took (the starting point, the labels' assumption, the counts).
    pub fn resolve(req: TrainRequest, progress: &mut dyn TrainProgress) -> Result<TrainPlan> {
        let start = Instant::now();
        let train_paths = rasters(&req.images, &req.list)?;
        let Some(first_path) = train_paths.first() else {
            return Err(Error::Nothing(format!("no training rasters found under {:?}", req.images)));
        };
        let declared = req.declared;
        let first = pipeline::Raster::open_declared(first_path, &declared)?;
        let bands = req.bands.clone().unwrap_or_else(|| (1..=first.band_count()).collect());
        let own_network = req.config.is_some() || req.arch.is_some();
        let from = match &req.resume {
            Some(ckpt) => Start::Scratch { why: format!("resuming from {}", ckpt.display()) },
            None => starting_point::choose(req.init.as_deref(), req.scratch, own_network, &bands)?,
        };
        progress.say(from.describe());
        let mut cfg = match (&req.config, &from) {
            (Some(p), _) => TrainFile::load(p)?,
            (None, Start::From { .. }) => toml::from_str(starting_point::FINE_TUNING_CONFIG).map_err(|e| {
                Error::Nothing(format!("the built-in fine-tuning config (configs/train-finetune.toml): {e}"))
            })?,
            (None, Start::Scratch { .. }) => TrainFile::default(),
        };
        if let Some(a) = &req.arch {
            cfg.model.arch = a.clone();
        }
        if let Some(e) = req.epochs {
            cfg.train.epochs = e;
        }
        cfg.train.freeze_backbone |= req.freeze_backbone;
        // Without a network of the user's own, a run from a trained model keeps
        // its network, scale and class.
        let inherited = from.meta().filter(|_| !own_network);
        let mut arch = match inherited {
            Some(m) => m.arch.clone(),
            None => cfg.model.arch()?,
        };
        if let Some(m) = inherited {
            cfg.model.patch = m.patch;
            cfg.model.class = m.classes.get(m.positive).cloned().unwrap_or(cfg.model.class);
        }

        let val_inputs = if req.val_images.is_empty() { &req.images } else { &req.val_images };
        let no_validation_given = req.val_list.is_empty() && req.val_images.is_empty();
        let (train_paths, val_sets) = if no_validation_given && !arch.is_heatmap() {
            // Every tenth raster validates; the rest train.
            let (v, t): (Vec<_>, Vec<_>) = train_paths.into_iter().enumerate().partition(|(i, _)| i % 10 == 9);
            let v = v.into_iter().map(|x| x.1).collect();
            (t.into_iter().map(|x| x.1).collect(), vec![("validation".to_string(), v)])
        } else if no_validation_given {
            // Heatmap networks hold out blocks of the training rasters instead.
            (train_paths, vec![])
        } else {
            (train_paths, crate::outputs::select_sets(val_inputs, &req.val_list)?)
        };
        let val_paths: Vec<_> = val_sets.iter().flat_map(|(_, v)| v.iter().cloned()).collect();
        crate::check_bounds(&[&train_paths[..], &val_paths[..]].concat(), &declared)?;
        let labels = Labels {
            files: pipeline::labels::read_label_files(&req.labels)?,
            areas: pipeline::areas::read_area_files(&req.areas)?,
            all_labelled: req.all_labelled || cfg.sampling.all_labelled,
            declared,
        };
        progress.say(&labels.assumption());
        // The labels' own name for what they mark is the model's class, and so
        // every output's.
        let names = pipeline::labels::class_names(&labels.files);
        if let Some((name, _)) = names.first() {
            if names.len() > 1 {
                let all: Vec<String> = names.iter().map(|(n, k)| format!("{n} {k}")).collect();
                progress.say(&format!(
                    "the labels name {} classes ({}): the model finds them all, as {name}",
                    names.len(),
                    all.join(", ")
                ));
            }
            if req.config.is_some() && !cfg.model.class.eq_ignore_ascii_case(name) {
                progress.say(&format!(
                    "the labels call the objects {name}: the model's class is {name}, not the config's {}",
                    cfg.model.class
                ));
            }
            cfg.model.class = name.clone();
        }
        labels.check_areas_overlap(&train_paths)?;
        let gsd_m = match (req.gsd, inherited) {
            (Some(g), _) if g > 0.0 => g,
            (Some(g), _) => {
                return Err(Error::Nothing(format!(
                    "--gsd {g}: a ground sample distance is a positive number of metres"
                )))
            }
            // The starting model's scale: imagery is resampled to what it knows.
            (None, Some(m)) => m.gsd_m,
            (None, None) => first.info().metres_per_pixel().ok_or_else(|| {
                Error::Nothing(
                    "the first raster states no ground sample distance: pass --input-gsd, or --bounds".into(),
                )
            })?,
        };
        let sampling = Sampling {
            bands: bands.clone(),
            patch: cfg.model.patch,
            gsd_m,
            negatives_per_positive: cfg.sampling.negatives_per_positive,
            negative_distance_m: cfg.sampling.negative_distance_m,
            declared,
            seed: cfg.train.seed,
        };
        let heatmap = arch.is_heatmap();
        let (mut train_data, mut val_data, train_facts, val_facts) =
            examples(heatmap, (&train_paths, &val_paths), &labels, &sampling, cfg.sampling.chip, &mut |set, n| {
                progress.cutting(set, n)
            })?;
        let (n_train, mut n_val) = (train_facts.objects, val_facts.objects);
        let held_out = heatmap && no_validation_given;
        if let (true, Examples::Chips(all)) = (held_out, &train_data) {
            let (t, v) = hold_out_blocks(all);
            n_val = v.objects.iter().map(Vec::len).sum();
            (train_data, val_data) = (Examples::Chips(t), Examples::Chips(v));
        }
        // Box and polygon labels say how large each object is and where it
        // lies: a heatmap network then learns its size and, pixel by pixel,
        // its extent (exactly from polygons, weakly from boxes), and outlines
        // its detections with them.
        let learns_extent = matches!(&train_data, Examples::Chips(c) if c.has_extents());
        if learns_extent && !(arch.has_extent() && arch.has_foreground()) {
            arch = arch.with_extent().with_foreground();
            progress.say(
                "the labels have extents (boxes or polygons): the network learns each object's size and which \
                 pixels it covers, and outlines detections with them",
            );
        }
        let what = train_data.kind();
        if held_out {
            progress.say(&format!(
                "{} training rasters ({n_train} objects): {} {what} train, {} held out to validate ({n_val} objects; \
                 every fifth {}-pixel block)",
                train_paths.len(),
                train_data.len(),
                val_data.len(),
                cfg.sampling.chip
            ));
        } else {
            progress.say(&format!(
                "{} training rasters ({n_train} objects, {} {what}), {} validation rasters ({n_val} objects, {} {what})",
                train_paths.len(),
                train_data.len(),
                val_paths.len(),
                val_data.len()
            ));
        }
        let bare = train_facts.unlabelled;
        if labels.areas.is_empty() && !labels.all_labelled && train_paths.len() > 1 && bare > 0 {
            progress.say(&format!(
                "{bare} of {} training rasters hold no labels: nothing is learned from them (pass --all-labelled if \
                 they hold no objects, or --areas)",
                train_paths.len()
            ));
        }
        if n_train == 0 {
            let opened = train_paths
                .iter()
                .map(|p| pipeline::Raster::open_declared(p, &declared))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            return Err(Error::Nothing(format!(
                "no labels fall inside the training rasters: {}",
                pipeline::labels::why_none_inside(&labels.files, &opened)
            )));
        }
        let kept_point = kept_point(inherited);
        if val_data.is_empty() && cfg.train.patience.is_some() {
            if held_out {
                progress.say(&format!(
                    "no second block of {} px holds labelled objects, so none is held out to validate: training all \
                     {} epochs without early stopping, and the operating point stays {kept_point} (label objects in \
                     more of the imagery, or give --val-images or --val-list to validate)",
                    cfg.sampling.chip, cfg.train.epochs
                ));
            } else {
                progress.say(&format!(
                    "too little imagery to hold out a block for validation: training all {} epochs without early \
                     stopping (give --val-images or --val-list to validate)",
                    cfg.train.epochs
                ));
            }
            cfg.train.patience = None;
        } else if !val_data.is_empty() && n_val < crate::training::THIN_VALIDATION {
            progress.say(&format!(
                "validation holds only {n_val} objects: the kept epoch and the operating point rest on few and are \
                 rough (label more, or give --val-images or --val-list)"
            ));
        }
        let data_type =
            bands.first().and_then(|&b| first.info().bands.get(b.checked_sub(1)?)).map(|b| b.data_type.clone());
        let inherited = inherited.cloned();
        Ok(TrainPlan {
            req,
            start,
            from,
            inherited,
            cfg,
            arch,
            bands,
            data_type,
            gsd_m,
            labels,
            train_paths,
            val_sets,
            native_m: train_facts.metres_per_pixel,
            train_data,
            val_data,
            n_train,
            n_val,
            held_out,
        })
    }

    /// Trains, writing a checkpoint, the log and the curves every epoch,
    /// then the model, and chooses its operating point on validation.
    pub fn run(self, progress: &mut dyn TrainProgress) -> Result<()> {
        let TrainPlan {
            req,
            start,
            from,
            inherited,
            cfg,
            arch,
            bands,
            data_type,
            gsd_m,
            labels,
            train_paths,
            val_sets,
            native_m,
            train_data,
            val_data,
            n_train,
            n_val,
            held_out,
        } = self;
        let declared = labels.declared;
        let heatmap = arch.is_heatmap();
        let val_paths: Vec<&PathBuf> = val_sets.iter().flat_map(|(_, v)| v).collect();
        let kept_point = kept_point(inherited.as_ref());
        let device = models::resolve(req.device)?;
        let (mean, std) = train_data.stats()?;
        let mut meta = ModelMeta::new(
            arch,
            bands.clone(),
            cfg.model.patch,
            gsd_m,
            vec!["background".into(), cfg.model.class.clone()],
        );
        meta.imagery = learned_imagery(&native_m, gsd_m, (&mean, &std));
        meta.mean = mean;
        meta.std = std;
        meta.data_type = data_type;
        // Until calibration chooses: the starting model's operating point, else
        // the middle of the candidates.
        meta.suppression_m =
            cfg.calibrate.suppression_m.get(cfg.calibrate.suppression_m.len() / 2).copied().unwrap_or(3.0);
        if let Some(m) = &inherited {
            (meta.score_threshold, meta.suppression_m) = (m.raw_score_threshold(), m.suppression_m);
        }
        let (n_train_examples, n_val_examples) = (Some(train_data.len()), Some(val_data.len()));
        meta.training = Some(TrainingRecord {
            command: req.command.clone(),
            train_rasters: train_paths.len(),
            train_objects: n_train,
            train_patches: n_train_examples.filter(|_| !heatmap),
            train_chips: n_train_examples.filter(|_| heatmap),
            val_rasters: val_paths.len(),
            val_objects: n_val,
            val_patches: n_val_examples.filter(|_| !heatmap),
            val_chips: n_val_examples.filter(|_| heatmap),
            labelled_areas: labels.polygons(),
            config: TrainingSettings {
                model: cfg.model.arch.clone(),
                patch: cfg.model.patch,
                chip: cfg.sampling.chip,
                train: cfg.train.clone(),
            },
            ..TrainingRecord::default()
        });
        models::seed(cfg.train.seed);
        let mut model = Model::new(meta, device)?;
        let mut first_epoch = 0;
        if let Start::From { path, name, meta, .. } = &from {
            let loaded = model.load_weights_file(path, Strictness::Transfer)?;
            progress.say(&format!("{name}: {} tensors taken for transfer", loaded.len()));
            keep_init_normalisation(&mut model.meta, meta);
        }
        if let Some(ckpt) = &req.resume {
            model.load_weights_file(ckpt, Strictness::Strict)?;
            let m = Model::read_meta(ckpt)?;
            first_epoch = m
                .training
                .and_then(|t| t.epoch)
                .ok_or_else(|| Error::Nothing("the checkpoint records no epoch".into()))?;
            model.meta.mean = m.mean;
            model.meta.std = m.std;
            progress.say(&format!("resuming after epoch {first_epoch} of {}", cfg.train.epochs));
        }
        progress.say(&format!("{} parameters on {:?}", model.parameters(), device));

        crate::create_parent(&req.out, "model")?;
        let ckpt = req.out.with_extension("ckpt.safetensors");
        let log_path = req.out.with_extension("log.csv");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(first_epoch > 0)
            .write(true)
            .truncate(first_epoch == 0)
            .open(&log_path)
            .map_err(|e| Error::File {
                path: log_path.clone(),
                reason: format!("cannot write the training log: {e}"),
            })?;
        let log_failed = |e: std::io::Error| Error::File {
            path: log_path.clone(),
            reason: format!("cannot write the training log: {e}"),
        };
        if first_epoch == 0 {
            writeln!(log, "{}", training_log::HEADER).map_err(log_failed)?;
        }
        let mut history: Vec<EpochLog> = read_log(&log_path)?;
        let epochs = cfg.train.epochs;
        let rule = cfg.calibrate.rule;
        let suppression_px = model.meta.suppression_m / gsd_m;
        let progress = std::cell::RefCell::new(progress);
        let mut on_step = |step: usize, total: usize, loss: f64| progress.borrow_mut().step(step, total, loss);
        let mut on_epoch = |e: &mut EpochLog, m: &Model| -> Result<()> {
            if let Examples::Chips(val) = &val_data {
                if !val.is_empty() {
                    e.val_f1 = Some(heatmap_f1(m, val, rule, gsd_m, suppression_px).0);
                }
            }
            progress.borrow_mut().epoch(e.epoch + 1, epochs);
            writeln!(log, "{}", training_log::row(e)).map_err(log_failed)?;
            let quality = match (e.train_acc, e.val_acc, e.val_f1) {
                (Some(t), Some(v), _) => format!("acc {t:.3} | val acc {v:.3}"),
                (_, _, Some(f)) => format!("val F1 {f:.3}"),
                _ => String::new(),
            };
            progress.borrow_mut().say(&format!(
                "epoch {}/{epochs}: loss {:.4} | val loss {:.4} | {quality} | {:.0} s",
                e.epoch, e.train_loss, e.val_loss, e.seconds
            ));
            history.push(*e);
            let mut snapshot = m.meta.clone();
            snapshot.training.get_or_insert_with(Default::default).epoch = Some(e.epoch);
            m.save_as(&ckpt, &snapshot)?;
            plot_curves(&req.out.with_extension("curves.png"), &history)?;
            Ok(())
        };
        match (&train_data, &val_data) {
            (Examples::Patches(t), Examples::Patches(v)) => {
                models::train::train(&mut model, t, v, &cfg.train, first_epoch, &mut on_step, &mut on_epoch)?
            }
            (Examples::Chips(t), Examples::Chips(v)) => {
                models::train::train_heatmap(&mut model, t, v, &cfg.train, first_epoch, &mut on_step, &mut on_epoch)?
            }
            _ => unreachable!("training and validation examples are made alike"),
        };
        let progress = progress.into_inner();
        progress.finish();
        let kept = cfg.train.patience.and(models::train::best_epoch(&history));
        let last = match kept {
            Some(k) => history.iter().find(|l| l.epoch == k).copied(),
            None => history.last().copied(),
        };
        let record = model.meta.training.get_or_insert_with(Default::default);
        record.epochs = Some(if kept.is_some() { history.len() } else { cfg.train.epochs });
        record.kept_epoch = kept;
        record.last = Some(last);
        if let Some(k) = kept {
            progress.say(&format!("kept epoch {k} of {}: the best on validation", history.len()));
        }
        model.save(&req.out)?;
        progress.say(&format!("wrote {} ({:.0} s)", req.out.display(), start.elapsed().as_secs_f64()));
        match (&val_data, req.no_calibrate) {
            (_, true) => {}
            (Examples::Chips(val), _) if held_out && !val.is_empty() => {
                calibrate_on_chips(&req.out, val, &cfg.calibrate, gsd_m, &mut Calibrating(progress))?;
            }
            _ if !val_paths.is_empty() => {
                let mut calibrating = Calibrating(progress);
                calibrate_model(
                    &req.out,
                    &val_sets,
                    &labels.files,
                    &cfg.calibrate,
                    req.device,
                    declared,
                    &mut calibrating,
                )?;
            }
            _ => progress.say(&format!(
                "no validation data: the operating point stays {kept_point} (give --val-list to choose one)"
            )),
        }
        Ok(())
    }
}

/// Where the operating point stays when none is chosen: the starting
/// model's, else the defaults.
fn kept_point(inherited: Option<&ModelMeta>) -> &'static str {
    if inherited.is_some() {
        "the starting model's"
    } else {
        "at the defaults"
    }
}

/// The imagery the model learns from, when the network sees it resampled:
/// the training rasters' own ground sample distances (`native`; the finest
/// and coarsest kept) and band statistics (`stats`, mean and standard
/// deviation), which detect judges a raster against. `None` when every
/// raster is at `gsd_m`.
fn learned_imagery(native: &[f64], gsd_m: f64, stats: (&[f32], &[f32])) -> Option<Imagery> {
    if native.iter().all(|g| (g / gsd_m - 1.0).abs() <= 0.01) {
        return None;
    }
    let round = |v: f64| (v * 1e4).round() / 1e4;
    let (lo, hi) = native.iter().fold((f64::MAX, f64::MIN), |(a, b), &g| (a.min(g), b.max(g)));
    let stats = BandStats {
        mean: stats.0.iter().map(|&v| round(v as f64)).collect(),
        sd: stats.1.iter().map(|&v| round(v as f64)).collect(),
    };
    Some(Imagery { gsd_m: [round(lo), round(hi)], stats })
}

/// The transferred weights learned on inputs normalised by the init model's
/// band statistics: bands it shares with the new model (the same band, at
/// the same position) keep them; the others keep the training set's.
fn keep_init_normalisation(meta: &mut ModelMeta, init: &ModelMeta) {
    for (i, band) in meta.bands.iter().enumerate() {
        if init.bands.get(i) == Some(band) && i < init.mean.len() && i < init.std.len() {
            meta.mean[i] = init.mean[i];
            meta.std[i] = init.std[i];
        }
    }
}
