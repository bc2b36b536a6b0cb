//! The uncertainty `detect --tta` gives each detection ranks its errors:
//! on val_socal, false positives carry more of it than true positives.

use serde_json::Value;
use std::path::Path;

mod common;
use common::{rsdetect, text};

#[test]
fn false_positives_are_more_uncertain_than_true_positives_on_val_socal() {
    let urban = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/urban-trees");
    if !urban.is_dir() {
        eprintln!("skipped: ../shared/data is absent");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("val");
    let o = rsdetect(&[
        "detect",
        urban.join("images").to_str().unwrap(),
        "--list",
        urban.join("val_socal.txt").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--tta",
        "--device",
        "cpu",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report = dir.path().join("report.json");
    let o = rsdetect(&[
        "evaluate",
        "--detections",
        out.to_str().unwrap(),
        "--labels",
        urban.join("json").to_str().unwrap(),
        "--match",
        "distance:6",
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let u = &r["uncertainty"];
    // 0.638 measured with the shipped model (fp32 and bf16 agree closely).
    assert!(u["auc"].as_f64().unwrap() > 0.6, "{u}");
    assert!(u["mean_false_positive"].as_f64().unwrap() > u["mean_true_positive"].as_f64().unwrap(), "{u}");
    let tp_fp = r["overall"]["tp"].as_u64().unwrap() + r["overall"]["fp"].as_u64().unwrap();
    assert_eq!(u["detections"].as_u64().unwrap(), tp_fp, "every detection carries its uncertainty");
}
