//! The explain stage as one call: for chosen detections, where the network's evidence
//! lay. Patch classifiers get Grad-CAM maps; heatmap networks the gradient
//! of each peak's score with respect to the pixels around it. Each raster
//! gets one GeoTIFF on its own grid (every explained detection's map, the
//! largest value where they overlap), each detection a PNG of its map over
//! the image, and the folder an `explain.json`.

use crate::detect::DetectProgress;
use crate::error::{chain, Error, Result};
use crate::outputs::{detections_in_pixels, outputs_of, read_run, PixelDetection};
use detection::formats::explain::{ExplainFile, Explained, EXPLAIN_VERSION};
use detection::options::Resampling;
use detection::{PixelPoint, PixelWindow};
use geo::{Contains, Coord, LineString, Polygon};
use models::DeviceChoice;
use models::TchClassifier;
use pipeline::map_raster::MapRaster;
use pipeline::overlay::overlay_png;
use pipeline::resample::ModelView;
use pipeline::Raster;
use std::path::{Path, PathBuf};

/// Side (pixels at the model's ground sample distance) of the window
/// around a heatmap peak whose pixels' influence on its score is measured:
/// wider than the objects the shipped models know (5-25 px) and than most
/// of what their receptive field reaches.
pub const CONTEXT_PX: usize = 96;

/// Detections explained per raster when no choice is given.
const DEFAULT_TOP: usize = 10;

/// What detect recorded that explain must repeat: the model, and how the
/// rasters were brought to its ground sample distance.
struct Recorded {
    model: Option<PathBuf>,
    declared: pipeline::raster::Declared,
    resampling: Resampling,
}

/// What an explanation is asked for.
#[derive(Debug, Clone)]
pub struct ExplainRequest {
    /// What detect wrote: its output folder, or one of its GeoJSON files.
    pub detections: PathBuf,
    /// Output folder (created if missing).
    pub out: PathBuf,
    /// The model that made the detections (`None`: the one run.json names,
    /// else the default).
    pub model: Option<PathBuf>,
    /// Only these detections: their positions among each raster's features.
    pub ids: Vec<usize>,
    /// Only detections scoring at least this.
    pub min_score: Option<f64>,
    /// Only detections scoring at most this.
    pub max_score: Option<f64>,
    /// The K highest-scoring detections of each raster.
    pub top: Option<usize>,
    /// The K lowest-scoring detections of each raster.
    pub bottom: Option<usize>,
    /// Every detection (after the filters).
    pub all: bool,
    /// Where the network runs.
    pub device: DeviceChoice,
}

/// What an explanation wrote.
pub struct Explanation {
    /// explain.json, as written.
    pub record: ExplainFile,
    /// Its path.
    pub file: PathBuf,
    /// Rasters explained.
    pub rasters: usize,
    /// Rasters that failed.
    pub failed: usize,
}

/// Explains the chosen detections of every raster, telling `progress`
/// (start, advance, errors, finish) how it goes.
pub fn explain(args: &ExplainRequest, progress: &mut dyn DetectProgress) -> Result<Explanation> {
    let inputs = outputs_of(&args.detections)?;
    if inputs.is_empty() {
        return Err(Error::Nothing(format!("{}: no detections to explain", args.detections.display())));
    }
    let recorded = match args.detections.is_dir().then(|| read_run(&args.detections)) {
        Some(Ok(run)) => Recorded {
            model: run.model.map(|m| m.path),
            declared: run.config.as_ref().map(|c| c.declared).unwrap_or_default(),
            resampling: run.config.map(|c| c.resampling).unwrap_or_default(),
        },
        _ => Recorded {
            model: None,
            declared: crate::outputs::declared_of(&args.detections)?,
            resampling: Resampling::default(),
        },
    };
    let model_path = crate::model_path(args.model.as_deref().or(recorded.model.as_deref()))?;
    let classifier = TchClassifier::load(&model_path, args.device)?;
    std::fs::create_dir_all(&args.out).map_err(|e| Error::File {
        path: args.out.clone(),
        reason: format!("cannot create the output folder (choose another --out): {e}"),
    })?;
    let heatmap = detection::classify::PatchClassifier::spec(&classifier).heatmap;
    let method = if heatmap {
        format!("score-gradient: |d score / d pixel| summed over bands, over {CONTEXT_PX} px around each peak")
    } else {
        format!("grad-cam: the deepest layer with at least {} cells across the patch", models::grad_cam::MIN_CELLS)
    };
    let mut explained = Vec::new();
    let mut failed = 0;
    progress.start(inputs.len());
    for (path, file) in &inputs {
        match explain_raster(args, &classifier, &recorded, path, file) {
            Ok(mut e) => explained.append(&mut e),
            Err(e) => {
                progress.error(&format!("{}: {}", path.display(), chain(&e)));
                failed += 1;
            }
        }
        progress.advance();
    }
    progress.finish();
    let record = ExplainFile { version: EXPLAIN_VERSION, model: model_path, method, explained };
    let json = args.out.join("explain.json");
    pipeline::export::write_atomic(&json, record.to_json().as_bytes())?;
    Ok(Explanation { record, file: json, rasters: inputs.len() - failed, failed })
}

