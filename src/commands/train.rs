//! `rsdetect train`: patches cut from imagery around labels (patch
//! classifiers) or chips of imagery with every object centre (heatmap
//! networks), a network trained on them with a checkpoint every epoch, a
//! CSV log and a PNG of the curves, and the operating point chosen on the
//! validation rasters.

use crate::cli::TrainArgs;
use crate::commands::{calibrate, Status};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use models::train::{band_stats, Chips, Data, EpochLog, TrainConfig};
use models::{Arch, Model, ModelMeta, Strictness};
use pipeline::coords::{PixelBox, PixelPoint};
use pipeline::dataset::{chips, sample, Patches, Sampling};
use pipeline::evaluate::{sweep, sweep_thresholds, Counts, MatchRule, ScoredBox, Truth};
use pipeline::labels::{find_label_files, labels_in_raster, read_labels, LabelFile};
use pipeline::merge::{suppress, Detection};
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
    /// Patch side, pixels: what a patch classifier sees; for a heatmap
    /// network, the context each pixel's score depends on (tile overlap).
    pub patch: usize,
    /// Name of the object class.
    pub class: String,
    /// ResNets: planes of the first stage, instead of the named network's.
    pub width: Option<i64>,
    /// ResNets: blocks per stage, instead of the named network's.
    pub layers: Option<Vec<i64>>,
    /// Heatmap networks: channels of the decoder, instead of the named network's.
    pub decoder_width: Option<i64>,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            arch: "resnet-small".into(),
            patch: 32,
            class: "object".into(),
            width: None,
            layers: None,
            decoder_width: None,
        }
    }
}

impl ModelSection {
    /// The named architecture with this section's changes.
    pub fn arch(&self) -> Result<Arch> {
        use models::resnet::Head;
        let mut arch = Arch::named(&self.arch)
            .with_context(|| format!("unknown architecture {:?}: use one of {}", self.arch, Arch::NAMES.join(", ")))?;
        match &mut arch {
            Arch::Resnet(c) => {
                c.width = self.width.unwrap_or(c.width);
                c.layers = self.layers.clone().unwrap_or(c.layers.clone());
                match (&mut c.head, self.decoder_width) {
                    (Head::Heatmap { width }, Some(d)) => *width = d,
                    (Head::Pool, Some(_)) => bail!("[model] decoder_width needs a heatmap network"),
                    _ => {}
                }
                c.validate().map_err(|e| anyhow::anyhow!("[model]: {e}"))?;
            }
            Arch::Googlenet(_) if self.width.is_some() || self.layers.is_some() || self.decoder_width.is_some() => {
                bail!("[model] width, layers and decoder_width apply to ResNets only")
            }
            Arch::Googlenet(_) => {}
        }
        Ok(arch)
    }
}

/// `[sampling]` of a training config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplingSection {
    /// Negatives per positive (patch classifiers).
    pub negatives_per_positive: f64,
    /// Negatives at least this far from objects, metres (patch classifiers).
    pub negative_distance_m: f64,
    /// Side of the chips rasters are cut into, pixels (heatmap networks).
    pub chip: usize,
}

