//! Training patches cut from a raster around its labels, at the model's
//! ground sample distance: one positive centred on each object, negatives
//! away from every object, half anywhere and half near misses in a ring
//! around objects (they teach the network to score centres, not edges).

use crate::areas::{area_mask, map_polygon};
use crate::error::{Error, Result};
use crate::foreground::{foreground_map, Extent, BACKGROUND};
use crate::patches::extract;
use crate::raster::Raster;
use crate::resample::{ModelView, Resampling};
use detection::coords::{PixelBox, PixelPoint};
pub use detection::examples::{ChipObject, Chips, Patches};
use detection::objects::PixelLabel;
use detection::outline::RAYS;
use geo::Polygon;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::path::Path;

/// Views larger than this many pixels are refused for training: cut them
/// into tiles first (gdal_retile.py).
const MAX_TRAIN_PIXELS: usize = 64 << 20;

/// How patches are sampled.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// Bands, 1-based, in channel order.
    pub bands: Vec<usize>,
    /// Patch side in pixels.
    pub patch: usize,
    /// The model's ground sample distance, metres.
    pub gsd_m: f64,
    /// Negatives per positive.
    pub negatives_per_positive: f64,
    /// Negatives lie at least this far from every object, metres.
    pub negative_distance_m: f64,
    /// What the user stated about rasters that lack it.
    pub declared: crate::raster::Declared,
    /// Seed: the same seed cuts the same patches.
    pub seed: u64,
}

/// Around a labelled object outside every labelled area, this many pixels
/// (at the model's ground sample distance) are still learned: its centre
/// teaches what the object is, and nothing else there teaches background.
const KEEP_AROUND_LABEL_PX: f64 = 3.0;

/// What a raster's labels say: its objects and, when labelled areas were
/// given, where every object is labelled (both in the raster's pixels).
#[derive(Debug, Clone, Copy)]
pub struct Labelled<'a> {
    /// The labelled objects.
    pub objects: &'a [PixelLabel],
    /// The labelled areas over the raster; `None`: all of it is labelled.
    pub areas: Option<&'a [Polygon<f64>]>,
}

/// A raster as a model sees it (at its ground sample distance), read whole
/// with the labels' centres and extents moved to its pixels, and where it may learn
/// background: 1 inside the labelled areas (everywhere without them).
struct TrainingView {
    data: crate::raster::WindowData<f32>,
    centres: Vec<PixelPoint>,
    radii: Vec<Option<[f32; RAYS]>>,
    learn: Vec<u8>,
    /// Where the labels' objects lie (see [`crate::foreground`]).
    foreground: Vec<u8>,
}

/// Around a point label, this many metres are left unknown in the
/// foreground map: the object is there, its extent is not said.
const POINT_EXTENT_UNKNOWN_M: f64 = 5.0;

fn training_view(path: &Path, labelled: Labelled, s: &Sampling) -> Result<TrainingView> {
    let labels = labelled.objects;
    let raster = Raster::open_declared(path, &s.declared)?;
    raster.check_bands(&s.bands, "model")?;
    let seen = ModelView::of(raster.info(), Some(s.gsd_m));
    let resample = seen.is_resampled();
    let view = Raster::open_declared(path, &s.declared)?.seen_as(seen, Resampling::Average)?;
    let (w, h) = view.size();
    if w * h > MAX_TRAIN_PIXELS {
        return Err(Error::Grid(format!(
            "{}: {w}x{h} px is too large to train on whole; cut it with gdal_retile.py -ps 2048 2048",
            path.display()
        )));
    }
    let to_view = |p: PixelPoint| if resample { raster.georef().pixel_in(p, view.georef()) } else { p };
    let centres: Vec<PixelPoint> = labels.iter().map(|l| to_view(l.centre)).collect();
    // The view's pixels per raster pixel, for the labels' outlines.
    let scale = if resample {
        let (a, b) = (to_view(PixelPoint { x: 0.0, y: 0.0 }), to_view(PixelPoint { x: 1.0, y: 0.0 }));
        (b.x - a.x).hypot(b.y - a.y)
    } else {
        1.0
    };
    let radii = labels.iter().map(|l| l.outline.map(|o| o.radii.map(|r| (r as f64 * scale) as f32))).collect();
    let extents: Vec<Extent> = labels
        .iter()
        .zip(&centres)
        .map(|(l, &c)| match (&l.polygon, &l.bbox) {
            (Some(ring), _) => Extent::Polygon(ring.iter().map(|&p| to_view(p)).collect()),
            (None, Some(b)) => {
                let (a, z) = (to_view(PixelPoint { x: b.x0, y: b.y0 }), to_view(PixelPoint { x: b.x1, y: b.y1 }));
                Extent::Box(PixelBox { x0: a.x.min(z.x), y0: a.y.min(z.y), x1: a.x.max(z.x), y1: a.y.max(z.y) })
            }
            (None, None) => Extent::Point(c, POINT_EXTENT_UNKNOWN_M / s.gsd_m),
        })
        .collect();
    let foreground = foreground_map(&extents, w, h);
    let learn = match labelled.areas {
        None => vec![1; w * h],
        Some(areas) => {
            let areas: Vec<Polygon<f64>> = areas.iter().map(|a| map_polygon(a, to_view)).collect();
            let mut learn = area_mask(&areas, w, h);
            let r = KEEP_AROUND_LABEL_PX;
            for c in &centres {
                let (y0, y1) = ((c.y - r).floor().max(0.0) as usize, ((c.y + r).ceil().max(0.0) as usize).min(h));
                let (x0, x1) = ((c.x - r).floor().max(0.0) as usize, ((c.x + r).ceil().max(0.0) as usize).min(w));
                for y in y0..y1 {
                    for x in x0..x1 {
                        if (x as f64 + 0.5 - c.x).hypot(y as f64 + 0.5 - c.y) <= r {
                            learn[y * w + x] = 1;
                        }
                    }
                }
            }
            learn
        }
    };
    Ok(TrainingView { data: view.read_window::<f32>(view.full_window(), &s.bands)?, centres, radii, learn, foreground })
}

