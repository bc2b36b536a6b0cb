//! The detection stream for one raster: tiles are read and turned into
//! candidate patches in parallel (one GDAL dataset per rayon worker), patches
//! reach the classifier in batches on the calling thread (libtorch tensors
//! are not `Sync`), and detections are merged once over the whole raster.

use crate::candidates::components::{blobs, BlobFilter};
use crate::candidates::panchromatic::panchromatic;
use crate::candidates::sliding::{EdgePolicy, SlidingGrid};
use crate::candidates::threshold::{mask, otsu, Threshold};
use crate::candidates::Candidate;
use crate::classify::{PatchBatch, PatchClassifier};
use crate::coords::{PixelBox, PixelPoint};
use crate::error::{Error, Result};
use crate::grid::{Grid, Tile};
use crate::merge::{suppress, Detection};
use crate::patches::{centred_square, extract};
use crate::raster::{Gsd, Raster, RasterInfo};
use crate::resample::Resampling;
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::time::Instant;

/// Resident memory over which detect hands free heap pages back after a
/// dense tile. Under it they are kept, and the next tile's forward pass
/// reuses them instead of faulting them in again; over it (a long raster
/// fragments the heap) they go back, so memory stays flat.
const HEAP_BUDGET: u64 = 768 << 20;

/// Preprocessing as in Guirado et al. 2017.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preprocess {
    /// Bands combined into the panchromatic band (1-based).
    pub bands: Vec<usize>,
    /// One weight per band.
    pub weights: Vec<f32>,
    /// Fixed value or Otsu.
    pub threshold: Threshold,
    /// Objects are darker than the threshold (else brighter).
    pub darker: bool,
    /// Opening radius in pixels, to drop specks.
    pub open_radius: u8,
    /// Smallest blob, m².
    pub min_area_m2: f64,
    /// Largest blob, m².
    pub max_area_m2: f64,
}

/// A sliding window, in pixels of the raster as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sliding {
    /// Window side.
    pub size: usize,
    /// Step between windows.
    pub stride: usize,
    /// Right and bottom edge rule.
    pub edge: EdgePolicy,
}

/// Where candidates come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum CandidateSource {
    /// Blobs of a thresholded panchromatic band.
    Preprocess(Preprocess),
    /// Every window of a grid.
    Sliding(Sliding),
    /// Every window on a lattice, scored at once per tile by a classifier
    /// that runs convolutionally.
    Dense {
        /// Lattice step in pixels.
        step: usize,
    },
}

/// Everything detection needs besides the classifier, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectOptions {
    /// Candidate generation.
    pub source: CandidateSource,
    /// Tile core side, in pixels of the raster as the model sees it.
    pub tile: usize,
    /// Patches per classifier call.
    pub batch: usize,
    /// Detections scoring below this are dropped.
    pub score_threshold: f32,
    /// Detections closer than this (metres) are merged.
    pub suppression_m: f64,
    /// Ground sample distance of rasters that do not state one.
    pub input_gsd_m: Option<f64>,
    /// How the raster is resampled to the model's ground sample distance.
    pub resampling: Resampling,
}

/// Seconds spent per stage. Reading and candidates run in parallel, so they
/// add up worker time; inference and merging are wall time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Reading windows (worker seconds).
    pub read: f64,
    /// Candidates and patches (worker seconds).
    pub candidates: f64,
    /// Classifier calls.
    pub inference: f64,
    /// Suppression and conversion to raster pixels.
    pub merge: f64,
    /// The whole raster, wall time.
    pub total: f64,
}

/// Counts for run.json.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Tiles read.
    pub tiles: usize,
    /// Patches classified.
    pub classified: usize,
    /// Patches scoring at or above the threshold.
    pub above_threshold: usize,
    /// Detections after merging.
    pub detections: usize,
    /// Time per stage.
    pub seconds: Timings,
}

/// The outcome for one raster.
#[derive(Debug, Clone)]
pub struct RasterDetections {
    /// The raster as opened (not the resampled view).
    pub info: RasterInfo,
    /// Detections in the raster's own pixel grid, best first.
    pub detections: Vec<Detection>,
    /// Counts and timings.
    pub stats: Stats,
    /// What the user should know (assumed resolution, ...).
    pub notes: Vec<String>,
}

/// A padded tile for dense scoring.
struct DenseTile {
    /// The model's bands, channels first.
    values: Vec<f32>,
    height: usize,
    width: usize,
    /// Where its top-left corner lies on the raster, pixels.
    origin: (f64, f64),
    /// The pixels it owns.
    core: crate::coords::PixelWindow,
    /// Which of its pixels hold data (padding and nodata do not).
    valid: Vec<bool>,
}

