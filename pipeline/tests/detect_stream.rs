//! The detection stream on the synthetic shrub scene, whose shrubs are known
//! exactly, with a stand-in classifier: the darker a patch's centre, the
//! higher its score.

use detection::classify::{PatchBatch, PatchClassifier, PatchSpec};
use detection::objects::Detection;
use pipeline::candidates::sliding::EdgePolicy;
use pipeline::candidates::threshold::{Threshold, ThresholdMethod};
use pipeline::detect::{detect_raster, CandidateSource, DetectOptions, Preprocess, Sliding};
use pipeline::synthetic::{shrubs, SceneSpec, Shrub};
use pipeline::Resampling;
use std::path::{Path, PathBuf};

struct DarkCentre {
    spec: PatchSpec,
}

impl DarkCentre {
    fn new(patch: usize, gsd_m: Option<f64>) -> Self {
        DarkCentre {
            spec: PatchSpec {
                bands: vec![1, 2, 3],
                patch,
                gsd_m,
                classes: vec!["soil".into(), "shrub".into()],
                positive: 1,
                score_threshold: 0.5,
                suppression_m: 3.0,
                dense_stride: None,
                heatmap: false,
                data_type: None,
                training_stats: None,
                learned_gsd_m: None,
                halo: None,
                tile: None,
            },
        }
    }
}

impl PatchClassifier for DarkCentre {
    fn spec(&self) -> &PatchSpec {
        &self.spec
    }
    fn scores(&mut self, batch: &PatchBatch) -> Result<Vec<f32>, detection::ClassifyError> {
        let p = batch.patch;
        Ok((0..batch.len)
            .map(|i| {
                let red = &batch.get(i)[..p * p];
                let c = p / 2;
                let mean =
                    [(c - 1, c - 1), (c, c - 1), (c - 1, c), (c, c)].iter().map(|&(x, y)| red[y * p + x]).sum::<f32>()
                        / 4.0;
                1.0 - mean / 255.0
            })
            .collect())
    }
    fn describe(&self) -> String {
        "dark centre".into()
    }
}

fn scene() -> (PathBuf, Vec<Shrub>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    (root.join("sample_tiles/synthetic/shrubs_512.tif"), shrubs(&SceneSpec::default()))
}

fn preprocess() -> CandidateSource {
    CandidateSource::Preprocess(Preprocess {
        bands: vec![1, 2, 3],
        weights: vec![0.299, 0.587, 0.114],
        threshold: Threshold::Fixed(100.0),
        darker: true,
        open_radius: 1,
        min_area_m2: 2.0,
        max_area_m2: 400.0,
    })
}

fn options(source: CandidateSource, tile: usize) -> DetectOptions {
    DetectOptions {
        source,
        tile,
        batch: 16,
        score_threshold: 0.5,
        suppression_m: 3.0,
        declared: Default::default(),
        resampling: Resampling::Average,
        halo: None,
    }
}

fn run(path: &Path, c: &mut DarkCentre, o: &DetectOptions) -> Vec<Detection> {
    detect_raster(path, c, o, &mut |_, _| {}).unwrap().detections
}

/// Each shrub matched by exactly one detection within `tol` pixels.
fn assert_one_per_shrub(dets: &[Detection], truth: &[Shrub], tol: f64) {
    assert_eq!(dets.len(), truth.len(), "detections vs shrubs");
    for s in truth {
        let near = dets.iter().filter(|d| (d.centre.x - s.x).hypot(d.centre.y - s.y) <= tol).count();
        assert_eq!(near, 1, "shrub at {:.1},{:.1}", s.x, s.y);
    }
}

#[test]
fn preprocessing_finds_every_shrub_once_whatever_the_tiling() {
    let (path, truth) = scene();
    let mut c = DarkCentre::new(16, Some(0.5));
    let whole = run(&path, &mut c, &options(preprocess(), 1024));
    assert_one_per_shrub(&whole, &truth, 1.0);
    // Tiles of 100 px cut many crowns; owners see them whole.
    for tile in [100, 137, 256] {
        assert_eq!(run(&path, &mut c, &options(preprocess(), tile)), whole, "tile {tile}");
    }
}

#[test]
fn otsu_threshold_finds_the_same_shrubs() {
    let (path, truth) = scene();
    let mut c = DarkCentre::new(16, Some(0.5));
    let mut source = preprocess();
    if let CandidateSource::Preprocess(p) = &mut source {
        p.threshold = Threshold::Method(ThresholdMethod::Otsu);
    }
    let r = detect_raster(&path, &mut c, &options(source, 512), &mut |_, _| {}).unwrap();
    assert!(r.notes.iter().any(|n| n.starts_with("Otsu threshold")), "{:?}", r.notes);
    assert_one_per_shrub(&r.detections, &truth, 1.0);
}

#[test]
fn sliding_windows_merge_across_tile_borders() {
    let (path, truth) = scene();
    let mut c = DarkCentre::new(16, Some(0.5));
    let sliding = CandidateSource::Sliding(Sliding { size: 16, stride: 2, edge: EdgePolicy::Cover });
    let whole = run(&path, &mut c, &options(sliding.clone(), 1024));
    let tiled = run(&path, &mut c, &options(sliding, 96));
    assert_eq!(tiled, whole);
    // Wide crowns hold several dark window centres further apart than the
    // suppression distance; each detection lies on a crown, and every crown
    // has one.
    for d in &whole {
        assert!(truth.iter().any(|s| (d.centre.x - s.x).hypot(d.centre.y - s.y) <= s.radius + 1.0), "{d:?}");
    }
    for s in &truth {
        assert!(whole.iter().any(|d| (d.centre.x - s.x).hypot(d.centre.y - s.y) <= 1.5), "{s:?}");
    }
}

#[test]
fn a_coarser_model_sees_a_resampled_raster_but_reports_source_pixels() {
    let (path, truth) = scene();
    // A model at 1.0 m: the 0.5 m scene is read at half size.
    let mut c = DarkCentre::new(8, Some(1.0));
    let mut source = preprocess();
    if let CandidateSource::Preprocess(p) = &mut source {
        p.open_radius = 0;
    }
    let r = detect_raster(&path, &mut c, &options(source, 200), &mut |_, _| {}).unwrap();
    assert_eq!(r.info.width, 512);
    // Centres come back in the 512 px grid, within a coarse pixel.
    assert_one_per_shrub(&r.detections, &truth, 2.0);
}

#[test]
fn a_model_needing_more_bands_is_refused() {
    let (path, _) = scene();
    let mut c = DarkCentre::new(16, Some(0.5));
    c.spec.bands = vec![1, 2, 3, 4];
    let e = detect_raster(&path, &mut c, &options(preprocess(), 512), &mut |_, _| {}).unwrap_err().to_string();
    assert!(e.contains("has 3 band(s) but the model reads bands [1, 2, 3, 4]"), "{e}");
}
