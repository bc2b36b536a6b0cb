//! Chips carry where the labels' objects lie, pixel by pixel: a polygon
//! label exactly, at the model's ground sample distance.

use pipeline::dataset::{chips, Labelled, Sampling};
use pipeline::foreground::{OBJECT, UNKNOWN};
use pipeline::labels::{labels_in_raster, read_labels};
use pipeline::Raster;
use std::path::{Path, PathBuf};

fn scene() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample_tiles/synthetic/shrubs_512.tif")
}

fn sampling(gsd_m: f64) -> Sampling {
    Sampling {
        bands: vec![1, 2, 3],
        patch: 32,
        gsd_m,
        negatives_per_positive: 2.0,
        negative_distance_m: 4.0,
        declared: Default::default(),
        seed: 1,
    }
}

#[test]
fn a_polygon_label_marks_its_pixels_and_a_point_label_an_unknown_disc() {
    let dir = tempfile::tempdir().unwrap();
    // An L (an 8 m square, 16 px of 0.5 m, from column 100, row 40, less its
    // top-right quarter; a plain rectangle would be read as a box), and a
    // point at column 300, row 300.
    let path = dir.path().join("labels.geojson");
    std::fs::write(
        &path,
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32630"}},
"features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[580050,4079980],[580054,4079980],[580054,4079976],[580058,4079976],[580058,4079972],[580050,4079972],[580050,4079980]]]}},
{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[580150.25,4079849.75]}}]}"#,
    )
    .unwrap();
    let raster = Raster::open(scene()).unwrap();
    let objects = labels_in_raster(&[read_labels(&path).unwrap()], &raster).unwrap();
    assert_eq!(objects.len(), 2);
    let c = chips(&scene(), Labelled { objects: &objects, areas: None }, &sampling(0.5), 512).unwrap();
    assert_eq!(c.foreground.len(), 512 * 512);
    let at = |x: usize, y: usize| c.foreground[y * 512 + x];
    assert_eq!(c.foreground.iter().filter(|&&v| v == OBJECT).count(), 192);
    assert!((40..56).all(|y| (100..108).all(|x| at(x, y) == OBJECT)));
    assert!((48..56).all(|y| (100..116).all(|x| at(x, y) == OBJECT)));
    assert!((40..48).all(|y| (108..116).all(|x| at(x, y) != OBJECT)));
    // 5 m around the point: a disc of radius 10 px, unknown.
    let unknown = c.foreground.iter().filter(|&&v| v == UNKNOWN).count();
    assert!((unknown as f64 - std::f64::consts::PI * 100.0).abs() < 20.0, "{unknown}");
    assert_eq!(at(300, 300), UNKNOWN);
    // At 1 m a pixel (the view resampled), the L is 8 x 8 less 4 x 4.
    let coarse = chips(&scene(), Labelled { objects: &objects, areas: None }, &sampling(1.0), 256).unwrap();
    assert_eq!(coarse.foreground.iter().filter(|&&v| v == OBJECT).count(), 48);
}
