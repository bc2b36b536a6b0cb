//! `rsdetect train`: patches cut from imagery around labels, a network
//! trained on them with a checkpoint every epoch, a CSV log and a PNG of the
//! curves, and the operating point chosen on the validation rasters.

use crate::cli::TrainArgs;
use crate::commands::{calibrate, Status};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use models::train::{band_stats, Data, EpochLog, TrainConfig};
use models::{Arch, Model, ModelMeta, Strictness};
use pipeline::dataset::{sample, Patches, Sampling};
use pipeline::labels::{find_label_files, labels_in_raster, read_labels, LabelFile};
use rayon::prelude::*;
use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `[model]` of a training config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSection {
    /// Architecture name (see `Arch::named`).
    pub arch: String,
    /// Patch side, pixels.
    pub patch: usize,
    /// Name of the object class.
    pub class: String,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection { arch: "resnet-small".into(), patch: 32, class: "object".into() }
    }
}

/// `[sampling]` of a training config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplingSection {
    /// Negatives per positive.
    pub negatives_per_positive: f64,
    /// Negatives at least this far from objects, metres.
    pub negative_distance_m: f64,
}

impl Default for SamplingSection {
    fn default() -> Self {
        SamplingSection { negatives_per_positive: 2.0, negative_distance_m: 3.0 }
    }
}

/// A training config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainFile {
    /// The network and its input.
    pub model: ModelSection,
    /// How patches are cut.
    pub sampling: SamplingSection,
    /// The optimisation.
    pub train: TrainConfig,
    /// How the operating point is chosen.
    pub calibrate: calibrate::CalibrateSection,
}

/// Rasters for training: all must be found.
fn rasters(inputs: &[PathBuf], list: Option<&Path>) -> Result<Vec<PathBuf>> {
    let (found, errors) = crate::commands::select_rasters(inputs, list)?;
    if let Some(e) = errors.first() {
        bail!("{e}");
    }
    Ok(found)
}

/// Patches of many rasters, cut in parallel, concatenated in input order.
fn patches(paths: &[PathBuf], labels: &[LabelFile], s: &Sampling, what: &str) -> Result<(Patches, usize)> {
    let bar = ProgressBar::new(paths.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} rasters")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_owned());
    let parts: Vec<Result<(Patches, usize)>> = paths
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let raster = pipeline::Raster::open(p)?;
            let found = labels_in_raster(labels, &raster)?;
            let out = sample(p, &found, s, i as u64)?;
            bar.inc(1);
            Ok((out, found.len()))
        })
        .collect();
    bar.finish_and_clear();
    let mut all = Patches::default();
    let mut objects = 0;
    for part in parts {
        let (p, n) = part?;
        objects += n;
        all.extend(p);
    }
    Ok((all, objects))
}