impl Default for SamplingSection {
    fn default() -> Self {
        SamplingSection { negatives_per_positive: 2.0, negative_distance_m: 3.0, chip: 256 }
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

/// Chips of many rasters, cut in parallel, concatenated in input order.
fn chips_of(paths: &[PathBuf], labels: &[LabelFile], s: &Sampling, size: usize) -> Result<(Chips, usize)> {
    let parts: Vec<Result<(pipeline::dataset::Chips, usize)>> = paths
        .par_iter()
        .map(|p| {
            let raster = pipeline::Raster::open(p)?;
            let found = labels_in_raster(labels, &raster)?;
            Ok((chips(p, &found, s, size)?, found.len()))
        })
        .collect();
    let mut all = pipeline::dataset::Chips::default();
    let mut objects = 0;
    for part in parts {
        let (c, n) = part?;
        objects += n;
        all.extend(c);
    }
    let centres = all.centres.iter().map(|cs| cs.iter().map(|c| (c.x as f32, c.y as f32)).collect()).collect();
    Ok((Chips::new(&all.data, &all.valid, centres, s.bands.len(), size), objects))
}

/// What a network learns from.
enum Examples {
    /// Patches and classes, for a patch classifier.
    Patches(Data),
    /// Chips and object centres, for a heatmap network.
    Chips(Chips),
}

impl Examples {
    fn len(&self) -> usize {
        match self {
            Examples::Patches(d) => d.len(),
            Examples::Chips(c) => c.len(),
        }
    }

    fn stats(&self) -> (Vec<f32>, Vec<f32>) {
        match self {
            Examples::Patches(d) => band_stats(&d.x, None),
            Examples::Chips(c) => band_stats(&c.x, Some(&c.valid)),
        }
    }
}

/// Training and validation examples of the kind the architecture needs.
fn examples(
    heatmap: bool,
    paths: (&[PathBuf], &[PathBuf]),
    labels: &[LabelFile],
    sampling: &Sampling,
    chip: usize,
) -> Result<(Examples, Examples, usize, usize)> {
    let val_sampling = Sampling { seed: sampling.seed + 1, ..sampling.clone() };
    let n = sampling.bands.len();
    if heatmap {
        let (t, n_train) = chips_of(paths.0, labels, sampling, chip)?;
        let (v, n_val) = chips_of(paths.1, labels, &val_sampling, chip)?;
        return Ok((Examples::Chips(t), Examples::Chips(v), n_train, n_val));
    }
    let (t, n_train) = patches(paths.0, labels, sampling, "train")?;
    let (v, n_val) = patches(paths.1, labels, &val_sampling, "val")?;
    let (t, v) = (Data::new(&t.data, &t.labels, n, sampling.patch), Data::new(&v.data, &v.labels, n, sampling.patch));
    Ok((Examples::Patches(t), Examples::Patches(v), n_train, n_val))
}

/// The best F1 over score thresholds of a heatmap network's detections on
/// validation chips (peaks, suppression within `suppression_px`, matched by
/// `rule`), and that threshold.
fn heatmap_f1(model: &Model, val: &Chips, rule: MatchRule, pixel_m: f64, suppression_px: f64) -> (f64, f64) {
    let thresholds = sweep_thresholds();
    let mut totals = vec![Counts::default(); thresholds.len()];
    for (i, peaks) in models::train::chip_peaks(model, val).into_iter().enumerate() {
        let dets = peaks
            .into_iter()
            .map(|(x, y, score)| {
                let centre = PixelPoint { x, y };
                Detection { centre, footprint: PixelBox { x0: x, y0: y, x1: x, y1: y }, score }
            })
            .collect();
        let boxes: Vec<ScoredBox> = suppress(dets, suppression_px)
            .into_iter()
            .map(|d| ScoredBox { centre: d.centre, bbox: d.footprint, score: d.score as f64 })
            .collect();
        let truth: Vec<Truth> = val.centres[i]
            .iter()
            .map(|&(x, y)| Truth { centre: PixelPoint { x: x as f64, y: y as f64 }, bbox: None })
            .collect();
        for (t, c) in totals.iter_mut().zip(sweep(&boxes, &truth, rule, pixel_m, &thresholds)) {
            *t = t.add(&c);
        }
    }
    let (k, best) = totals.iter().enumerate().max_by(|a, b| a.1.f1.total_cmp(&b.1.f1)).expect("thresholds");
    (best.f1, thresholds[k])
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
    let arch = cfg.model.arch()?;

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
    let heatmap = arch.is_heatmap();
    let (train_data, val_data, n_train, n_val) =
        examples(heatmap, (&train_paths, &val_paths), &label_files, &sampling, cfg.sampling.chip)?;
    let what = if heatmap { "chips" } else { "patches" };
    eprintln!(
        "{} training rasters ({n_train} objects, {} {what}), {} validation rasters ({n_val} objects, {} {what})",
        train_paths.len(),
        train_data.len(),
        val_paths.len(),
        val_data.len()
    );
    if n_train == 0 {
        bail!("no labels fall inside the training rasters: check that the labels' CRS and extent match the imagery");
    }

    let device = models::resolve(args.device)?;
    let (mean, std) = train_data.stats();
    let command: Vec<String> = std::env::args().collect();
    let mut meta =
        ModelMeta::new(arch, bands.clone(), cfg.model.patch, gsd_m, vec!["background".into(), cfg.model.class.clone()]);
    meta.mean = mean;
    meta.std = std;
    meta.data_type =
        bands.first().and_then(|&b| first.info().bands.get(b.checked_sub(1)?)).map(|b| b.data_type.clone());
    // Until calibration chooses: the middle of the candidates.
    meta.suppression_m = cfg.calibrate.suppression_m.get(cfg.calibrate.suppression_m.len() / 2).copied().unwrap_or(3.0);
    meta.training = serde_json::json!({
        "command": command.join(" "),
        "train_rasters": train_paths.len(), "train_objects": n_train, format!("train_{what}"): train_data.len(),
        "val_rasters": val_paths.len(), "val_objects": n_val, format!("val_{what}"): val_data.len(),
        "config": {"model": cfg.model.arch, "patch": cfg.model.patch, "chip": cfg.sampling.chip, "train": cfg.train},
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

    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the output folder", dir.display()))?;
    }
    let ckpt = args.out.with_extension("ckpt.safetensors");
    let log_path = args.out.with_extension("log.csv");
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(first_epoch > 0)
        .write(true)
        .truncate(first_epoch == 0)
        .open(&log_path)
        .with_context(|| format!("{}: cannot write the training log", log_path.display()))?;
    if first_epoch == 0 {
        writeln!(log, "epoch,train_loss,train_acc,val_loss,val_acc,val_f1,lr,seconds")?;
    }
    let mut history: Vec<EpochLog> = read_log(&log_path);
    let steps = ProgressBar::new(0);
    steps.set_style(
        ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} loss {msg}")
            .expect("template")
            .progress_chars("=> "),
    );
    let epochs = cfg.train.epochs;
    let rule: MatchRule = cfg.calibrate.rule.parse().map_err(anyhow::Error::msg)?;
    let suppression_px = model.meta.suppression_m / gsd_m;
    let mut on_step = |step: usize, total: usize, loss: f64| {
        steps.set_length(total as u64);
        steps.set_position(step as u64);
        steps.set_message(format!("{loss:.4}"));
    };
    let mut on_epoch = |e: &mut EpochLog, m: &Model| -> Result<()> {
        if let Examples::Chips(val) = &val_data {
            if !val.is_empty() {
                e.val_f1 = Some(heatmap_f1(m, val, rule, gsd_m, suppression_px).0);
            }
        }
        steps.set_prefix(format!("{}/{epochs}", e.epoch + 1));
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
        writeln!(
            log,
            "{},{:.6},{},{:.6},{},{},{:.3e},{:.1}",
            e.epoch,
            e.train_loss,
            opt(e.train_acc),
            e.val_loss,
            opt(e.val_acc),
            opt(e.val_f1),
            e.lr,
            e.seconds
        )?;
        let quality = match (e.train_acc, e.val_acc, e.val_f1) {
            (Some(t), Some(v), _) => format!("acc {t:.3} | val acc {v:.3}"),
            (_, _, Some(f)) => format!("val F1 {f:.3}"),
            _ => String::new(),
        };
        steps.suspend(|| {
            eprintln!(
                "epoch {}/{epochs}: loss {:.4} | val loss {:.4} | {quality} | {:.0} s",
                e.epoch, e.train_loss, e.val_loss, e.seconds
            )
        });
        history.push(*e);
        let mut snapshot = m.meta.clone();
        snapshot.training["epoch"] = e.epoch.into();
        m.save_as(&ckpt, &snapshot)?;
        plot_curves(&args.out.with_extension("curves.png"), &history)?;
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
                train_acc: f(2),
                val_loss: f(3)?,
                val_acc: f(4),
                val_f1: f(5),
                lr: f(6)?,
                seconds: f(7)?,
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
    // Patch classifiers: accuracy; heatmap networks: validation F1.
    let f1 = logs.iter().any(|l| l.val_f1.is_some());
    let mut acc = ChartBuilder::on(&right)
        .caption(if f1 { "validation F1" } else { "accuracy" }, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(1f64..n, if f1 { 0f64..1.0 } else { 0.5f64..1.0 })?;
    acc.configure_mesh().x_desc("epoch").draw()?;
    let series = |get: fn(&EpochLog) -> Option<f64>| -> Vec<(f64, f64)> {
        logs.iter().filter_map(|l| get(l).map(|v| (l.epoch as f64, v))).collect()
    };
    acc.draw_series(LineSeries::new(series(|l| l.train_acc), &BLUE))?;
    acc.draw_series(LineSeries::new(series(|l| l.val_acc), &RED))?;
    acc.draw_series(LineSeries::new(series(|l| l.val_f1), &RED))?;
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
            assert!(cfg.model.arch().is_ok(), "{name}");
            assert!(cfg.calibrate.rule.parse::<pipeline::evaluate::MatchRule>().is_ok());
        }
        assert!(toml::from_str::<TrainFile>("[train]\nepoch = 3").is_err());
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

            /// Any text: a training config parses and names a network, or
            /// says why not; nothing panics, and no network is absurdly large.
            #[test]
            fn any_training_config_never_panics(
                text in "\\PC{0,120}",
                width in prop::option::of(any::<i64>()),
                layers in prop::option::of(prop::collection::vec(any::<i64>(), 0..8)),
                decoder in prop::option::of(any::<i64>()),
                arch in prop::sample::select(Arch::NAMES.to_vec()),
            ) {
                if let Ok(cfg) = toml::from_str::<TrainFile>(&text) {
                    let _ = cfg.model.arch();
                }
                let section = ModelSection {
                    arch: arch.to_string(),
                    width,
                    layers,
                    decoder_width: decoder,
                    ..ModelSection::default()
                };
                if let Ok(Arch::Resnet(c)) = section.arch() {
                    prop_assert!(c.width <= 1024 && c.layers.len() <= 6 && c.layers.iter().all(|&n| n <= 64));
                }
            }
        }
    }
}
