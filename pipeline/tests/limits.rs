//! Limits: 100,000 detections on one raster go through merging and export
//! in bounded time and memory, and come out as valid GeoJSON, GeoPackage and
//! Shapefile with every feature.

use detection::objects::Detection;
use detection::suppress::suppress;
use pipeline::detect::{RasterDetections, Stats};
use pipeline::export::{features, geojson, read_geojson, write_atomic, write_ogr, OgrFormat, OutputCrs};
use pipeline::{PixelBox, PixelPoint, Raster};
use std::path::Path;
use std::process::Command;

const N: usize = 100_000;

/// Detections on a 4 px lattice, 400 a row: beyond the 512 px sample
/// raster they are exported with, which export does not mind.
fn many() -> Vec<Detection> {
    (0..N)
        .map(|i| {
            let (x, y) = ((i % 400) as f64 * 4.0 + 2.0, (i / 400) as f64 * 4.0 + 2.0);
            Detection {
                centre: PixelPoint { x, y },
                footprint: PixelBox { x0: x - 1.5, y0: y - 1.5, x1: x + 1.5, y1: y + 1.5 },
                score: 0.5 + (i % 97) as f32 / 200.0,
                outline: None,
                uncertainty: None,
            }
        })
        .collect()
}

#[test]
fn a_hundred_thousand_detections_merge_and_export_whole() {
    let mut dets = many();
    // Duplicates 1 px off each detection: suppression keeps one of each pair.
    dets.extend(dets.clone().into_iter().map(|mut d| {
        d.centre.x += 1.0;
        d.score -= 0.01;
        d
    }));
    let t = std::time::Instant::now();
    let kept = suppress(dets, 2.0);
    assert_eq!(kept.len(), N);
    assert!(t.elapsed().as_secs() < 60, "suppression took {:?}", t.elapsed());

    let raster =
        Raster::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample_tiles/synthetic/shrubs_512.tif")).unwrap();
    let r = RasterDetections { info: raster.info().clone(), detections: kept, stats: Stats::default(), notes: vec![] };
    let dir = tempfile::tempdir().unwrap();
    let set = features(&r, "shrub", OutputCrs::Wgs84).unwrap();
    let path = dir.path().join("many.geojson");
    write_atomic(&path, geojson(&set).as_bytes()).unwrap();
    let back = read_geojson(&path).unwrap();
    assert_eq!(back.features.len(), N);
    // GDAL's reader agrees, and so do the OGR formats.
    for (file, format) in [
        (path.clone(), None),
        (dir.path().join("many.gpkg"), Some(OgrFormat::Gpkg)),
        (dir.path().join("many.shp"), Some(OgrFormat::Shp)),
    ] {
        if let Some(f) = format {
            write_ogr(&file, f, &set).unwrap();
        }
        let o = Command::new("ogrinfo").args(["-so", "-al"]).arg(&file).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains(&format!("Feature Count: {N}")), "{}: {text}", file.display());
    }
}