/// Where chips of `size` start along a side of `len` pixels: every `size`
/// pixels, the last moved back to end at the edge (one chip, padded, when
/// the side is shorter).
fn chip_starts(len: usize, size: usize) -> Vec<usize> {
    if len <= size {
        return vec![0];
    }
    let mut starts: Vec<usize> = (0..len - size).step_by(size).collect();
    starts.push(len - size);
    starts
}

/// Cuts one raster, at the model's ground sample distance, into chips of
/// `size` pixels covering it, each with the objects whose centres lie inside it.
/// `labels` are in the raster's own pixels.
pub fn chips(path: &Path, labelled: Labelled, s: &Sampling, size: usize) -> Result<Chips> {
    let TrainingView { data, centres, radii, learn, foreground } = training_view(path, labelled, s)?;
    let (w, h) = (data.window.width, data.window.height);
    let positions: Vec<usize> = (0..s.bands.len()).collect();
    let mut out = Chips { bands: s.bands.len(), size, ..Chips::default() };
    for &y0 in &chip_starts(h, size) {
        for &x0 in &chip_starts(w, size) {
            extract(&data, &positions, x0 as isize, y0 as isize, size, size, &mut out.data);
            for y in y0..y0 + size {
                for x in x0..x0 + size {
                    out.valid.push(u8::from(x < w && y < h && data.valid[y * w + x] && learn[y * w + x] == 1));
                    out.foreground.push(if x < w && y < h { foreground[y * w + x] } else { BACKGROUND });
                }
            }
            let inside = |c: &&PixelPoint| {
                c.x >= x0 as f64 && c.y >= y0 as f64 && c.x < (x0 + size) as f64 && c.y < (y0 + size) as f64
            };
            out.objects.push(
                centres
                    .iter()
                    .zip(&radii)
                    .filter(|(c, _)| inside(c))
                    .map(|(c, &radii)| ChipObject {
                        centre: PixelPoint { x: c.x - x0 as f64, y: c.y - y0 as f64 },
                        radii,
                    })
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// Cuts the patches of one raster. `labels` are in the raster's own pixels.
pub fn sample(path: &Path, labelled: Labelled, s: &Sampling, index: u64) -> Result<Patches> {
    let TrainingView { data, centres, learn, .. } = training_view(path, labelled, s)?;
    let (w, h) = (data.window.width, data.window.height);
    let positions: Vec<usize> = (0..s.bands.len()).collect();
    let half = s.patch as f64 / 2.0;
    let mut out = Patches { bands: s.bands.len(), patch: s.patch, ..Patches::default() };
    let cut = |c: PixelPoint, class: u8, out: &mut Patches| {
        let (x0, y0) = ((c.x - half).round() as isize, (c.y - half).round() as isize);
        extract(&data, &positions, x0, y0, s.patch, s.patch, &mut out.data);
        out.labels.push(class);
    };
    for c in &centres {
        cut(*c, 1, &mut out);
    }
    let min_d = s.negative_distance_m / s.gsd_m;
    let far = |p: &PixelPoint| centres.iter().all(|c| (c.x - p.x).hypot(c.y - p.y) >= min_d);
    let wanted =
        if centres.is_empty() { 16 } else { (centres.len() as f64 * s.negatives_per_positive).round() as usize };
    let mut rng = StdRng::seed_from_u64(s.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut made = 0;
    for attempt in 0..wanted * 50 {
        if made == wanted {
            break;
        }
        let p = if attempt % 2 == 0 || centres.is_empty() {
            PixelPoint { x: rng.random_range(0.0..w as f64), y: rng.random_range(0.0..h as f64) }
        } else {
            let c = centres[rng.random_range(0..centres.len())];
            let (r, a) = (rng.random_range(min_d..2.0 * min_d), rng.random_range(0.0..std::f64::consts::TAU));
            PixelPoint { x: c.x + r * a.cos(), y: c.y + r * a.sin() }
        };
        let learnt = |p: &PixelPoint| learn[p.y as usize * w + p.x as usize] == 1;
        if p.x >= 0.0 && p.y >= 0.0 && p.x < w as f64 && p.y < h as f64 && far(&p) && learnt(&p) {
            cut(p, 0, &mut out);
            made += 1;
        }
    }
    Ok(out)
}
