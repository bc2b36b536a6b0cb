//! Training sets as the networks need them, assembled from rasters and
//! label files: patches around labels for patch classifiers, chips with
//! every object centre for heatmap networks; the validation F1 of a heatmap
//! network; and the training log and its curves.

use crate::error::{backend, Error, Result};
use detection::evaluate::{add_curves, best_f1, sweep, sweep_thresholds, Counts, MatchRule, ScoredBox};
use detection::objects::{Detection, PixelLabel};
use detection::suppress::suppress;
use models::train::{band_stats, Chips, Data, EpochLog};
use models::Model;
use pipeline::areas::{areas_in_raster, AreaFile};
use pipeline::dataset::{chips, sample, Labelled, Patches, Sampling};
use pipeline::label_hull::{hull_pad_px, padded_label_hull, HULL_PAD_M};
use pipeline::labels::{labels_in_raster, LabelFile};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Rasters for training: all must be found.
pub fn rasters(inputs: &[PathBuf], lists: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let (found, errors) = crate::outputs::select_rasters(inputs, lists)?;
    if let Some(e) = errors.into_iter().next() {
        return Err(e.into());
    }
    Ok(found)
}

/// Told as each raster of a training set is cut, from the threads that
/// cut them (a terminal's bar, a notebook's counter).
pub trait Cutting: Sync {
    /// One more raster is cut.
    fn cut(&self);
}

/// Cuts without a word.
impl Cutting for () {
    fn cut(&self) {}
}

/// What a training set's rasters hold, gathered as they are cut.
#[derive(Debug, Clone, Default)]
pub struct SetFacts {
    /// Labelled objects in them.
    pub objects: usize,
    /// Rasters without a label.
    pub unlabelled: usize,
    /// The metres per pixel of those that state one (or were given one).
    pub metres_per_pixel: Vec<f64>,
}

/// Cuts every raster of `paths` with `cut` (its index, path and labels),
/// in parallel, in input order, telling `cutting` of each; with the set's
/// facts.
fn cut_set<T: Send>(
    paths: &[PathBuf],
    labels: &Labels,
    cutting: &dyn Cutting,
    cut: impl Fn(usize, &Path, Labelled) -> Result<T> + Sync,
) -> Result<(Vec<T>, SetFacts)> {
    let parts: Vec<Result<(T, InRaster)>> = paths
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let r = labels.in_raster(p)?;
            let out = cut(i, p, Labelled { objects: &r.objects, areas: r.areas.as_deref() })?;
            cutting.cut();
            Ok((out, r))
        })
        .collect();
    let mut facts = SetFacts::default();
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let (t, r) = part?;
        facts.objects += r.objects.len();
        facts.unlabelled += usize::from(r.objects.is_empty());
        facts.metres_per_pixel.extend(r.metres_per_pixel);
        out.push(t);
    }
    Ok((out, facts))
}

/// Patches of many rasters, cut in parallel, concatenated in input order;
/// `cutting` told of each raster.
pub fn patches(paths: &[PathBuf], labels: &Labels, s: &Sampling, cutting: &dyn Cutting) -> Result<(Patches, SetFacts)> {
    let (parts, facts) = cut_set(paths, labels, cutting, |i, p, labelled| Ok(sample(p, labelled, s, i as u64)?))?;
    let mut all = Patches::default();
    for p in parts {
        all.extend(p);
    }
    Ok((all, facts))
}

/// Chips of many rasters, cut in parallel, concatenated in input order.
pub fn chips_of(paths: &[PathBuf], labels: &Labels, s: &Sampling, size: usize) -> Result<(Chips, SetFacts)> {
    let (parts, facts) = cut_set(paths, labels, &(), |_, p, labelled| Ok(chips(p, labelled, s, size)?))?;
    let mut all = pipeline::dataset::Chips::default();
    for c in parts {
        all.extend(c);
    }
    Ok((Chips::from_chips(&all, s.bands.len(), size), facts))
}

/// Labelled-area polygons in a raster's pixels.
pub type Areas = Vec<geo::Polygon<f64>>;