impl DenseTile {
    /// Whether the pixel under a point of the tile holds data.
    fn valid_at(&self, x: f64, y: f64) -> bool {
        let (col, row) = (x.floor(), y.floor());
        col >= 0.0
            && row >= 0.0
            && (col as usize) < self.width
            && (row as usize) < self.height
            && self.valid[row as usize * self.width + col as usize]
    }
}

/// Patches on their way to the classifier.
enum Msg {
    Patches(Vec<Candidate>, Vec<f32>),
    Tile(DenseTile),
    TileDone {
        read: f64,
        candidates: f64,
        /// Pixels of the tile's window holding data.
        valid: usize,
    },
    Failed(Error),
}

/// What workers share: everything needed to open the view and cut patches.
struct Plan<'a> {
    path: &'a Path,
    view_gsd: Option<(f64, Option<Gsd>)>,
    resampling: Resampling,
    read_bands: Vec<usize>,
    model_pos: Vec<usize>,
    pan_pos: Vec<usize>,
    patch: usize,
    heatmap: bool,
    batch: usize,
    source: &'a CandidateSource,
    sliding: Option<SlidingGrid>,
    cut: f32,
    filter: BlobFilter,
    size: (usize, usize),
}

impl Plan<'_> {
    fn open_view(&self) -> Result<Raster> {
        let raster = Raster::open(self.path)?;
        match self.view_gsd {
            Some((target, declared)) => raster.resampled(target, declared, self.resampling),
            None => Ok(raster),
        }
    }

    fn candidates(&self, data: &crate::raster::WindowData<f32>, tile: &Tile) -> Vec<Candidate> {
        match (self.source, &self.sliding) {
            (_, Some(grid)) => {
                // Windows centred on nodata are not scored.
                let w = &data.window;
                let mut windows = grid.in_core(tile.core);
                windows.retain(|c| {
                    let (x, y) = (c.centre.x.floor() - w.x as f64, c.centre.y.floor() - w.y as f64);
                    x < 0.0
                        || y < 0.0
                        || x >= w.width as f64
                        || y >= w.height as f64
                        || data.valid[y as usize * w.width + x as usize]
                });
                windows
            }
            (CandidateSource::Preprocess(p), None) => {
                let pan_data = crate::raster::WindowData {
                    window: data.window,
                    bands: self.pan_pos.iter().map(|&i| data.bands[i]).collect(),
                    data: self.pan_pos.iter().flat_map(|&i| data.band(i).iter().copied()).collect(),
                    valid: data.valid.clone(),
                };
                let pan = panchromatic(&pan_data, &p.weights);
                let m = mask(&pan, &data.valid, data.window.width, data.window.height, self.cut, p.darker);
                blobs(&m, data.window, tile.core, self.size, &self.filter)
            }
            (CandidateSource::Sliding(_), None) | (CandidateSource::Dense { .. }, None) => {
                unreachable!("no patches in this mode")
            }
        }
    }

    /// The model's bands of a tile, with zeros added where the tile meets
    /// the raster's edge (as training patches are padded), so windows
    /// centred on edge pixels can be scored. Heatmap networks score edge
    /// pixels as they were trained to, without padding.
    fn padded(
        &self,
        data: &crate::raster::WindowData<f32>,
        step: usize,
        core: crate::coords::PixelWindow,
    ) -> DenseTile {
        let w = &data.window;
        let pad = if self.heatmap { 0 } else { (self.patch / 2).div_ceil(step) * step };
        let left = if w.x == 0 { pad } else { 0 };
        let top = if w.y == 0 { pad } else { 0 };
        let right = if w.x_end() == self.size.0 { pad } else { 0 };
        let bottom = if w.y_end() == self.size.1 { pad } else { 0 };
        let (pw, ph) = (w.width + left + right, w.height + top + bottom);
        let mut out = vec![0f32; self.model_pos.len() * pw * ph];
        for (o, &b) in self.model_pos.iter().enumerate() {
            let band = data.band(b);
            for y in 0..w.height {
                let dst = o * pw * ph + (y + top) * pw + left;
                out[dst..dst + w.width].copy_from_slice(&band[y * w.width..(y + 1) * w.width]);
            }
        }
        let mut valid = vec![false; pw * ph];
        for y in 0..w.height {
            let dst = (y + top) * pw + left;
            valid[dst..dst + w.width].copy_from_slice(&data.valid[y * w.width..(y + 1) * w.width]);
        }
        DenseTile {
            values: out,
            height: ph,
            width: pw,
            origin: (w.x as f64 - left as f64, w.y as f64 - top as f64),
            core,
            valid,
        }
    }

    fn square(&self, c: &Candidate) -> (isize, isize, usize) {
        match &self.sliding {
            Some(_) => (c.footprint.x as isize, c.footprint.y as isize, c.footprint.width),
            None => {
                let (x, y) = centred_square(c.centre, self.patch, self.size);
                (x, y, self.patch)
            }
        }
    }

    fn tile(&self, view: &Raster, tile: &Tile, tx: &SyncSender<Msg>) -> Result<()> {
        let t0 = Instant::now();
        let data = view.read_window::<f32>(tile.window, &self.read_bands)?;
        let read = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let valid = data.valid_count();
        if let CandidateSource::Dense { step } = self.source {
            let dense = self.padded(&data, *step, tile.core);
            let candidates = t1.elapsed().as_secs_f64();
            if tx.send(Msg::Tile(dense)).is_ok() {
                let _ = tx.send(Msg::TileDone { read, candidates, valid });
            }
            return Ok(());
        }
        let cands = self.candidates(&data, tile);
        let mut sent = 0.0;
        for chunk in cands.chunks(self.batch) {
            let mut values = Vec::with_capacity(chunk.len() * self.model_pos.len() * self.patch * self.patch);
            for c in chunk {
                let (x, y, side) = self.square(c);
                extract(&data, &self.model_pos, x, y, side, self.patch, &mut values);
            }
            let t = Instant::now();
            if tx.send(Msg::Patches(chunk.to_vec(), values)).is_err() {
                return Ok(());
            }
            sent += t.elapsed().as_secs_f64();
        }
        let candidates = t1.elapsed().as_secs_f64() - sent;
        let _ = tx.send(Msg::TileDone { read, candidates, valid });
        Ok(())
    }
}