/// Trains a model as the arguments say.
pub fn run(args: &TrainArgs) -> Result<Status> {
    let start = Instant::now();
    let mut cfg = match &args.config {
        Some(p) => toml::from_str::<TrainFile>(
            &std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?,
        )
        .with_context(|| format!("{}: invalid training config (see configs/train-default.toml)", p.display()))?,
        None => TrainFile::default(),
    };
    if let Some(a) = &args.arch {
        cfg.model.arch = a.clone();
    }
    if let Some(e) = args.epochs {
        cfg.train.epochs = e;
    }
    cfg.train.freeze_backbone |= args.freeze_backbone;
    let arch = Arch::named(&cfg.model.arch)
        .with_context(|| format!("unknown architecture {:?}: use one of {}", cfg.model.arch, Arch::NAMES.join(", ")))?;

    let train_paths = rasters(&args.images, args.list.as_deref())?;
    let val_inputs = if args.val_images.is_empty() { &args.images } else { &args.val_images };
    let (train_paths, val_paths) = match (&args.val_list, args.val_images.is_empty()) {
        (None, true) => {
            // Every tenth raster validates; the rest train.
            let (v, t): (Vec<_>, Vec<_>) = train_paths.into_iter().enumerate().partition(|(i, _)| i % 10 == 9);
            (t.into_iter().map(|x| x.1).collect(), v.into_iter().map(|x| x.1).collect())
        }
        _ => (train_paths, rasters(val_inputs, args.val_list.as_deref())?),
    };
    if train_paths.is_empty() {
        bail!("no training rasters found under {:?}", args.images);
    }
    let label_files: Vec<LabelFile> =
        find_label_files(&args.labels)?.iter().map(|p| read_labels(p)).collect::<Result<_, _>>()?;
    let first = pipeline::Raster::open(&train_paths[0])?;
    let bands = args.bands.clone().unwrap_or_else(|| (1..=first.band_count()).collect());
    let gsd_m = first
        .info()
        .gsd_m
        .map(|g| g.mean())
        .or(args.input_gsd)
        .context("the first raster states no ground sample distance: pass --input-gsd")?;
    let sampling = Sampling {
        bands: bands.clone(),
        patch: cfg.model.patch,
        gsd_m,
        negatives_per_positive: cfg.sampling.negatives_per_positive,
        negative_distance_m: cfg.sampling.negative_distance_m,
        input_gsd_m: args.input_gsd,
        seed: cfg.train.seed,
    };
    let (train_set, n_train) = patches(&train_paths, &label_files, &sampling, "train")?;
    let (val_set, n_val) =
        patches(&val_paths, &label_files, &Sampling { seed: sampling.seed + 1, ..sampling.clone() }, "val")?;
    eprintln!(
        "{} training rasters ({n_train} objects, {} patches), {} validation rasters ({n_val} objects, {} patches)",
        train_paths.len(),
        train_set.len(),
        val_paths.len(),
        val_set.len()
    );
    if n_train == 0 {
        bail!("no labels fall inside the training rasters: check that the labels' CRS and extent match the imagery");
    }
    let train_data = Data::new(&train_set.data, &train_set.labels, bands.len(), cfg.model.patch);
    let val_data = Data::new(&val_set.data, &val_set.labels, bands.len(), cfg.model.patch);
    drop((train_set, val_set));

    let device = models::resolve(args.device)?;
    let (mean, std) = band_stats(&train_data.x);
    let command: Vec<String> = std::env::args().collect();
    let mut meta =
        ModelMeta::new(arch, bands.clone(), cfg.model.patch, gsd_m, vec!["background".into(), cfg.model.class.clone()]);
    meta.mean = mean;
    meta.std = std;
    // Until calibration chooses: the middle of the candidates.
    meta.suppression_m = cfg.calibrate.suppression_m.get(cfg.calibrate.suppression_m.len() / 2).copied().unwrap_or(3.0);
    meta.training = serde_json::json!({
        "command": command.join(" "),
        "train_rasters": train_paths.len(), "train_objects": n_train, "train_patches": train_data.len(),
        "val_rasters": val_paths.len(), "val_objects": n_val, "val_patches": val_data.len(),
        "config": {"model": cfg.model.arch, "patch": cfg.model.patch, "train": cfg.train},
    });
    models::seed(cfg.train.seed);
    let mut model = Model::new(meta, device).map_err(anyhow::Error::msg)?;
    let mut first_epoch = 0;
    if let Some(init) = &args.init {
        let loaded = model.load_weights_file(init, Strictness::Transfer)?;
        eprintln!("{}: {} tensors taken for transfer", init.display(), loaded.len());
    }
    if let Some(ckpt) = &args.resume {
        model.load_weights_file(ckpt, Strictness::Strict)?;
        let m = Model::read_meta(ckpt)?;
        first_epoch = m.training["epoch"].as_u64().context("the checkpoint records no epoch")? as usize;
        model.meta.mean = m.mean;
        model.meta.std = m.std;
        eprintln!("resuming after epoch {first_epoch} of {}", cfg.train.epochs);
    }
    eprintln!("{} parameters on {:?}", model.parameters(), device);

    let ckpt = args.out.with_extension("ckpt.safetensors");
    let log_path = args.out.with_extension("log.csv");
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(first_epoch > 0)
        .write(true)
        .truncate(first_epoch == 0)
        .open(&log_path)?;
    if first_epoch == 0 {
        writeln!(log, "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds")?;
    }
    let mut history: Vec<EpochLog> = read_log(&log_path);
    let steps = ProgressBar::new(0);
    steps.set_style(
        ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} loss {msg}")
            .expect("template")
            .progress_chars("=> "),
    );
    let epochs = cfg.train.epochs;
    models::train::train(
        &mut model,
        &train_data,
        &val_data,
        &cfg.train,
        first_epoch,
        &mut |step, total, loss| {
            steps.set_length(total as u64);
            steps.set_position(step as u64);
            steps.set_message(format!("{loss:.4}"));
        },
        &mut |e: &EpochLog, m: &Model| -> Result<()> {
            steps.set_prefix(format!("{}/{epochs}", e.epoch + 1));
            writeln!(
                log,
                "{},{:.6},{:.6},{:.6},{:.6},{:.3e},{:.1}",
                e.epoch, e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.lr, e.seconds
            )?;
            steps.suspend(|| {
                eprintln!(
                    "epoch {}/{epochs}: loss {:.4} acc {:.3} | val loss {:.4} acc {:.3} | {:.0} s",
                    e.epoch, e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.seconds
                )
            });
            history.push(*e);
            let mut snapshot = m.meta.clone();
            snapshot.training["epoch"] = e.epoch.into();
            m.save_as(&ckpt, &snapshot)?;
            plot_curves(&args.out.with_extension("curves.png"), &history)?;
            Ok(())
        },
    )?;
    steps.finish_and_clear();
    let last = history.last().copied();
    model.meta.training["epochs"] = cfg.train.epochs.into();
    model.meta.training["final"] = serde_json::to_value(last)?;
    model.meta.training["seconds"] = start.elapsed().as_secs_f64().round().into();
    model.save(&args.out)?;
    eprintln!("wrote {} ({:.0} s)", args.out.display(), start.elapsed().as_secs_f64());
    if !val_paths.is_empty() && !args.no_calibrate {
        calibrate::calibrate_model(&args.out, &val_paths, &label_files, &cfg.calibrate, args.device, args.input_gsd)?;
    }
    Ok(Status::Ok)
}

