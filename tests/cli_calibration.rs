//! Scores that are probabilities: `rsdetect calibrate` fits the map from
//! the network's raw score to the share of right detections on labelled
//! NAIP tiles, keeps it in the model file, and detect reports scores and
//! takes its threshold through it, finding the same trees.

use serde_json::Value;
use std::path::Path;

mod common;
use common::{json, rsdetect, s, text};

/// Detects on the tiles of `list` with `model` and evaluates at 6 m: the
/// features written and the report.
fn detect_and_evaluate(urban: &Path, list: &Path, model: &Path, out: &Path, extra: &[&str]) -> (Vec<Value>, Value) {
    let images = urban.join("images");
    let mut args =
        vec!["detect", s(&images), "--list", s(list), "--model", s(model), "--out", s(out), "--device", "cpu"];
    args.extend_from_slice(extra);
    let o = rsdetect(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report = out.join("eval.json");
    let labels = urban.join("json");
    let e = rsdetect(&[
        "evaluate",
        "--detections",
        s(out),
        "--labels",
        s(&labels),
        "--match",
        "distance:6",
        "--out",
        s(&report),
    ]);
    assert_eq!(e.status.code(), Some(0), "{}", text(&e.stderr));
    let features = json(&out.join("detections.geojson"))["features"].as_array().unwrap().clone();
    (features, json(&report))
}

/// On 12 tiles of val_socal: the shipped default model's raw scores are far
/// from probabilities (expected calibration error over 0.3); calibrated on
/// those tiles, the same network finds the same trees at the same places,
/// each score the map's value of its raw score, the threshold the map's
/// value of the raw one, and the calibration error under 0.05 there.
/// Calibration also measures the halo dense tiles need, and with it 64 px
/// tile cores find the same trees as with the whole patch of context.
/// Skipped without ../shared.
#[test]
fn calibrated_scores_read_as_probabilities_and_find_the_same_trees() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let urban = root.join("../shared/data/urban-trees");
    if !urban.is_dir() {
        eprintln!("skipped: {} is absent (the NAIP validation tiles are in ../shared)", urban.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("tiles.txt");
    let tiles: Vec<String> =
        std::fs::read_to_string(urban.join("val_socal.txt")).unwrap().lines().take(12).map(str::to_owned).collect();
    std::fs::write(&list, tiles.join("\n")).unwrap();
    let shipped = root.join("models/weights/default.safetensors");
    let model = dir.path().join("calibrated.safetensors");
    std::fs::copy(&shipped, &model).unwrap();
    let images = urban.join("images");
    let labels = urban.join("json");
    let o = rsdetect(&[
        "calibrate",
        "--model",
        s(&model),
        "--images",
        s(&images),
        "--list",
        s(&list),
        "--labels",
        s(&labels),
        "--device",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("as probabilities"), "{}", text(&o.stderr));
    assert!(dir.path().join("calibrated.reliability.png").is_file());

    let meta = models::Model::read_meta(&model).unwrap();
    let map = meta.score_map.clone().expect("a score map");
    let fit = meta.training.as_ref().and_then(|t| t.calibration.as_ref()).and_then(|c| c.probabilities.clone());
    let fit = fit.expect("the fit's record");
    assert_eq!(meta.score_threshold, map.apply(fit.raw_threshold) as f32);
    assert!(fit.per_set[0].raw > 0.3 && fit.per_set[0].calibrated < 0.05, "{fit:?}");

    // The same weights without a map, at the operating point chosen here
    // in raw scores.
    let raw_model = dir.path().join("raw.safetensors");
    let mut unmapped = models::Model::load(&shipped, models::Device::Cpu).unwrap();
    unmapped.meta.score_map = None;
    unmapped.save(&raw_model).unwrap();
    let config = dir.path().join("raw.toml");
    let point = format!("score_threshold = {}\nsuppression_m = {}\n", fit.raw_threshold, meta.suppression_m);
    std::fs::write(&config, point).unwrap();
    let (raw, raw_report) =
        detect_and_evaluate(&urban, &list, &raw_model, &dir.path().join("raw"), &["--config", s(&config)]);
    let (mapped, report) = detect_and_evaluate(&urban, &list, &model, &dir.path().join("mapped"), &[]);
    assert_eq!(raw.len(), mapped.len());
    assert!(raw.len() > 300, "{} detections", raw.len());
    for (r, m) in raw.iter().zip(&mapped) {
        assert_eq!(r["properties"]["pixel_centre"], m["properties"]["pixel_centre"]);
        let (rs, ms) = (r["properties"]["score"].as_f64().unwrap(), m["properties"]["score"].as_f64().unwrap());
        assert!((map.apply(rs) - ms).abs() < 1e-4, "raw {rs} -> {ms}, the map says {}", map.apply(rs));
    }
    assert_eq!(raw_report["overall"], report["overall"]);
    let ece = |r: &Value| r["calibration"]["expected_calibration_error"].as_f64().unwrap();
    assert!(ece(&raw_report) > 0.3, "{}", ece(&raw_report));
    assert!(ece(&report) < 0.05, "{}", ece(&report));

    // The halo measured there: the least of those tried after which all
    // keep the detections, under the patch; the model's tiles read it.
    let fit = meta.training.as_ref().and_then(|t| t.calibration.as_ref()).and_then(|c| c.halo.clone());
    let fit = fit.expect("the halo's record");
    assert_eq!(meta.halo, Some(fit.chosen));
    assert_eq!(fit.reference, 96);
    assert!(fit.chosen < fit.reference && fit.chosen % 8 == 0, "{fit:?}");
    assert!(fit.trials.windows(2).all(|w| w[0].halo < w[1].halo));
    assert!(fit.trials.iter().filter(|t| t.halo >= fit.chosen).all(|t| t.keeps_detections()), "{fit:?}");
    assert!(!fit.trials[0].keeps_detections(), "{fit:?}");
    assert!(text(&o.stderr).contains(&format!("read {} px of context", fit.chosen)), "{}", text(&o.stderr));
    // With it, 64 px cores find what they find with the whole patch around
    // them: the same trees, raw scores within the tolerance.
    let cores = |halo: usize, name: &str| {
        let config = dir.path().join(format!("{name}.toml"));
        std::fs::write(&config, format!("tile = 64\nhalo = {halo}\nreduced_precision = false\n")).unwrap();
        detect_and_evaluate(&urban, &list, &raw_model, &dir.path().join(name), &["--config", s(&config)]).0
    };
    let (whole, measured) = (cores(96, "whole"), cores(fit.chosen, "measured"));
    assert_eq!(whole.len(), measured.len());
    for (a, b) in whole.iter().zip(&measured) {
        assert_eq!(a["properties"]["pixel_centre"], b["properties"]["pixel_centre"]);
        let (sa, sb) = (a["properties"]["score"].as_f64().unwrap(), b["properties"]["score"].as_f64().unwrap());
        assert!((sa - sb).abs() <= detection::halo::SCORE_TOLERANCE + 1e-6, "{sa} against {sb}");
    }
}
