//! The candidate modes: how a tile becomes work for the classifier. Each is
//! one `CandidateMode`: the blobs of a thresholded panchromatic band
//! (Guirado et al. 2017's preprocessing), every window of a grid, or every
//! position at once (dense scoring); `mode_for` is the one place candidate
//! sources are told apart. A new mode is a type here, its arm in
//! `mode_for`, and its `CandidateSource` in `detection::options`.

use crate::candidates::components::{blobs, BlobFilter};
use crate::candidates::panchromatic::panchromatic;
use crate::candidates::sliding::SlidingGrid;
use crate::candidates::threshold::{mask, otsu, Threshold};
use crate::candidates::Candidate;
use crate::detect::{Msg, Plan};
use crate::error::{Error, Result};
use crate::grid::Tile;
use crate::patches::centred_square;
use crate::raster::{Raster, WindowData};
use detection::classify::{ClassifyError, PatchSpec};
use detection::coords::PixelWindow;
use detection::options::{CandidateSource, DetectOptions};
use std::sync::mpsc::SyncSender;

/// A padded tile for dense scoring.
pub(crate) struct DenseTile {
    /// The model's bands, channels first.
    pub(crate) values: Vec<f32>,
    pub(crate) height: usize,
    pub(crate) width: usize,
    /// Lattice step of the windows scored.
    pub(crate) step: usize,
    /// Where its top-left corner lies on the raster, pixels.
    pub(crate) origin: (f64, f64),
    /// The pixels it owns.
    pub(crate) core: PixelWindow,
    /// Which of its pixels hold data (padding and nodata do not).
    pub(crate) valid: Vec<bool>,
}

impl DenseTile {
    /// Whether the pixel under a point of the tile holds data.
    pub(crate) fn valid_at(&self, x: f64, y: f64) -> bool {
        let (col, row) = (x.floor(), y.floor());
        col >= 0.0
            && row >= 0.0
            && (col as usize) < self.width
            && (row as usize) < self.height
            && self.valid[row as usize * self.width + col as usize]
    }
}

/// One way of choosing what to score in a tile: blobs of a thresholded
/// panchromatic band, every window of a grid, or every position at once.
pub(crate) trait CandidateMode: Sync {
    /// Bands it reads besides the model's, 1-based.
    fn extra_bands(&self) -> &[usize] {
        &[]
    }

    /// How far tiles overlap, pixels of the view, so every candidate a
    /// tile's core owns sees all its context.
    fn overlap(&self) -> usize;

    /// The tile core side it runs with, for the side asked for.
    fn tile_side(&self, asked: usize) -> usize {
        asked
    }

    /// Turns one tile's pixels into work sent on `tx`; returns the seconds
    /// spent waiting for the classifier to take it, or `None` when it no
    /// longer listens.
    fn send(&self, plan: &Plan, data: &WindowData<f32>, tile: &Tile, tx: &SyncSender<Msg>) -> Option<f64>;
}

/// Guirado et al. 2017's preprocessing: the blobs of a thresholded
/// panchromatic band, each classified on a patch centred on it.
struct PreprocessMode {
    bands: Vec<usize>,
    weights: Vec<f32>,
    darker: bool,
    cut: f32,
    filter: BlobFilter,
    overlap: usize,
}

impl CandidateMode for PreprocessMode {
    fn extra_bands(&self) -> &[usize] {
        &self.bands
    }

    fn overlap(&self) -> usize {
        self.overlap
    }

    fn send(&self, plan: &Plan, data: &WindowData<f32>, tile: &Tile, tx: &SyncSender<Msg>) -> Option<f64> {
        let pan_pos = plan.positions(&self.bands);
        let pan_data = WindowData {
            window: data.window,
            bands: pan_pos.iter().map(|&i| data.bands[i]).collect(),
            data: pan_pos.iter().flat_map(|&i| data.band(i).iter().copied()).collect(),
            valid: data.valid.clone(),
        };
        let pan = panchromatic(&pan_data, &self.weights);
        let m = mask(&pan, &data.valid, data.window.width, data.window.height, self.cut, self.darker);
        let cands = blobs(&m, data.window, tile.core, plan.size, &self.filter);
        let square = |c: &Candidate| {
            let (x, y) = centred_square(c.centre, plan.patch, plan.size);
            (x, y, plan.patch)
        };
        plan.send_patches(data, cands, square, tx)
    }
}

/// Every window of a grid, each resized to the model's patch.
struct SlidingMode {
    grid: SlidingGrid,
    size: usize,
}

impl CandidateMode for SlidingMode {
    fn overlap(&self) -> usize {
        self.size
    }

