//! `--progress json`: what a program running rsdetect (the QGIS provider)
//! reads on stderr, one JSON event per line.

use serde_json::Value;

mod common;
use common::{rsdetect, s, text};

fn events(stderr: &[u8]) -> Vec<Value> {
    text(stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("event").is_some())
        .collect()
}

#[test]
fn detect_tells_its_progress_warnings_and_errors_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("found");
    let o = rsdetect(&["--progress", "json", "detect", "sample_tiles/", "--out", s(&out), "--device", "cpu"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let e = events(&o.stderr);
    assert_eq!(e[0]["event"], "start");
    assert_eq!(e[0]["rasters"], 2);
    let fractions: Vec<f64> =
        e.iter().filter(|v| v["event"] == "progress").map(|v| v["fraction"].as_f64().unwrap()).collect();
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{fractions:?}");
    assert_eq!(fractions.last(), Some(&1.0));
    let warnings: Vec<&str> =
        e.iter().filter(|v| v["event"] == "warning").map(|v| v["message"].as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.contains("OSBS_029.tif") && w.contains("resampled 6.0x")), "{warnings:?}");
    // A missing input is an error event; a command that cannot run at all, a fatal one.
    let o = rsdetect(&["--progress", "json", "detect", "nosuch.tif", "--out", s(&out), "--device", "cpu"]);
    let e = events(&o.stderr);
    assert!(e.iter().any(|v| v["event"] == "error" && v["message"].as_str().unwrap().contains("nosuch.tif")));
    let o = rsdetect(&["--progress", "json", "detect", "sample_tiles/", "--out", s(&out), "--model", "nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    let e = events(&o.stderr);
    assert!(e.iter().any(|v| v["event"] == "error" && v["fatal"] == true), "{}", text(&o.stderr));
}