/// Earlier epochs from a log being appended to.
fn read_log(path: &Path) -> Vec<EpochLog> {
    let Ok(mut r) = csv::Reader::from_path(path) else { return vec![] };
    r.records()
        .flatten()
        .filter_map(|rec| {
            let f = |i: usize| rec.get(i).and_then(|v| v.parse::<f64>().ok());
            Some(EpochLog {
                epoch: f(0)? as usize,
                train_loss: f(1)?,
                train_acc: f(2)?,
                val_loss: f(3)?,
                val_acc: f(4)?,
                lr: f(5)?,
                seconds: f(6)?,
            })
        })
        .collect()
}

/// Loss and accuracy per epoch, training and validation, as a PNG.
fn plot_curves(path: &Path, logs: &[EpochLog]) -> Result<()> {
    use plotters::prelude::*;
    let root = BitMapBackend::new(path, (1000, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(500);
    let n = logs.len().max(2) as f64;
    let max_loss = logs.iter().map(|l| l.train_loss.max(l.val_loss)).fold(0.1, f64::max);
    let mut loss = ChartBuilder::on(&left)
        .caption("loss", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(1f64..n, 0f64..max_loss * 1.05)?;
    loss.configure_mesh().x_desc("epoch").draw()?;
    loss.draw_series(LineSeries::new(logs.iter().map(|l| (l.epoch as f64, l.train_loss)), &BLUE))?
        .label("train")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
    loss.draw_series(LineSeries::new(logs.iter().map(|l| (l.epoch as f64, l.val_loss)), &RED))?
        .label("validation")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
    loss.configure_series_labels().border_style(BLACK).draw()?;
    let mut acc = ChartBuilder::on(&right)
        .caption("accuracy", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(1f64..n, 0.5f64..1.0)?;
    acc.configure_mesh().x_desc("epoch").draw()?;
    acc.draw_series(LineSeries::new(logs.iter().map(|l| (l.epoch as f64, l.train_acc)), &BLUE))?;
    acc.draw_series(LineSeries::new(logs.iter().map(|l| (l.epoch as f64, l.val_acc)), &RED))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_training_configs_parse() {
        for name in ["train-default.toml", "train-naip-trees.toml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(name);
            let cfg: TrainFile =
                toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(Arch::named(&cfg.model.arch).is_some(), "{name}");
            assert!(cfg.calibrate.rule.parse::<pipeline::evaluate::MatchRule>().is_ok());
        }
        assert!(toml::from_str::<TrainFile>("[train]\nepoch = 3").is_err());
    }
}
