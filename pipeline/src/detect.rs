//! The detection stream for one raster: tiles are read and turned into
//! candidate patches in parallel (one GDAL dataset per rayon worker), patches
//! reach the classifier in batches on the calling thread (libtorch tensors
//! are not `Sync`), and detections are merged once over the whole raster.
//! Each candidate source is one `CandidateMode` (`candidates/modes.rs`),
//! chosen in its `mode_for`.

use crate::candidates::modes::{mode_for, CandidateMode, DenseTile};
use crate::candidates::Candidate;
use crate::error::{Error, Result};
use crate::grid::{Grid, Tile};
use crate::patches::extract;
use crate::raster::{Raster, RasterInfo, WindowData};
use crate::resample::Resampling;
use detection::classify::{ClassifyError, DenseScores, ObjectMaps, PatchBatch, PatchClassifier, PatchSpec};
use detection::coords::{PixelBox, PixelPoint};
use detection::objects::{Detection, ScoredPoint};
use detection::outline::{outline, Bands, Outline, MAX_OUTLINE_RADIUS_M, RAYS};
use detection::overlap::clipped;
use detection::ring::Ring;
use detection::suppress::suppress;
use detection::watershed::{region_outlines, Map, FOREGROUND_THRESHOLD, OUTLINE_TOLERANCE_PX};
use rayon::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::time::Instant;

pub use detection::formats::run::{Stats, Timings};
pub use detection::options::{CandidateSource, DetectOptions, Preprocess, Sliding};

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

/// Work on its way to the classifier.
pub(crate) enum Msg {
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

/// What every worker shares: how to open the view, which bands to read,
/// and the shape of what the classifier takes.
pub(crate) struct Plan<'a> {
    pub(crate) path: &'a Path,
    pub(crate) view: ModelViewOf,
    pub(crate) read_bands: Vec<usize>,
    /// Where the model's bands lie among the bands read.
    pub(crate) model_pos: Vec<usize>,
    pub(crate) patch: usize,
    pub(crate) heatmap: bool,
    pub(crate) batch: usize,
    /// The view's size, pixels.
    pub(crate) size: (usize, usize),
}

/// How workers open the view: the raster seen as the model sees it.
#[derive(Clone, Copy)]
pub(crate) struct ModelViewOf {
    view: crate::resample::ModelView,
    resampling: Resampling,
    declared: crate::raster::Declared,
}

impl Plan<'_> {
    fn open_view(&self) -> Result<Raster> {
        Raster::open_declared(self.path, &self.view.declared)?.seen_as(self.view.view, self.view.resampling)
    }

    /// Where each of `bands` lies among the bands read.
    pub(crate) fn positions(&self, bands: &[usize]) -> Vec<usize> {
        bands.iter().map(|b| self.read_bands.iter().position(|r| r == b).expect("read")).collect()
    }

    /// Cuts a patch of the model's size for each candidate, square `square`
    /// of the tile, and sends them in batches.
    pub(crate) fn send_patches(
        &self,
        data: &WindowData<f32>,
        cands: Vec<Candidate>,
        square: impl Fn(&Candidate) -> (isize, isize, usize),
        tx: &SyncSender<Msg>,
    ) -> Option<f64> {
        let mut sent = 0.0;
        for chunk in cands.chunks(self.batch) {
            let mut values = Vec::with_capacity(chunk.len() * self.model_pos.len() * self.patch * self.patch);
            for c in chunk {
                let (x, y, side) = square(c);
                extract(data, &self.model_pos, x, y, side, self.patch, &mut values);
            }
            let t = Instant::now();
            if tx.send(Msg::Patches(chunk.to_vec(), values)).is_err() {
                return None;
            }
            sent += t.elapsed().as_secs_f64();
        }
        Some(sent)
    }
}

