//! Outlines measured against labels' shapes: a polygon label is compared
//! as its polygon (not its box), and the report says how outlines fit.

use serde_json::{json, Value};
use std::process::Command;

mod common;
use common::{json, rsdetect, s, text};

const SCENE: &str = "sample_tiles/synthetic/shrubs_512.tif";

/// A detection whose outline is exactly a polygon label (an L, which its
/// box would not fit) matches it at IoU 1; the report gives the fit.
#[test]
fn a_polygon_label_matches_its_own_outline_at_iou_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("found");
    let o = rsdetect(&["detect", SCENE, "--out", s(&out), "--device", "cpu"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // The first detection's centre, in the scene's UTM metres (0.5 m pixels).
    let file = out.join("shrubs_512.geojson");
    let mut found = json(&file);
    let [cx, cy] = [0, 1].map(|k| found["features"][0]["properties"]["pixel_centre"][k].as_f64().unwrap());
    let (x, y) = (580_000.0 + cx * 0.5, 4_080_000.0 - cy * 0.5);
    let l: Vec<[f64; 2]> = [(-3.0, -3.0), (3.0, -3.0), (3.0, 0.0), (0.0, 0.0), (0.0, 3.0), (-3.0, 3.0), (-3.0, -3.0)]
        .iter()
        .map(|&(dx, dy)| [x + dx, y + dy])
        .collect();
    let label = dir.path().join("l.geojson");
    let collection = |coords: &Vec<[f64; 2]>, crs: Option<&str>| {
        let mut c = json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [coords]}}]});
        if let Some(name) = crs {
            c["crs"] = json!({"type": "name", "properties": {"name": name}});
        }
        c
    };
    std::fs::write(&label, collection(&l, Some("urn:ogc:def:crs:EPSG::32630")).to_string()).unwrap();
    // The same L in lon/lat, as detect writes outlines, becomes the detection's outline.
    let lonlat = dir.path().join("l-4326.geojson");
    let made = Command::new("ogr2ogr")
        .args(["-t_srs", "EPSG:4326", "-lco", "COORDINATE_PRECISION=9"])
        .arg(&lonlat)
        .arg(&label)
        .status()
        .unwrap();
    assert!(made.success());
    found["features"][0]["geometry"] = json(&lonlat)["features"][0]["geometry"].clone();
    std::fs::write(&file, found.to_string()).unwrap();
    std::fs::write(out.join("detections.geojson"), found.to_string()).unwrap();

    let report = dir.path().join("report.json");
    let o = rsdetect(&[
        "evaluate",
        "--detections",
        s(&out),
        "--labels",
        s(&label),
        "--match",
        "iou:0.99",
        "--out",
        s(&report),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let r: Value = json(&report);
    assert_eq!(r["overall"]["tp"], 1, "{r}");
    let fit = &r["shape"];
    assert_eq!(fit["pairs"], 1);
    assert!(fit["median_iou"].as_f64().unwrap() > 0.999, "{fit}");
    assert!(fit["median_abs_area_error"].as_f64().unwrap() < 0.001, "{fit}");
    assert!(text(&o.stdout).contains("outlines against the labels' shapes: median IoU 1.000"), "{}", text(&o.stdout));
    // Measured as its box instead (what evaluate did before), the L would score 0.75.
    let boxed = dir.path().join("box.geojson");
    let b = vec![[x - 3.0, y - 3.0], [x + 3.0, y - 3.0], [x + 3.0, y + 3.0], [x - 3.0, y + 3.0], [x - 3.0, y - 3.0]];
    std::fs::write(&boxed, collection(&b, Some("urn:ogc:def:crs:EPSG::32630")).to_string()).unwrap();
    let o = rsdetect(&[
        "evaluate",
        "--detections",
        s(&out),
        "--labels",
        s(&boxed),
        "--match",
        "iou:0.5",
        "--out",
        s(&report),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let iou = json(&report)["shape"]["median_iou"].as_f64().unwrap();
    assert!((iou - 0.75).abs() < 0.001, "{iou}");
}