/// Finds objects in one raster. `on_tile(done, total)` is called on this
/// thread as tiles finish, for progress bars.
pub fn detect_raster(
    path: &Path,
    classifier: &mut dyn PatchClassifier,
    opts: &DetectOptions,
    on_tile: &mut dyn FnMut(usize, usize),
) -> Result<RasterDetections> {
    let start = Instant::now();
    let spec = classifier.spec().clone();
    let raster = Raster::open(path)?;
    raster.check_bands(&spec.bands, "model")?;
    if let Some(expected) = &spec.data_type {
        let found = &raster.info().bands[spec.bands[0] - 1].data_type;
        if found != expected {
            return Err(Error::DataType { path: path.to_owned(), found: found.clone(), expected: expected.clone() });
        }
    }
    let mut notes = Vec::new();
    let declared = opts.input_gsd_m.map(|g| Gsd { x: g, y: g });
    let source_gsd = raster.info().gsd_m.or(declared);
    let view_gsd = match (spec.gsd_m, source_gsd) {
        (Some(model), Some(src)) if (src.mean() / model - 1.0).abs() > 0.01 => {
            Some((model, declared.filter(|_| raster.info().gsd_m.is_none())))
        }
        (Some(model), None) => {
            notes.push(format!(
                "ground sample distance unknown: assumed to be the model's {model} m (state it with --input-gsd to resample)"
            ));
            None
        }
        _ => None,
    };
    let pan_bands = match &opts.source {
        CandidateSource::Preprocess(p) => {
            raster.check_bands(&p.bands, "panchromatic conversion")?;
            p.bands.clone()
        }
        CandidateSource::Sliding(_) | CandidateSource::Dense { .. } => Vec::new(),
    };
    let mut read_bands = spec.bands.clone();
    for b in &pan_bands {
        if !read_bands.contains(b) {
            read_bands.push(*b);
        }
    }
    let position = |b: &usize| read_bands.iter().position(|r| r == b).expect("read");
    let mut plan = Plan {
        path,
        view_gsd,
        resampling: opts.resampling,
        model_pos: spec.bands.iter().map(position).collect(),
        pan_pos: pan_bands.iter().map(position).collect(),
        read_bands: read_bands.clone(),
        patch: spec.patch,
        heatmap: spec.heatmap,
        batch: opts.batch.max(1),
        source: &opts.source,
        sliding: None,
        cut: 0.0,
        filter: BlobFilter { open_radius: 0, min_area_m2: 0.0, max_area_m2: f64::MAX, pixel_area_m2: 1.0 },
        size: (0, 0),
    };
    let view = plan.open_view()?;
    plan.size = view.size();
    let (w, h) = plan.size;
    // Metres per pixel of the view, as the model sees it.
    let view_m = view.info().gsd_m.map(|g| g.mean()).or(spec.gsd_m).unwrap_or(1.0);
    let overlap = match &opts.source {
        CandidateSource::Dense { step } => {
            // Tiles and overlaps on multiples of the trunk's stride keep every
            // tile's lattice on one global lattice.
            let stride = spec.dense_stride.ok_or_else(|| Error::Classifier {
                path: path.to_owned(),
                reason: "this model cannot score densely; use --mode sliding".into(),
            })?;
            if stride % step != 0 {
                return Err(Error::Grid(format!("dense step {step} must divide the model's stride {stride}")));
            }
            spec.patch.div_ceil(stride) * stride
        }
        CandidateSource::Sliding(s) => {
            plan.sliding = Some(SlidingGrid::new(w, h, s.size, s.stride, s.edge));
            s.size
        }
        CandidateSource::Preprocess(p) => {
            plan.cut = match p.threshold {
                Threshold::Fixed(v) => v,
                Threshold::Method(_) => {
                    let over = view.read_overview(&pan_bands, 1024)?;
                    let pan = panchromatic(&over, &p.weights);
                    let (lo, hi) = pan.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
                    let cut = otsu(&pan, lo, hi);
                    notes.push(format!("Otsu threshold {cut:.1}"));
                    cut
                }
            };
            plan.filter = BlobFilter {
                open_radius: p.open_radius,
                min_area_m2: p.min_area_m2,
                max_area_m2: p.max_area_m2,
                pixel_area_m2: view_m * view_m,
            };
            // The largest blob kept, as a square, fits in the overlap.
            let blob_px = (p.max_area_m2 / (view_m * view_m)).sqrt().ceil() as usize;
            spec.patch.max(blob_px) + 2
        }
    };
    let tile = match &opts.source {
        CandidateSource::Dense { .. } => opts.tile.div_ceil(overlap.max(1)) * overlap.max(1),
        _ => opts.tile,
    };
    let grid = Grid::new(w, h, tile, overlap)?;
    let total_tiles = grid.len();

    let mut stats = Stats { tiles: total_tiles, ..Stats::default() };
    let mut found = Vec::new();
    let cancel = AtomicBool::new(false);
    let mut failure: Option<Error> = None;
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<Msg>(4);
        let plan = &plan;
        let cancel = &cancel;
        let grid = &grid;
        s.spawn(move || {
            grid.tiles().par_bridge().for_each_init(
                || plan.open_view(),
                |view, tile| {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let result = match view {
                        Ok(v) => plan.tile(v, &tile, &tx),
                        Err(e) => Err(Error::NotRaster { path: plan.path.to_owned(), reason: e.to_string() }),
                    };
                    if let Err(e) = result {
                        cancel.store(true, Ordering::Relaxed);
                        let _ = tx.send(Msg::Failed(e));
                    }
                },
            );
        });
        let mut done = 0;
        let mut valid_pixels = 0usize;
        let mut queue = Queue {
            batch: PatchBatch::new(spec.bands.len(), spec.patch, plan.batch),
            pending: Vec::new(),
            size: plan.batch,
        };
        for msg in rx.iter() {
            if crate::interrupt::requested() {
                cancel.store(true, Ordering::Relaxed);
                failure = Some(Error::Interrupted { path: path.to_owned() });
                break;
            }
            let step = match msg {
                Msg::Patches(cands, values) => {
                    queue.pending.extend(cands);
                    queue.batch.data.extend(values);
                    queue
                        .run(classifier, false, opts.score_threshold, &mut stats, &mut found)
                        .map_err(|reason| Error::Classifier { path: path.to_owned(), reason })
                }
                Msg::Tile(tile) => {
                    let step = match opts.source {
                        CandidateSource::Dense { step } => step,
                        _ => 1,
                    };
                    let t = Instant::now();
                    // A heatmap network locates centres, not extents: its
                    // detections span the suppression distance, the closest
                    // two objects may be.
                    let half = if spec.heatmap { opts.suppression_m / view_m / 2.0 } else { spec.patch as f64 / 2.0 };
                    classifier
                        .dense_scores(&tile.values, tile.height, tile.width, step)
                        .map_err(|reason| Error::Classifier { path: path.to_owned(), reason })
                        .map(|scored| {
                            crate::memory::release_free_memory_over(HEAP_BUDGET);
                            stats.seconds.inference += t.elapsed().as_secs_f64();
                            // A heatmap network scores every pixel, and reports peaks.
                            stats.classified += if spec.heatmap { tile.height * tile.width } else { scored.len() };
                            for (x, y, score) in scored {
                                let centre = PixelPoint { x: tile.origin.0 + x, y: tile.origin.1 + y };
                                if score >= opts.score_threshold
                                    && tile.core.contains_point(centre)
                                    && tile.valid_at(x, y)
                                {
                                    let footprint = PixelBox {
                                        x0: (centre.x - half).max(0.0),
                                        y0: (centre.y - half).max(0.0),
                                        x1: (centre.x + half).min(w as f64),
                                        y1: (centre.y + half).min(h as f64),
                                    };
                                    found.push(Detection { centre, footprint, score });
                                }
                            }
                        })
                }
                Msg::TileDone { read, candidates, valid } => {
                    valid_pixels += valid;
                    stats.seconds.read += read;
                    stats.seconds.candidates += candidates;
                    done += 1;
                    on_tile(done, total_tiles);
                    Ok(())
                }
                Msg::Failed(e) => Err(e),
            };
            if let Err(e) = step {
                cancel.store(true, Ordering::Relaxed);
                failure = Some(e);
                break;
            }
        }
        if failure.is_none() {
            if let Err(reason) = queue.run(classifier, true, opts.score_threshold, &mut stats, &mut found) {
                failure = Some(Error::Classifier { path: path.to_owned(), reason });
            }
        }
        if failure.is_none() && valid_pixels == 0 {
            failure = Some(Error::NoData {
                path: path.to_owned(),
                nodata: raster.info().bands.first().and_then(|b| b.nodata),
            });
        }
        // Leaving the scope drops the receiver, so blocked workers stop.
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let t = Instant::now();
    stats.above_threshold = found.len();
    let merged = suppress(found, opts.suppression_m / view_m);
    let detections = match view_gsd {
        None => merged,
        Some(_) => to_source_pixels(&view, &raster, merged),
    };
    stats.detections = detections.len();
    stats.seconds.merge = t.elapsed().as_secs_f64();
    stats.seconds.total = start.elapsed().as_secs_f64();
    Ok(RasterDetections { info: raster.info().clone(), detections, stats, notes })
}

