//! The check of a raster's fit to the shipped model, run as a user runs
//! `rsdetect detect`: silent on the NAIP validation tiles, one line with the
//! number that is off on the 0.1 m NEON tile and on the Ziziphus scene.

use serde_json::Value;
use std::path::{Path, PathBuf};

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

fn run_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

fn applicability_warnings(input: &Value) -> Vec<String> {
    input["applicability"]["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_neon_tile_at_a_tenth_of_a_metre_warns_with_its_resampling_factor() {
    let dir = tempfile::tempdir().unwrap();
    let o = rsdetect(&[
        "detect",
        "sample_tiles/neon/OSBS_029.tif",
        "--out",
        dir.path().to_str().unwrap(),
        "--device",
        "cpu",
    ]);
    assert_eq!(o.status.code().map(|c| c <= 1), Some(true), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    let line =
        stderr.lines().find(|l| l.contains("ground sample distance 0.10 m")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("6.0x") && line.contains("rsdetect train --init"), "{line}");
    let run = run_json(dir.path());
    let fit = &run["inputs"][0]["applicability"];
    assert!((fit["gsd_m"].as_f64().unwrap() - 0.1).abs() < 1e-9, "{fit}");
    assert!((fit["model_gsd_m"].as_f64().unwrap() - 0.6).abs() < 1e-6, "{fit}");
    assert_eq!(fit["bands"].as_array().unwrap().len(), 3, "{fit}");
    assert_eq!(applicability_warnings(&run["inputs"][0]).len(), 1, "{fit}");
}

#[test]
fn the_naip_validation_tiles_raise_no_warning() {
    let Some(data) = shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let urban = data.join("urban-trees");
    let o = rsdetect(&[
        "detect",
        urban.join("images").to_str().unwrap(),
        "--list",
        urban.join("val_socal.txt").to_str().unwrap(),
        "--list",
        urban.join("val_socal_2018.txt").to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
        "--device",
        "cpu",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(!stderr.contains("expect lower accuracy") && !stderr.contains("ground sample distance"), "{stderr}");
    let run = run_json(dir.path());
    let inputs = run["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 86);
    for input in inputs {
        assert_eq!(applicability_warnings(input), Vec::<String>::new(), "{}", input["path"]);
        for band in input["applicability"]["bands"].as_array().unwrap() {
            assert!(band["mean_offset_sd"].as_f64().unwrap().abs() < 2.0, "{band}");
        }
    }
}

#[test]
fn the_ziziphus_scene_without_georeferencing_asks_for_its_ground_sample_distance() {
    let Some(data) = shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let scene = data.join("ziziphus/zone-test-1.jpg");
    let o = rsdetect(&["detect", scene.to_str().unwrap(), "--out", dir.path().to_str().unwrap(), "--device", "cpu"]);
    assert_eq!(o.status.code().map(|c| c <= 1), Some(true), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(stderr.contains("ground sample distance unknown") && stderr.contains("--input-gsd"), "{stderr}");
    let run = run_json(dir.path());
    assert!(run["inputs"][0]["applicability"]["gsd_m"].is_null());
    assert_eq!(applicability_warnings(&run["inputs"][0]).len(), 1);
}