/// The detections of one raster the arguments choose, best first.
fn choose(args: &ExplainRequest, mut found: Vec<PixelDetection>) -> Vec<PixelDetection> {
    found.retain(|d| {
        (args.ids.is_empty() || args.ids.contains(&d.index))
            && args.min_score.is_none_or(|m| d.feature.properties.score >= m)
            && args.max_score.is_none_or(|m| d.feature.properties.score <= m)
    });
    found.sort_by(|a, b| b.feature.properties.score.total_cmp(&a.feature.properties.score).then(a.index.cmp(&b.index)));
    match (args.top, args.bottom) {
        (_, Some(k)) => {
            let keep = found.len().saturating_sub(k);
            found.split_off(keep)
        }
        (Some(k), None) => found.into_iter().take(k).collect(),
        (None, None) if args.all || !args.ids.is_empty() => found,
        (None, None) => found.into_iter().take(DEFAULT_TOP).collect(),
    }
}

fn explain_raster(
    args: &ExplainRequest,
    classifier: &TchClassifier,
    recorded: &Recorded,
    path: &Path,
    file: &Path,
) -> Result<Vec<Explained>> {
    let source = Raster::open_declared(path, &recorded.declared)?;
    let chosen = choose(args, detections_in_pixels(&source, file)?);
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let spec = detection::classify::PatchClassifier::spec(classifier).clone();
    let view_of = ModelView::of(source.info(), spec.gsd_m);
    let view = Raster::open_declared(path, &recorded.declared)?.seen_as(view_of, recorded.resampling)?;
    let resampled = view_of.is_resampled();
    let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    let map_path = args.out.join(format!("{name}.explain.tif"));
    let png_dir = args.out.join(&name);
    std::fs::create_dir_all(&png_dir)
        .map_err(|e| Error::File { path: png_dir.clone(), reason: format!("cannot create the folder: {e}") })?;
    let mut map = MapRaster::create(&map_path, &source)?;
    let to_view = |p: PixelPoint| if resampled { source.georef().pixel_in(p, view.georef()) } else { p };
    let (vw, vh) = view.size();
    let side = if spec.heatmap { CONTEXT_PX } else { spec.patch };
    let mut out = Vec::new();
    for d in &chosen {
        let c = to_view(d.det.centre);
        // The window around the detection, inside the view.
        let (sw, sh) = (side.min(vw), side.min(vh));
        let x0 = ((c.x - sw as f64 / 2.0).round().max(0.0) as usize).min(vw - sw);
        let y0 = ((c.y - sh as f64 / 2.0).round().max(0.0) as usize).min(vh - sh);
        let window = PixelWindow::new(x0, y0, sw, sh);
        if !spec.heatmap && (sw < spec.patch || sh < spec.patch) {
            return Err(Error::Nothing(format!("smaller than the model's {0}x{0} patch", spec.patch)));
        }
        let data = view.read_window::<f32>(window, &spec.bands)?;
        let at = (
            ((c.x - x0 as f64).floor().max(0.0) as usize).min(sw - 1),
            ((c.y - y0 as f64).floor().max(0.0) as usize).min(sh - 1),
        );
        let values = classifier
            .classifier()
            .explain(&data.data, sh, sw, at)
            .map_err(|e| Error::Nothing(format!("explaining detection {}: {}", d.index, chain(&e))))?;
        let (src_window, src_values) =
            if resampled { on_source_grid(&source, &view, window, &values) } else { (window, values) };
        map.max_into(src_window, &src_values)?;
        let outline: Vec<PixelPoint> = match &d.det.outline {
            Some(o) => o.to_vec(),
            None => d.det.bbox.corners().to_vec(),
        };
        let inside = d.det.outline.as_ref().map(|_| mass_inside(src_window, &src_values, &outline));
        let png = png_dir.join(format!("{}.png", d.index));
        overlay_png(&source, src_window, &src_values, &outline, &png)?;
        out.push(Explained {
            source: path.to_owned(),
            id: d.index,
            score: d.feature.properties.score,
            score_sd: d.feature.properties.score_sd,
            window: [src_window.x, src_window.y, src_window.width, src_window.height],
            mass_inside: inside,
            map: map_path.clone(),
            png,
        });
    }
    map.finish()?;
    Ok(out)
}