/// Metres per pixel of the view, as the model sees it.
pub(crate) fn view_metres(view: &Raster, spec: &PatchSpec) -> f64 {
    view.info().metres_per_pixel().or(spec.gsd_m).unwrap_or(1.0)
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
    let declared = opts.declared;
    let raster = Raster::open_declared(path, &declared)?;
    raster.check_bands(&spec.bands, "model")?;
    if let Some(expected) = &spec.data_type {
        let found = &raster.info().bands[spec.bands[0] - 1].data_type;
        if found != expected {
            return Err(Error::DataType { path: path.to_owned(), found: found.clone(), expected: expected.clone() });
        }
    }
    // An unknown ground sample distance is one of the applicability
    // warnings, given before the run.
    let mut notes = Vec::new();
    let model_view = crate::resample::ModelView::of(raster.info(), spec.gsd_m);
    let view = Raster::open_declared(path, &declared)?.seen_as(model_view, opts.resampling)?;
    let mode = mode_for(opts, &spec, &raster, &view, &mut notes)?;
    let mut read_bands = spec.bands.clone();
    for b in mode.extra_bands() {
        if !read_bands.contains(b) {
            read_bands.push(*b);
        }
    }
    let position = |b: &usize| read_bands.iter().position(|r| r == b).expect("read");
    let model_pos = spec.bands.iter().map(position).collect();
    let plan = Plan {
        path,
        view: ModelViewOf { view: model_view, resampling: opts.resampling, declared },
        model_pos,
        read_bands,
        patch: spec.patch,
        heatmap: spec.heatmap,
        batch: opts.batch.max(1),
        size: view.size(),
    };
    let (w, h) = plan.size;
    let view_m = view_metres(&view, &spec);
    let grid = Grid::new(w, h, mode.tile_side(opts.tile), mode.overlap())?;
    let total_tiles = grid.len();

    let mut stats = Stats { tiles: total_tiles, ..Stats::default() };
    let mut found = Vec::new();
    let cancel = AtomicBool::new(false);
    let mut failure: Option<Error> = None;
    let classifier_failed = |error: ClassifyError| Error::Classifier { path: path.to_owned(), error };
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<Msg>(4);
        let plan = &plan;
        let mode = &*mode;
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
                        Ok(v) => read_tile(plan, mode, v, &tile, &tx),
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
                        .map_err(classifier_failed)
                }
                Msg::Tile(tile) => {
                    let t = Instant::now();
                    // A heatmap network locates centres, not extents: its
                    // detections span the suppression distance, the closest
                    // two objects may be.
                    let half = if spec.heatmap { opts.suppression_m / view_m / 2.0 } else { spec.patch as f64 / 2.0 };
                    classifier
                        .dense_scores(&tile.values, tile.height, tile.width, tile.step)
                        .map_err(classifier_failed)
                        .map(|DenseScores { points, maps }| {
                            stats.seconds.inference += t.elapsed().as_secs_f64();
                            // A heatmap network scores every pixel, and reports peaks.
                            stats.classified += if spec.heatmap { tile.height * tile.width } else { points.len() };
                            let kept: Vec<ScoredPoint> = points
                                .into_iter()
                                .filter(|p| p.score >= opts.score_threshold && tile.valid_at(p.at.x, p.at.y))
                                .collect();
                            // Heatmap networks locate centres: each object's
                            // outline is traced in the tile's imagery, up to
                            // halfway to the objects that survive suppression.
                            let neighbours: Vec<PixelPoint> = if spec.heatmap {
                                let peaks = kept.iter().map(|p| Detection::at(p.at, p.score)).collect();
                                suppress(peaks, opts.suppression_m / view_m).iter().map(|d| d.centre).collect()
                            } else {
                                Vec::new()
                            };
                            // With a foreground head, each surviving peak's
                            // region of the foreground map, parted from its
                            // neighbours' along the score map's valleys.
                            let regions = maps.as_ref().map(|m| foreground_regions(m, &neighbours)).unwrap_or_default();
                            let image = Bands {
                                values: &tile.values,
                                bands: spec.bands.len(),
                                width: tile.width,
                                height: tile.height,
                            };
                            for p in &kept {
                                let (x, y) = (p.at.x, p.at.y);
                                let centre = PixelPoint { x: tile.origin.0 + x, y: tile.origin.1 + y };
                                if !tile.core.contains_point(centre) {
                                    continue;
                                }
                                let mut d = Detection::at(centre, p.score);
                                d.uncertainty = p.uncertainty;
                                d.footprint = PixelBox {
                                    x0: (centre.x - half).max(0.0),
                                    y0: (centre.y - half).max(0.0),
                                    x1: (centre.x + half).min(w as f64),
                                    y1: (centre.y + half).min(h as f64),
                                };
                                if spec.heatmap {
                                    let others: Vec<PixelPoint> =
                                        neighbours.iter().copied().filter(|n| (n.x - x).hypot(n.y - y) > 0.5).collect();
                                    let max_radius = MAX_OUTLINE_RADIUS_M / view_m;
                                    // A network with a foreground head measured
                                    // each object's region; one that learned
                                    // extents from box or polygon labels knows
                                    // each object's size; one trained on points
                                    // leaves it to the imagery.
                                    let region = neighbours
                                        .iter()
                                        .position(|n| *n == p.at)
                                        .and_then(|k| regions.get(k).cloned().flatten());
                                    let star = |radii: [f32; RAYS], scale: f64| Outline {
                                        centre: p.at,
                                        radii: radii.map(|r| (r as f64 * scale).clamp(0.5, max_radius) as f32),
                                    };
                                    let o: Ring = match (region, p.radii) {
                                        // A region reaching far past the size the
                                        // network learned for the object (a closed
                                        // canopy's foreground runs on to the
                                        // neighbours) is cut back to that size.
                                        (Some(region), Some(radii)) => {
                                            let reach = Ring::from(star(radii, REGION_REACH));
                                            clipped(region.vertices(), reach.vertices())
                                                .map(Ring::new)
                                                .unwrap_or(region)
                                        }
                                        (Some(region), None) => region,
                                        (None, Some(radii)) => star(radii, 1.0).into(),
                                        (None, None) => outline(&image, p.at, &others, max_radius).into(),
                                    };
                                    let o = o.moved(|q| PixelPoint { x: tile.origin.0 + q.x, y: tile.origin.1 + q.y });
                                    let b = o.bbox();
                                    d.footprint = PixelBox {
                                        x0: b.x0.max(0.0),
                                        y0: b.y0.max(0.0),
                                        x1: b.x1.min(w as f64),
                                        y1: b.y1.min(h as f64),
                                    };
                                    d.outline = Some(o);
                                }
                                found.push(d);
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
            if let Err(error) = queue.run(classifier, true, opts.score_threshold, &mut stats, &mut found) {
                failure = Some(classifier_failed(error));
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
    let detections = if model_view.is_resampled() { to_source_pixels(&view, &raster, merged) } else { merged };
    stats.detections = detections.len();
    stats.seconds.merge = t.elapsed().as_secs_f64();
    stats.seconds.total = start.elapsed().as_secs_f64();
    Ok(RasterDetections { info: raster.info().clone(), detections, stats, notes })
}

/// Reads one tile of the view and hands it to the mode; reports the
/// seconds spent reading and cutting.
fn read_tile(plan: &Plan, mode: &dyn CandidateMode, view: &Raster, tile: &Tile, tx: &SyncSender<Msg>) -> Result<()> {
    let t0 = Instant::now();
    let data = view.read_window::<f32>(tile.window, &plan.read_bands)?;
    let read = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let valid = data.valid_count();
    if let Some(waited) = mode.send(plan, &data, tile, tx) {
        let candidates = t1.elapsed().as_secs_f64() - waited;
        let _ = tx.send(Msg::TileDone { read, candidates, valid });
    }
    Ok(())
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
    ) -> Result<(), ClassifyError> {
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
            let scores = classifier.scores_with_spread(&full)?;
            stats.seconds.inference += t.elapsed().as_secs_f64();
            stats.classified += n;
            for (c, (score, spread)) in self.pending.iter().zip(scores) {
                if score >= threshold {
                    found.push(Detection {
                        centre: c.centre,
                        footprint: PixelBox::from(c.footprint),
                        score,
                        outline: c.outline.map(Ring::from),
                        uncertainty: spread,
                    });
                }
            }
            self.pending = rest;
        }
        self.batch.len = self.pending.len();
        Ok(())
    }
}

/// How far past the size its extent head learned (along each ray) an
/// object's foreground region may reach.
const REGION_REACH: f64 = 1.2;

/// Each seed's region of a tile's foreground map (see
/// [`detection::watershed`]), as a ring in the tile's pixels; `None` for a
/// seed on background.
fn foreground_regions(maps: &ObjectMaps, seeds: &[PixelPoint]) -> Vec<Option<Ring>> {
    let map = |values| Map { values, width: maps.width, height: maps.height };
    region_outlines(map(&maps.foreground), map(&maps.scores), seeds, FOREGROUND_THRESHOLD, OUTLINE_TOLERANCE_PX)
        .into_iter()
        .map(|r| r.map(Ring::new))
        .collect()
}

/// Detections found in a resampled view, moved to the source's pixel grid
/// through map coordinates.
fn to_source_pixels(view: &Raster, source: &Raster, dets: Vec<Detection>) -> Vec<Detection> {
    let to_src = |p: PixelPoint| view.georef().pixel_in(p, source.georef());
    dets.into_iter()
        .map(|d| {
            let a = to_src(PixelPoint { x: d.footprint.x0, y: d.footprint.y0 });
            let b = to_src(PixelPoint { x: d.footprint.x1, y: d.footprint.y1 });
            let c = to_src(d.centre);
            Detection {
                centre: c,
                footprint: PixelBox { x0: a.x.min(b.x), y0: a.y.min(b.y), x1: a.x.max(b.x), y1: a.y.max(b.y) },
                score: d.score,
                outline: d.outline.map(|o| o.moved(to_src)),
                uncertainty: d.uncertainty,
            }
        })
        .collect()
}
