//! `rsdetect info`, `rsdetect devices` and `rsdetect models`, run as a user runs them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{rsdetect, text};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/data is absent");
        None
    }
}

#[test]
fn info_json_describes_the_neon_tile() {
    let out = rsdetect(&["info", "--json", "sample_tiles/neon/OSBS_029.tif"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v[0];
    assert_eq!(r["width"], 400);
    assert_eq!(r["height"], 400);
    assert_eq!(r["driver"], "GTiff");
    assert_eq!(r["crs"]["epsg"], 32617);
    assert_eq!(r["crs"]["name"], "WGS 84 / UTM zone 17N");
    let gt: Vec<f64> = r["geotransform"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert!((gt[0] - 404211.9).abs() < 1e-6 && (gt[1] - 0.1).abs() < 1e-12 && (gt[5] + 0.1).abs() < 1e-12);
    assert!((r["gsd_m"]["x"].as_f64().unwrap() - 0.1).abs() < 1e-9);
    assert_eq!(r["bands"].as_array().unwrap().len(), 3);
    assert_eq!(r["bands"][0]["nodata"], 255.0);
    assert_eq!(r["bands"][0]["color"], "Red");
    assert_eq!(r["layout"]["kind"], "striped");
}

#[test]
fn info_table_over_a_folder_lists_every_raster_sorted() {
    let out = rsdetect(&["info", "sample_tiles"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let neon = s.find("sample_tiles/neon/OSBS_029.tif").expect(&s);
    let synth = s.find("sample_tiles/synthetic/shrubs_512.tif").expect(&s);
    assert!(neon < synth);
    assert!(s.contains("EPSG:32617 (WGS 84 / UTM zone 17N)"), "{s}");
    assert!(s.contains("EPSG:32630"), "{s}");
    assert!(s.contains("gsd           0.5000 m"), "{s}");
    assert!(s.contains("tiled 256x256"), "{s}");
}

#[test]
fn bad_inputs_are_reported_and_the_rest_still_described() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.tif");
    std::fs::write(&fake, "this is text\n").unwrap();
    let missing = dir.path().join("missing.tif");
    let out = rsdetect(&["info", fake.to_str().unwrap(), "sample_tiles/neon/OSBS_029.tif", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("fake.tif: not a raster GDAL can read"), "{err}");
    assert!(err.contains("missing.tif: no such file"), "{err}");
    assert!(text(&out.stdout).contains("OSBS_029.tif"));
}

#[test]
fn an_empty_folder_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = rsdetect(&["info", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn a_wide_striped_raster_gets_the_gdal_translate_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strips.tif");
    let made = Command::new("gdal_create")
        .args(["-q", "-outsize", "5000", "8", "-bands", "1", "-ot", "Byte", "-co", "TILED=NO", "-a_srs", "EPSG:32630"])
        .args(["-a_ullr", "580000", "4080000", "582500", "4079996"])
        .arg(&path)
        .status()
        .expect("gdal_create (gdal-bin) runs");
    assert!(made.success());
    let out = rsdetect(&["info", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("stored in strips") && err.contains("gdal_translate -co TILED=YES"), "{err}");
}

#[test]
fn ziziphus_scene_is_described_in_pixel_coordinates() {
    let Some(data) = shared() else { return };
    let path = data.join("ziziphus/zone-test-1.jpg");
    let out = rsdetect(&["info", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(s.contains("1945 x 1924 px, 3 band(s)") && s.contains("none (pixel coordinates)"), "{s}");
    assert!(text(&out.stderr).contains("no georeferencing"));
}

#[test]
fn urban_trees_folder_is_described_as_json() {
    let Some(data) = shared() else { return };
    let out = rsdetect(&["info", "--json", data.join("urban-trees/images").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = v.as_array().unwrap();
    // 426 places imaged in 2020, and in 2018 too where the shared data has that year.
    let tiles = std::fs::read_dir(data.join("urban-trees/images"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "tif"))
        .count();
    assert!(tiles == 426 || tiles == 852, "{tiles} tiles");
    assert_eq!(all.len(), tiles);
    assert!(all.iter().all(|r| r["crs"]["epsg"] == 26911 && r["bands"].as_array().unwrap().len() == 4));
}

#[test]
fn devices_reports_the_cpu() {
    let out = rsdetect(&["devices", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["cpu_threads"].as_i64().unwrap() >= 1);
    if v["cuda_devices"] == 0 {
        assert!(v["cuda_missing"].is_string());
    }
}

#[test]
fn unknown_subcommands_and_flags_are_usage_errors() {
    let out = rsdetect(&["infoo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("info"));
}

#[test]
fn shipped_models_are_listed_and_found_by_name() {
    let out = rsdetect(&["models"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.lines().any(|l| l.starts_with("default ") && l.len() > 20), "{s}");
    let v: Value = serde_json::from_slice(&rsdetect(&["models", "--json"]).stdout).unwrap();
    assert!(v.as_array().unwrap().iter().any(|m| m["name"] == "default"));

    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("named");
    let scene = "sample_tiles/synthetic/shrubs_512.tif";
    let named = rsdetect(&["detect", scene, "--out", out_dir.to_str().unwrap(), "--model", "default"]);
    assert_eq!(named.status.code(), Some(0), "{}", text(&named.stderr));
    let run: Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("run.json")).unwrap()).unwrap();
    assert!(run["model"]["path"].as_str().unwrap().ends_with("models/weights/default.safetensors"));
    let missing = rsdetect(&["detect", scene, "--out", out_dir.to_str().unwrap(), "--model", "nosuch"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("nosuch: no such model file or shipped model"), "{}", text(&missing.stderr));
}