/// What one raster brings to a training set, in its pixels.
#[derive(Debug, Clone)]
pub struct InRaster {
    /// Its labelled objects.
    pub objects: Vec<PixelLabel>,
    /// Where it is labelled (`None`: all of it).
    pub areas: Option<Areas>,
    /// Its metres per pixel, when known.
    pub metres_per_pixel: Option<f64>,
}

/// What the user labelled: objects, and optionally the areas in which
/// every object is labelled.
pub struct Labels {
    /// The label files.
    pub files: Vec<LabelFile>,
    /// The labelled-area files; empty: see `all_labelled`.
    pub areas: Vec<AreaFile>,
    /// Without area files: whether every object of every raster is
    /// labelled (`--all-labelled`). When not, each raster is taken as
    /// labelled only around its labels (their padded hull), so objects
    /// left unlabelled elsewhere are not learned as background.
    pub all_labelled: bool,
    /// What the user stated about rasters that lack it.
    pub declared: pipeline::raster::Declared,
}

impl Labels {
    /// The objects inside the raster at `path`, where it is labelled, and
    /// its metres per pixel.
    pub fn in_raster(&self, path: &Path) -> Result<InRaster> {
        let raster = pipeline::Raster::open_declared(path, &self.declared)?;
        let found = labels_in_raster(&self.files, &raster)?;
        let areas = match (self.areas.is_empty(), self.all_labelled) {
            (false, _) => Some(areas_in_raster(&self.areas, &raster)?),
            (true, true) => None,
            (true, false) => {
                let pixel_m = raster.info().distance_scale();
                Some(padded_label_hull(&found, hull_pad_px(&found, pixel_m)).into_iter().collect())
            }
        };
        Ok(InRaster { objects: found, areas, metres_per_pixel: raster.info().metres_per_pixel() })
    }

    /// Fails, saying why and in which frame it looked, when area files were
    /// given and none of their polygons overlaps any of `paths`' rasters
    /// (training would otherwise learn no background, without a word).
    pub fn check_areas_overlap(&self, paths: &[PathBuf]) -> Result<()> {
        if self.areas.is_empty() {
            return Ok(());
        }
        let mut pixel_frame = None;
        for p in paths {
            let raster = pipeline::Raster::open_declared(p, &self.declared)?;
            if !areas_in_raster(&self.areas, &raster)?.is_empty() {
                return Ok(());
            }
            if !raster.georef().has_transform() {
                pixel_frame.get_or_insert_with(|| p.clone());
            }
        }
        let fix = match pixel_frame {
            Some(p) => format!(
                "{} has no georeferencing, so labelled areas are read in its pixel frame, x = column and y = -row \
                 (the frame QGIS shows the image in): draw them over the image in QGIS, or negate their y",
                p.display()
            ),
            None => "check that their CRS and extent match the imagery (ogrinfo -al -so, gdalinfo)".into(),
        };
        let files: Vec<String> = self.areas.iter().map(|a| a.path.display().to_string()).collect();
        Err(crate::Error::Nothing(format!(
            "none of the labelled areas of {} overlaps the training rasters; {fix}",
            files.join(", ")
        )))
    }

    /// Labelled-area polygons, when area files were given.
    pub fn polygons(&self) -> Option<usize> {
        (!self.areas.is_empty()).then(|| self.areas.iter().map(|a| a.polygons.len()).sum())
    }

    /// What is taken as background, for the user.
    pub fn assumption(&self) -> String {
        if self.areas.is_empty() && self.all_labelled {
            "every object in each training raster is labelled (--all-labelled): unlabelled pixels are background".into()
        } else if self.areas.is_empty() {
            format!(
                "background is learned only around the labels (their hull, padded by {HULL_PAD_M} m or the largest label), \
                 so objects left unlabelled elsewhere do no harm; pass --areas with polygons where every object is \
                 labelled to say where, or --all-labelled if every object of every raster is"
            )
        } else {
            let n = self.polygons().unwrap_or(0);
            format!("every object inside the {n} labelled area(s) is labelled: background is learned there only")
        }
    }
}