/// Patches waiting for the classifier, run in batches of `size`.
struct Queue {
    batch: PatchBatch,
    pending: Vec<Candidate>,
    size: usize,
}

impl Queue {
    /// Classifies full batches (and the rest when `all`), keeping patches
    /// scoring at least `threshold`.
    fn run(
        &mut self,
        classifier: &mut dyn PatchClassifier,
        all: bool,
        threshold: f32,
        stats: &mut Stats,
        found: &mut Vec<Detection>,
    ) -> Result<(), String> {
        while self.pending.len() >= self.size || (all && !self.pending.is_empty()) {
            let n = self.pending.len().min(self.size);
            let rest_values = self.batch.data.split_off(n * self.batch.patch_len());
            let rest = self.pending.split_off(n);
            let full = PatchBatch {
                len: n,
                bands: self.batch.bands,
                patch: self.batch.patch,
                data: std::mem::replace(&mut self.batch.data, rest_values),
            };
            let t = Instant::now();
            let scores = classifier.scores(&full)?;
            stats.seconds.inference += t.elapsed().as_secs_f64();
            stats.classified += n;
            for (c, score) in self.pending.iter().zip(scores) {
                if score >= threshold {
                    found.push(Detection { centre: c.centre, footprint: PixelBox::from(c.footprint), score });
                }
            }
            self.pending = rest;
        }
        self.batch.len = self.pending.len();
        Ok(())
    }
}

/// Detections found in a resampled view, moved to the source's pixel grid
/// through map coordinates.
fn to_source_pixels(view: &Raster, source: &Raster, dets: Vec<Detection>) -> Vec<Detection> {
    let to_src = |p: PixelPoint| source.georef().map_to_pixel(view.georef().pixel_to_map(p));
    dets.into_iter()
        .map(|d| {
            let a = to_src(PixelPoint { x: d.footprint.x0, y: d.footprint.y0 });
            let b = to_src(PixelPoint { x: d.footprint.x1, y: d.footprint.y1 });
            Detection {
                centre: to_src(d.centre),
                footprint: PixelBox { x0: a.x.min(b.x), y0: a.y.min(b.y), x1: a.x.max(b.x), y1: a.y.max(b.y) },
                score: d.score,
            }
        })
        .collect()
}