/// A map computed on the model's view moved onto the source raster's grid
/// (nearest view pixel for each source pixel of the window's footprint).
fn on_source_grid(source: &Raster, view: &Raster, window: PixelWindow, values: &[f32]) -> (PixelWindow, Vec<f32>) {
    let corners = view.georef().window_corners(&window).map(|m| source.georef().map_to_pixel(m));
    let (w, h) = source.size();
    let x0 = corners.iter().map(|p| p.x).fold(f64::INFINITY, f64::min).floor().clamp(0.0, w as f64 - 1.0) as usize;
    let y0 = corners.iter().map(|p| p.y).fold(f64::INFINITY, f64::min).floor().clamp(0.0, h as f64 - 1.0) as usize;
    let x1 =
        corners.iter().map(|p| p.x).fold(f64::NEG_INFINITY, f64::max).ceil().clamp(x0 as f64 + 1.0, w as f64) as usize;
    let y1 =
        corners.iter().map(|p| p.y).fold(f64::NEG_INFINITY, f64::max).ceil().clamp(y0 as f64 + 1.0, h as f64) as usize;
    let src = PixelWindow::new(x0, y0, x1 - x0, y1 - y0);
    let to_view = |p: PixelPoint| source.georef().pixel_in(p, view.georef());
    let mut out = Vec::with_capacity(src.area());
    for y in y0..y1 {
        for x in x0..x1 {
            let v = to_view(PixelPoint { x: x as f64 + 0.5, y: y as f64 + 0.5 });
            let (vx, vy) = (v.x.floor() as i64 - window.x as i64, v.y.floor() as i64 - window.y as i64);
            let inside = (0..window.width as i64).contains(&vx) && (0..window.height as i64).contains(&vy);
            out.push(if inside { values[vy as usize * window.width + vx as usize] } else { 0.0 });
        }
    }
    (src, out)
}

/// The share of `values` (over `window`) whose pixel centres lie inside
/// `outline` (raster pixels); 0 for an empty map.
fn mass_inside(window: PixelWindow, values: &[f32], outline: &[PixelPoint]) -> f64 {
    let ring: Vec<Coord> = outline.iter().map(|p| Coord { x: p.x, y: p.y }).collect();
    let polygon = Polygon::new(LineString::new(ring), Vec::new());
    let (mut inside, mut total) = (0.0, 0.0);
    for (i, &v) in values.iter().enumerate() {
        let (x, y) = ((window.x + i % window.width) as f64 + 0.5, (window.y + i / window.width) as f64 + 0.5);
        total += v as f64;
        if polygon.contains(&Coord { x, y }) {
            inside += v as f64;
        }
    }
    if total > 0.0 {
        inside / total
    } else {
        0.0
    }
}