/// What a network learns from.
pub enum Examples {
    /// Patches and classes, for a patch classifier.
    Patches(Data),
    /// Chips and object centres, for a heatmap network.
    Chips(Chips),
}

impl Examples {
    /// Number of patches or chips.
    pub fn len(&self) -> usize {
        match self {
            Examples::Patches(d) => d.len(),
            Examples::Chips(c) => c.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Per-band mean and standard deviation, the model's normalisation.
    pub fn stats(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        Ok(match self {
            Examples::Patches(d) => band_stats(&d.x, None).map_err(backend)?,
            Examples::Chips(c) => band_stats(&c.x, Some(&c.valid)).map_err(backend)?,
        })
    }

    /// What each example is, for messages and the training record.
    pub fn kind(&self) -> &'static str {
        match self {
            Examples::Patches(_) => "patches",
            Examples::Chips(_) => "chips",
        }
    }
}

/// Training and validation examples of the kind the architecture needs,
/// with each set's facts; `cutting(set, rasters)` gives
/// what to tell as each set's rasters are cut ("train", "val").
pub fn examples(
    heatmap: bool,
    paths: (&[PathBuf], &[PathBuf]),
    labels: &Labels,
    sampling: &Sampling,
    chip: usize,
    cutting: &mut dyn FnMut(&str, usize) -> Box<dyn Cutting>,
) -> Result<(Examples, Examples, SetFacts, SetFacts)> {
    let val_sampling = Sampling { seed: sampling.seed + 1, ..sampling.clone() };
    let n = sampling.bands.len();
    if heatmap {
        let (t, train_facts) = chips_of(paths.0, labels, sampling, chip)?;
        let (v, val_facts) = chips_of(paths.1, labels, &val_sampling, chip)?;
        return Ok((Examples::Chips(t), Examples::Chips(v), train_facts, val_facts));
    }
    let (t, train_facts) = patches(paths.0, labels, sampling, cutting("train", paths.0.len()).as_ref())?;
    let (v, val_facts) = patches(paths.1, labels, &val_sampling, cutting("val", paths.1.len()).as_ref())?;
    let (t, v) = (Data::from_patches(&t, n, sampling.patch), Data::from_patches(&v, n, sampling.patch));
    Ok((Examples::Patches(t), Examples::Patches(v), train_facts, val_facts))
}

/// Counts at every threshold of [`sweep_thresholds`] of a heatmap
/// network's detections on validation chips (peaks, suppression within
/// `suppression_px`, matched by `rule`).
pub fn chip_curves(model: &Model, val: &Chips, rule: MatchRule, pixel_m: f64, suppression_px: f64) -> Vec<Counts> {
    let thresholds = sweep_thresholds();
    let mut totals = vec![Counts::default(); thresholds.len()];
    for (i, peaks) in models::train::chip_peaks(model, val).into_iter().enumerate() {
        let dets = peaks.into_iter().map(|p| Detection::at(p.at, p.score)).collect();
        let boxes: Vec<ScoredBox> = suppress(dets, suppression_px).iter().map(ScoredBox::from).collect();
        let truth: Vec<PixelLabel> = val.objects[i]
            .iter()
            .map(|o| PixelLabel { centre: o.centre, bbox: None, outline: None, polygon: None })
            .collect();
        add_curves(&mut totals, &sweep(&boxes, &truth, rule, pixel_m, &thresholds));
    }
    totals
}

/// The best F1 over score thresholds of a heatmap network's detections on
/// validation chips (see [`chip_curves`]), and that threshold.
pub fn heatmap_f1(model: &Model, val: &Chips, rule: MatchRule, pixel_m: f64, suppression_px: f64) -> (f64, f64) {
    let totals = chip_curves(model, val, rule, pixel_m, suppression_px);
    let (k, best) = best_f1(&totals).expect("thresholds");
    (best.f1, sweep_thresholds()[k])
}

/// Holds out every fifth chip that holds objects (a block of the training
/// rasters, whole) for validation when no validation rasters are given:
/// neighbouring pixels do not land on both sides, as they would with random
/// crops, and a held-out block without objects would choose the kept epoch
/// and the threshold on nothing. Fewer than two blocks with objects: none
/// is held out. Chips with nothing to learn (outside every labelled area)
/// are dropped.
pub fn hold_out_blocks(chips: &Chips) -> (Chips, Chips) {
    let useful = chips.with_data();
    let holding: Vec<i64> = useful.iter().copied().filter(|&i| !chips.objects[i as usize].is_empty()).collect();
    let val: Vec<i64> = match holding.len() {
        0 | 1 => Vec::new(),
        n => {
            let every = n.min(5);
            holding.iter().enumerate().filter(|(k, _)| k % every == every - 1).map(|(_, &i)| i).collect()
        }
    };
    let train: Vec<i64> = useful.into_iter().filter(|i| !val.contains(i)).collect();
    (chips.select(&train), chips.select(&val))
}

/// Validation with fewer objects than this chooses the kept epoch and the
/// operating point on too little to trust, and the user is told so.
pub const THIN_VALIDATION: usize = 10;

/// Earlier epochs from a log being appended to (none when it does not
/// exist yet); a log that cannot be read is an error, since resuming
/// without it would lose early stopping's history.
pub fn read_log(path: &Path) -> Result<Vec<EpochLog>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::File { path: path.to_owned(), reason: format!("cannot read the training log: {e}") })
        }
    };
    detection::formats::training_log::parse(&text).map_err(|reason| Error::File {
        path: path.to_owned(),
        reason: format!("not a training log rsdetect reads ({reason}); start again without --resume"),
    })
}