    fn send(&self, plan: &Plan, data: &WindowData<f32>, tile: &Tile, tx: &SyncSender<Msg>) -> Option<f64> {
        // Windows centred on nodata are not scored.
        let w = &data.window;
        let mut windows = self.grid.in_core(tile.core);
        windows.retain(|c| {
            let (x, y) = (c.centre.x.floor() - w.x as f64, c.centre.y.floor() - w.y as f64);
            x < 0.0
                || y < 0.0
                || x >= w.width as f64
                || y >= w.height as f64
                || data.valid[y as usize * w.width + x as usize]
        });
        let square = |c: &Candidate| (c.footprint.x as isize, c.footprint.y as isize, c.footprint.width);
        plan.send_patches(data, windows, square, tx)
    }
}

/// Every window on a lattice (every pixel, for a heatmap network), scored
/// at once per tile by a classifier that runs convolutionally.
struct DenseMode {
    step: usize,
    /// The trunk's stride: tiles and overlaps on its multiples keep every
    /// tile's lattice on one global lattice.
    stride: usize,
    /// The halo, a multiple of the stride.
    overlap: usize,
}

impl DenseMode {
    /// The model's bands of a tile, with zeros added where the tile meets
    /// the raster's edge (as training patches are padded), so windows
    /// centred on edge pixels can be scored. Heatmap networks score edge
    /// pixels as they were trained to, without padding.
    fn padded(&self, plan: &Plan, data: &WindowData<f32>, core: PixelWindow) -> DenseTile {
        let model_pos = &plan.model_pos;
        let step = self.step;
        let w = &data.window;
        let pad = if plan.heatmap { 0 } else { (plan.patch / 2).div_ceil(step) * step };
        let left = if w.x == 0 { pad } else { 0 };
        let top = if w.y == 0 { pad } else { 0 };
        let right = if w.x_end() == plan.size.0 { pad } else { 0 };
        let bottom = if w.y_end() == plan.size.1 { pad } else { 0 };
        let (pw, ph) = (w.width + left + right, w.height + top + bottom);
        let mut out = vec![0f32; model_pos.len() * pw * ph];
        for (o, &b) in model_pos.iter().enumerate() {
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
            step,
            origin: (w.x as f64 - left as f64, w.y as f64 - top as f64),
            core,
            valid,
        }
    }
}

impl CandidateMode for DenseMode {
    fn overlap(&self) -> usize {
        self.overlap
    }

    fn tile_side(&self, asked: usize) -> usize {
        asked.div_ceil(self.stride) * self.stride
    }

    fn send(&self, plan: &Plan, data: &WindowData<f32>, tile: &Tile, tx: &SyncSender<Msg>) -> Option<f64> {
        tx.send(Msg::Tile(self.padded(plan, data, tile.core))).ok().map(|_| 0.0)
    }
}

/// The candidate mode of `opts.source` for one raster (`raster`, seen by
/// the model as `view`): the one place candidate sources are told apart.
pub(crate) fn mode_for(
    opts: &DetectOptions,
    spec: &PatchSpec,
    raster: &Raster,
    view: &Raster,
    notes: &mut Vec<String>,
) -> Result<Box<dyn CandidateMode>> {
    let path = raster.path();
    Ok(match &opts.source {
        CandidateSource::Dense { step } => {
            let stride = spec
                .dense_stride
                .ok_or_else(|| Error::Classifier { path: path.to_owned(), error: ClassifyError::NoDenseForm })?;
            if stride % step != 0 {
                return Err(Error::Grid(format!("dense step {step} must divide the model's stride {stride}")));
            }
            let halo = opts.halo.unwrap_or(spec.patch).max(1);
            Box::new(DenseMode { step: *step, stride, overlap: halo.div_ceil(stride) * stride })
        }
        CandidateSource::Sliding(s) => {
            let (w, h) = view.size();
            Box::new(SlidingMode { grid: SlidingGrid::new(w, h, s.size, s.stride, s.edge), size: s.size })
        }
        CandidateSource::Preprocess(p) => {
            raster.check_bands(&p.bands, "panchromatic conversion")?;
            // Metres per pixel of the view, as the model sees it.
            let view_m = crate::detect::view_metres(view, spec);
            let cut = match p.threshold {
                Threshold::Fixed(v) => v,
                Threshold::Method(_) => {
                    let over = view.read_overview(&p.bands, 1024)?;
                    let pan = panchromatic(&over, &p.weights);
                    let (lo, hi) = pan.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
                    let cut = otsu(&pan, lo, hi);
                    notes.push(format!("Otsu threshold {cut:.1}"));
                    cut
                }
            };
            // The largest blob kept, as a square, fits in the overlap.
            let blob_px = (p.max_area_m2 / (view_m * view_m)).sqrt().ceil() as usize;
            Box::new(PreprocessMode {
                bands: p.bands.clone(),
                weights: p.weights.clone(),
                darker: p.darker,
                cut,
                filter: BlobFilter {
                    open_radius: p.open_radius,
                    min_area_m2: p.min_area_m2,
                    max_area_m2: p.max_area_m2,
                    pixel_area_m2: view_m * view_m,
                },
                overlap: spec.patch.max(blob_px) + 2,
            })
        }
    })
}