/// Loss and accuracy per epoch, training and validation, as a PNG.
pub fn plot_curves(path: &Path, logs: &[EpochLog]) -> Result<()> {
    use plotters::prelude::*;
    let root = BitMapBackend::new(path, (1000, 400)).into_drawing_area();
    root.fill(&WHITE).map_err(backend)?;
    let (left, right) = root.split_horizontally(500);
    let n = logs.len().max(2) as f64;
    let max_loss = logs.iter().map(|l| l.train_loss.max(l.val_loss)).fold(0.1, f64::max);
    let mut loss = ChartBuilder::on(&left)
        .caption("loss", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(1f64..n, 0f64..max_loss * 1.05)
        .map_err(backend)?;
    loss.configure_mesh().x_desc("epoch").draw().map_err(backend)?;
    loss.draw_series(LineSeries::new(logs.iter().map(|l| (l.epoch as f64, l.train_loss)), &BLUE))
        .map_err(backend)?
        .label("train")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
    loss.draw_series(LineSeries::new(logs.iter().map(|l| (l.epoch as f64, l.val_loss)), &RED))
        .map_err(backend)?
        .label("validation")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
    loss.configure_series_labels().border_style(BLACK).draw().map_err(backend)?;
    // Patch classifiers: accuracy; heatmap networks: validation F1.
    let f1 = logs.iter().any(|l| l.val_f1.is_some());
    let mut acc = ChartBuilder::on(&right)
        .caption(if f1 { "validation F1" } else { "accuracy" }, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(1f64..n, if f1 { 0f64..1.0 } else { 0.5f64..1.0 })
        .map_err(backend)?;
    acc.configure_mesh().x_desc("epoch").draw().map_err(backend)?;
    let series = |get: fn(&EpochLog) -> Option<f64>| -> Vec<(f64, f64)> {
        logs.iter().filter_map(|l| get(l).map(|v| (l.epoch as f64, v))).collect()
    };
    acc.draw_series(LineSeries::new(series(|l| l.train_acc), &BLUE)).map_err(backend)?;
    acc.draw_series(LineSeries::new(series(|l| l.val_acc), &RED)).map_err(backend)?;
    acc.draw_series(LineSeries::new(series(|l| l.val_f1), &RED)).map_err(backend)?;
    root.present().map_err(backend)?;
    Ok(())
}
