//! train -> detect -> evaluate, run as a user runs them, on the synthetic
//! shrub scene shipped in sample_tiles (and the NEON tile, resampled).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

mod common;
use common::{json, rsdetect, s, text};

const SCENE: &str = "sample_tiles/synthetic/shrubs_512.tif";
const SCENE_LABELS: &str = "sample_tiles/synthetic/shrubs_512.geojson";

/// A small shrub model trained once for all tests of this file.
fn model() -> &'static Path {
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shrub-model");
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("train.toml");
        std::fs::write(
            &config,
            "[model]\narch = \"resnet-small\"\npatch = 16\nclass = \"shrub\"\n[train]\nepochs = 30\nbatch_size = 32\nlr = 0.005\n[calibrate]\nmatch = \"distance:2\"\nsuppression_m = [3.0]\n",
        )
        .unwrap();
        let out = dir.join("shrubs.safetensors");
        let o = rsdetect(&["train", "--images", SCENE, "--labels", SCENE_LABELS, "--all-labelled", "--val-images", SCENE, "--config", s(&config), "--out", s(&out), "--device", "cpu"]);
        assert!(o.status.success(), "train failed: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("operating point"), "{}", text(&o.stderr));
        out
    })
}

fn detect(inputs: &[&str], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["detect"];
    args.extend_from_slice(inputs);
    args.extend(["--out", s(out), "--model", s(model()), "--device", "cpu"]);
    args.extend_from_slice(extra);
    rsdetect(&args)
}

#[test]
fn a_trained_model_finds_the_synthetic_shrubs() {
    let dir = tempfile::tempdir().unwrap();
    let o = detect(&[SCENE], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report = dir.path().join("eval.json");
    let e = rsdetect(&[
        "evaluate",
        "--detections",
        s(dir.path()),
        "--labels",
        SCENE_LABELS,
        "--match",
        "distance:2",
        "--out",
        s(&report),
    ]);
    assert_eq!(e.status.code(), Some(0), "{}", text(&e.stderr));
    let r = json(&report);
    assert_eq!(r["match"], "distance:2");
    let f1 = r["overall"]["f1"].as_f64().unwrap();
    assert!(f1 >= 0.85, "F1 {f1}: {}", text(&e.stdout));
    assert_eq!(r["per_class"]["shrub"]["tp"], r["overall"]["tp"]);
    assert_eq!(r["overall"]["tp"].as_u64().unwrap() + r["overall"]["fn"].as_u64().unwrap(), 38);
    let run = json(&dir.path().join("run.json"));
    assert_eq!(run["config"]["source"]["mode"], "sliding");
    // 3 m suppression at 0.5 m: windows every 3 px.
    assert_eq!(run["config"]["source"]["stride"], 3);
    assert_eq!(run["inputs"][0]["status"], "done");
}

#[test]
fn geojson_is_wgs84_inside_the_footprint_and_ogr_formats_agree() {
    let dir = tempfile::tempdir().unwrap();
    let o = detect(&[SCENE], dir.path(), &["--format", "gpkg", "--format", "shp", "--quicklook"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let merged = dir.path().join("detections.geojson");
    let v = json(&merged);
    let n = v["features"].as_array().unwrap().len();
    assert!(n > 0);
    // UTM 30N, 580-580.256 km E, 4079.744-4080 km N: lon -2.10.., lat 36.86..
    for f in v["features"].as_array().unwrap() {
        for c in f["geometry"]["coordinates"][0].as_array().unwrap() {
            let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
            assert!((-2.11..-2.09).contains(&lon) && (36.85..36.87).contains(&lat), "{lon},{lat}");
        }
        assert_eq!(f["properties"]["class"], "shrub");
        assert!(f["properties"]["source"].as_str().unwrap().ends_with("shrubs_512.tif"));
    }
    for file in ["detections.geojson", "detections.gpkg", "detections.shp", "shrubs_512.gpkg"] {
        let info = Command::new("ogrinfo")
            .args(["-so", "-al"])
            .arg(dir.path().join(file))
            .output()
            .expect("ogrinfo (gdal-bin) runs");
        let t = text(&info.stdout);
        assert!(t.contains(&format!("Feature Count: {n}")), "{file}: {t}");
        assert!(t.contains("ID[\"EPSG\",4326]") || t.contains("WGS 84"), "{file}: {t}");
    }
    assert!(dir.path().join("shrubs_512.png").exists());
    // Nothing temporary is left behind.
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().starts_with('.')));
}

#[test]
fn a_resumed_run_gives_the_same_merged_file() {
    let inputs = tempfile::tempdir().unwrap();
    for (from, to) in [(SCENE, "a_scene.tif"), ("sample_tiles/neon/OSBS_029.tif", "b_neon.tif")] {
        std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(from), inputs.path().join(to)).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let first = detect(&[s(inputs.path())], out.path(), &[]);
    assert!(first.status.code() == Some(0) || first.status.code() == Some(1), "{}", text(&first.stderr));
    let merged = std::fs::read(out.path().join("detections.geojson")).unwrap();
    // As if killed after the first input: its file is there, nothing else.
    std::fs::remove_file(out.path().join("b_neon.geojson")).unwrap();
    std::fs::remove_file(out.path().join("detections.geojson")).unwrap();
    let again = detect(&[s(inputs.path())], out.path(), &[]);
    assert_eq!(again.status.code(), first.status.code(), "{}", text(&again.stderr));
    let run = json(&out.path().join("run.json"));
    assert_eq!(run["inputs"][0]["status"], "skipped");
    assert_eq!(run["inputs"][1]["status"], "done");
    assert_eq!(std::fs::read(out.path().join("detections.geojson")).unwrap(), merged);
    let forced = detect(&[s(inputs.path())], out.path(), &["--force"]);
    assert_eq!(forced.status.code(), first.status.code());
    assert_eq!(std::fs::read(out.path().join("detections.geojson")).unwrap(), merged);
}

#[test]
fn a_bad_input_is_reported_and_the_others_finish() {
    let inputs = tempfile::tempdir().unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENE), inputs.path().join("good.tif")).unwrap();
    std::fs::write(inputs.path().join("broken.tif"), "not a raster\n").unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = detect(&[s(inputs.path())], out.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("broken.tif: not a raster"), "{err}");
    assert!(out.path().join("good.geojson").exists());
    assert!(!out.path().join("broken.geojson").exists());
    let run = json(&out.path().join("run.json"));
    assert_eq!(run["totals"]["failed"], 1);
}

#[test]
fn rasters_without_georeferencing_stay_in_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("screenshot.png");
    let made = Command::new("gdal_translate")
        .args(["-q", "-of", "PNG", SCENE])
        .arg(&png)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(made.success());
    let _ = std::fs::remove_file(dir.path().join("screenshot.png.aux.xml"));
    let out = dir.path().join("out");
    let o = detect(&[s(&png)], &out, &["--input-gsd", "0.5"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("pixel coordinates"), "{}", text(&o.stderr));
    let v = json(&out.join("screenshot.geojson"));
    assert!(v["rsdetect:coordinates"].as_str().unwrap().starts_with("pixel"));
    let ring = &v["features"][0]["geometry"]["coordinates"][0];
    assert!(ring[0][0].as_f64().unwrap() >= 0.0 && ring[0][1].as_f64().unwrap() <= 0.0);
    // Outlines still measure square metres, at the scale --input-gsd gave.
    let outlined = dir.path().join("outlined");
    let o = rsdetect(&["detect", s(&png), "--input-gsd", "0.5", "--out", s(&outlined), "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v = json(&outlined.join("screenshot.geojson"));
    let features = v["features"].as_array().unwrap();
    assert!(!features.is_empty() && features.iter().all(|f| f["properties"]["area_m2"].as_f64().unwrap() > 0.0));
}

#[test]
fn unusable_models_and_devices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, "junk").unwrap();
    let o = rsdetect(&["detect", SCENE, "--out", s(dir.path()), "--model", s(&junk)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("junk.safetensors: not a model file"), "{}", text(&o.stderr));
    let devices: Value = serde_json::from_slice(&rsdetect(&["devices", "--json"]).stdout).unwrap();
    if devices["cuda_devices"] == 0 {
        let o = rsdetect(&["detect", SCENE, "--out", s(dir.path()), "--model", s(model()), "--device", "cuda"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o.stderr).contains("--device cuda:0") && text(&o.stderr).contains("--device cpu"),
            "{}",
            text(&o.stderr)
        );
    }
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "tiles = 3\n").unwrap();
    let o = detect(&[SCENE], dir.path(), &["--config", s(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("unknown field `tiles`"), "{}", text(&o.stderr));
}

#[test]
fn training_reads_shapefile_and_geopackage_labels_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("t.toml");
    std::fs::write(&config, "[model]\narch = \"resnet-small\"\npatch = 16\n[train]\nepochs = 2\nbatch_size = 32\n")
        .unwrap();
    for (ext, driver) in [("shp", "ESRI Shapefile"), ("gpkg", "GPKG")] {
        let labels = dir.path().join(format!("labels.{ext}"));
        let made = Command::new("ogr2ogr")
            .args(["-f", driver])
            .arg(&labels)
            .arg(SCENE_LABELS)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(made.success());
        let out = dir.path().join(format!("m-{ext}.safetensors"));
        let o = rsdetect(&[
            "train",
            "--images",
            SCENE,
            "--labels",
            s(&labels),
            "--config",
            s(&config),
            "--out",
            s(&out),
            "--device",
            "cpu",
            "--no-calibrate",
            "--epochs",
            "1",
        ]);
        assert!(o.status.success(), "{ext}: {}", text(&o.stderr));
        // Every tenth raster validates; with one raster all train.
        assert!(text(&o.stderr).contains("1 training rasters (38 objects"), "{ext}: {}", text(&o.stderr));
    }
    // Two epochs of a two-epoch run, stopped after the first and resumed.
    let out = dir.path().join("r.safetensors");
    let args = [
        "train",
        "--images",
        SCENE,
        "--labels",
        SCENE_LABELS,
        "--config",
        s(&config),
        "--out",
        s(&out),
        "--device",
        "cpu",
        "--no-calibrate",
    ];
    let mut first: Vec<&str> = args.to_vec();
    first.extend(["--epochs", "1"]);
    assert!(rsdetect(&first).status.success());
    let ckpt = dir.path().join("r.ckpt.safetensors");
    let mut resumed: Vec<&str> = args.to_vec();
    resumed.extend(["--resume", s(&ckpt)]);
    let o = rsdetect(&resumed);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("resuming after epoch 1 of 2"), "{}", text(&o.stderr));
    let log = std::fs::read_to_string(dir.path().join("r.log.csv")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.lines().nth(2).unwrap().starts_with("2,"));
}

/// The shipped heatmap model outlines each synthetic shrub: every outline's
/// area within 15% of its disc's (the scene records each radius), its
/// properties the outline's area and diameter, its centre the peak's; and
/// `evaluate --match iou` measures the outlines.
#[test]
fn outlines_of_the_synthetic_shrubs_have_their_areas() {
    let dir = tempfile::tempdir().unwrap();
    let o = rsdetect(&["detect", SCENE, "--out", s(dir.path()), "--crs", "native", "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let found = json(&dir.path().join("shrubs_512.geojson"));
    let found = found["features"].as_array().unwrap();
    let labels = json(Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENE_LABELS).as_path());
    let labels = labels["features"].as_array().unwrap();
    assert_eq!(found.len(), labels.len());
    // The scene: 0.5 m pixels from 580000 E, 4080000 N.
    let at = |f: &Value| {
        let c = &f["properties"]["pixel_centre"];
        (580000.0 + c[0].as_f64().unwrap() * 0.5, 4080000.0 - c[1].as_f64().unwrap() * 0.5)
    };
    for l in labels {
        let (x, y) =
            (l["geometry"]["coordinates"][0].as_f64().unwrap(), l["geometry"]["coordinates"][1].as_f64().unwrap());
        let r = l["properties"]["radius_m"].as_f64().unwrap();
        let d = found
            .iter()
            .min_by(|a, b| {
                let (da, db) = (at(a), at(b));
                ((da.0 - x).hypot(da.1 - y)).total_cmp(&(db.0 - x).hypot(db.1 - y))
            })
            .unwrap();
        let p = &d["properties"];
        let area = p["area_m2"].as_f64().unwrap();
        let disc = std::f64::consts::PI * r * r;
        assert!((area / disc - 1.0).abs() < 0.15, "radius {r} m: outline {area} m2 against {disc:.2}");
        assert!((p["diameter_m"].as_f64().unwrap() - 2.0 * (area / std::f64::consts::PI).sqrt()).abs() < 0.02);
        assert_eq!(d["geometry"]["coordinates"][0].as_array().unwrap().len(), 17, "16 corners, closed");
    }
    // Peaks within 1.5 m (2.5 px of the model's 0.6 m) of each disc's centre.
    let o = rsdetect(&["evaluate", "--detections", s(dir.path()), "--labels", SCENE_LABELS, "--match", "distance:1.5"]);
    assert!(text(&o.stdout).contains("38      0      0"), "{}", text(&o.stdout));
    // Each disc's bounding box as a label: a box label says only how far an
    // object reaches, so it is compared with the detection's box (the
    // outline's, a 16-gon a little inside the disc), which fits it closely;
    // another shrub's box not at all.
    let boxes = dir.path().join("boxes.csv");
    let mut csv = String::from("image_path,xmin,ymin,xmax,ymax\n");
    for l in labels {
        let (x, y) =
            (l["geometry"]["coordinates"][0].as_f64().unwrap(), l["geometry"]["coordinates"][1].as_f64().unwrap());
        let (col, row, r) =
            ((x - 580000.0) / 0.5, (4080000.0 - y) / 0.5, l["properties"]["radius_m"].as_f64().unwrap() / 0.5);
        csv.push_str(&format!("shrubs_512.tif,{},{},{},{}\n", col - r, row - r, col + r, row + r));
    }
    std::fs::write(&boxes, csv).unwrap();
    let o = rsdetect(&["evaluate", "--detections", s(dir.path()), "--labels", s(&boxes), "--match", "iou:0.6"]);
    assert!(text(&o.stdout).contains("38      0      0"), "{}", text(&o.stdout));
    let o = rsdetect(&["evaluate", "--detections", s(dir.path()), "--labels", s(&boxes), "--match", "iou:0.8"]);
    assert!(text(&o.stdout).contains("38      0      0"), "boxes against boxes: {}", text(&o.stdout));
}

/// Preprocessing candidates keep their blob's outline: on the synthetic
/// scene each is a 16-corner polygon covering most of its shrub's disc
/// (the threshold keeps a shrub's dark core, 0.67-0.93 of the disc when
/// measured), never the classifier's window.
#[test]
fn candidates_keep_their_blob_outlines() {
    let dir = tempfile::tempdir().unwrap();
    let o = rsdetect(&[
        "detect",
        SCENE,
        "--mode",
        "candidates",
        "--out",
        s(dir.path()),
        "--crs",
        "native",
        "--device",
        "cpu",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let found = json(&dir.path().join("shrubs_512.geojson"));
    let found = found["features"].as_array().unwrap();
    assert!(found.len() >= 20, "{} candidates detected", found.len());
    let labels = json(Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENE_LABELS).as_path());
    let labels = labels["features"].as_array().unwrap();
    for d in found {
        let p = &d["properties"];
        let c = &p["pixel_centre"];
        let (x, y) = (580000.0 + c[0].as_f64().unwrap() * 0.5, 4080000.0 - c[1].as_f64().unwrap() * 0.5);
        let r = labels
            .iter()
            .map(|l| {
                let g = &l["geometry"]["coordinates"];
                (
                    (g[0].as_f64().unwrap() - x).hypot(g[1].as_f64().unwrap() - y),
                    l["properties"]["radius_m"].as_f64().unwrap(),
                )
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap()
            .1;
        let share = p["area_m2"].as_f64().unwrap() / (std::f64::consts::PI * r * r);
        assert!((0.6..1.05).contains(&share), "a blob outline holds {share:.2} of its disc");
        assert_eq!(d["geometry"]["coordinates"][0].as_array().unwrap().len(), 17, "16 corners, closed");
    }
}

/// `evaluate --out` into a folder that does not exist yet creates it, so
/// the report and its PR-curve PNG are written where the user named.
#[test]
fn evaluate_writes_its_report_into_a_new_folder() {
    let dir = tempfile::tempdir().unwrap();
    let o = rsdetect(&["detect", SCENE, "--out", s(dir.path()), "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report = dir.path().join("new").join("dir").join("report.json");
    let o = rsdetect(&[
        "evaluate",
        "--detections",
        s(dir.path()),
        "--labels",
        SCENE_LABELS,
        "--sweep",
        "--out",
        s(&report),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(report.exists() && report.with_extension("pr.png").exists());
    // Calibration: ten bins holding every detection, and its diagram.
    assert!(text(&o.stdout).contains("expected calibration error"), "{}", text(&o.stdout));
    assert!(report.with_extension("reliability.png").exists());
    let r = json(&report);
    let bins = r["calibration"]["bins"].as_array().unwrap();
    assert_eq!(bins.len(), 10);
    let binned: u64 = bins.iter().map(|b| b["detections"].as_u64().unwrap()).sum();
    let overall = &r["overall"];
    assert_eq!(binned, overall["tp"].as_u64().unwrap() + overall["fp"].as_u64().unwrap());
    let ece = r["calibration"]["expected_calibration_error"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ece), "{ece}");
}

/// With `--tta` each detection carries its uncertainty, `score_sd`, in the
/// GeoJSON, the GeoPackage and the Shapefile alike.
#[test]
fn uncertainty_is_in_every_output_format() {
    let dir = tempfile::tempdir().unwrap();
    let o = rsdetect(&[
        "detect",
        SCENE,
        "--out",
        s(dir.path()),
        "--device",
        "cpu",
        "--tta",
        "--format",
        "gpkg",
        "--format",
        "shp",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let geojson = json(&dir.path().join("shrubs_512.geojson"));
    let features = geojson["features"].as_array().unwrap();
    assert!(!features.is_empty());
    let sds: Vec<f64> = features.iter().map(|f| f["properties"]["score_sd"].as_f64().unwrap()).collect();
    assert!(sds.iter().all(|&u| (0.0..0.5).contains(&u)), "{sds:?}");
    for ext in ["gpkg", "shp"] {
        let path = dir.path().join(format!("shrubs_512.{ext}"));
        let back = Command::new("ogr2ogr").args(["-f", "GeoJSON", "/vsistdout/"]).arg(&path).output().unwrap();
        assert!(back.status.success(), "{}", text(&back.stderr));
        let v: Value = serde_json::from_slice(&back.stdout).unwrap();
        let from_ogr: Vec<f64> =
            v["features"].as_array().unwrap().iter().map(|f| f["properties"]["score_sd"].as_f64().unwrap()).collect();
        assert_eq!(from_ogr.len(), sds.len(), "{ext}");
        for (a, b) in from_ogr.iter().zip(&sds) {
            assert!((a - b).abs() < 1e-6, "{ext}: {a} against {b}");
        }
    }
    // Without --tta there is no uncertainty to give.
    let plain = tempfile::tempdir().unwrap();
    let o = rsdetect(&["detect", SCENE, "--out", s(plain.path()), "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let geojson = json(&plain.path().join("shrubs_512.geojson"));
    assert!(geojson["features"][0]["properties"].get("score_sd").is_none());
}

/// `rsdetect suggest` writes the K windows most worth labelling as a
/// GeoPackage OGR reads, each inside the raster, most uncertain first.
#[test]
fn suggest_writes_k_windows_inside_the_raster() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("next.gpkg");
    let o = rsdetect(&["suggest", SCENE, "-k", "5", "--window", "32", "--out", s(&out), "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let back = Command::new("ogr2ogr").args(["-f", "GeoJSON", "/vsistdout/"]).arg(&out).output().unwrap();
    assert!(back.status.success());
    let v: Value = serde_json::from_slice(&back.stdout).unwrap();
    let features = v["features"].as_array().unwrap();
    assert_eq!(features.len(), 5);
    let info =
        Command::new("gdalinfo").args(["-json", SCENE]).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
    let info: Value = serde_json::from_slice(&info.stdout).unwrap();
    let corners = info["wgs84Extent"]["coordinates"][0].as_array().unwrap();
    let lon = |c: &Value| c[0].as_f64().unwrap();
    let lat = |c: &Value| c[1].as_f64().unwrap();
    let (lon0, lon1) = corners.iter().map(lon).fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let (lat0, lat1) = corners.iter().map(lat).fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let mut last = f64::MAX;
    for (i, f) in features.iter().enumerate() {
        assert_eq!(f["properties"]["rank"].as_i64(), Some(i as i64 + 1));
        let u = f["properties"]["uncertainty"].as_f64().unwrap();
        assert!(u > 0.0 && u <= last, "most uncertain first");
        last = u;
        for c in f["geometry"]["coordinates"][0].as_array().unwrap() {
            let e = 1e-7;
            assert!(lon(c) >= lon0 - e && lon(c) <= lon1 + e && lat(c) >= lat0 - e && lat(c) <= lat1 + e, "{c}");
        }
    }
}

/// A plain `rsdetect train` (images, labels, output) starts from the shipped
/// model whose bands fit, at its scale, holds out blocks of the imagery to
/// validate, and chooses the operating point on them.
#[test]
fn a_plain_train_starts_from_the_shipped_model_and_validates_on_held_out_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.safetensors");
    let o = rsdetect(&["train", "--images", SCENE, "--labels", SCENE_LABELS, "--out", s(&out), "--epochs", "2"]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("starting from the shipped model default (bands 1,2,3)"), "{err}");
    assert!(err.contains("background is learned only around the labels"), "{err}");
    // 512 px of 0.5 m seen at the model's 0.6 m: 2 x 2 blocks of 256 px, one validates.
    assert!(err.contains("3 chips train, 1 held out to validate"), "{err}");
    assert!(err.contains("on 1 held-out blocks"), "{err}");
    assert!(dir.path().join("m.operating-point.png").is_file());

    let o = rsdetect(&[
        "train",
        "--images",
        SCENE,
        "--labels",
        SCENE_LABELS,
        "--out",
        s(&out),
        "--init",
        s(&out),
        "--scratch",
    ]);
    assert!(!o.status.success(), "--init and --scratch exclude each other");
}

#[test]
fn three_shards_merged_equal_one_run_byte_for_byte() {
    let inputs = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (from, to) in
        [(SCENE, "a.tif"), ("sample_tiles/neon/OSBS_029.tif", "b.tif"), (SCENE, "c.tif"), (SCENE, "sub/a.tif")]
    {
        let to = inputs.path().join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(from), to).unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let single = work.path().join("single");
    assert!(detect(&[s(inputs.path())], &single, &[]).status.success());
    let mut shards = Vec::new();
    let mut seen = 0;
    for k in 0..3 {
        let dir = work.path().join(format!("shard-{k}"));
        let o = detect(&[s(inputs.path())], &dir, &["--shard", &format!("{k}/3")]);
        assert!(o.status.code() == Some(0) || o.status.code() == Some(1), "{}", text(&o.stderr));
        seen += json(&dir.join("run.json"))["inputs"].as_array().unwrap().len();
        shards.push(dir);
    }
    assert_eq!(seen, 4, "each raster in exactly one shard");
    let merged = work.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|d| s(d)));
    args.extend(["--out", s(&merged)]);
    let o = rsdetect(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(merged.join("detections.geojson")).unwrap(),
        std::fs::read(single.join("detections.geojson")).unwrap()
    );
    // The two a.tif keep apart under hashed names, as in the single run.
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".geojson"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&merged), names(&single));
    // The share is stable under reordering of the input list.
    let again = work.path().join("again");
    let o = detect(
        &[s(&inputs.path().join("c.tif")), s(&inputs.path().join("b.tif")), s(&inputs.path().join("a.tif"))],
        &again,
        &["--shard", "1/3"],
    );
    let listed = |d: &Path| {
        json(&d.join("run.json"))["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["path"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(o.status.code() == Some(0) || o.status.code() == Some(1));
    let mut want: Vec<String> = listed(&shards[1]).into_iter().filter(|p| !p.contains("/sub/")).collect();
    let mut got = listed(&again);
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

/// Grad-CAM of the shrub classifier: its maps lie on the shrubs (at least
/// 70% of their mass inside the labelled disks), in a GeoTIFF on the
/// scene's own grid, with a PNG per detection.
#[test]
fn grad_cam_maps_lie_on_the_shrubs_on_the_scenes_grid() {
    let dir = tempfile::tempdir().unwrap();
    let found = dir.path().join("found");
    let o = detect(&[SCENE], &found, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = dir.path().join("why");
    let o = rsdetect(&["explain", "--detections", s(&found), "--out", s(&out), "--all", "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let record = detection::formats::explain::ExplainFile::from_json(
        &std::fs::read_to_string(out.join("explain.json")).unwrap(),
    )
    .unwrap();
    assert!(record.method.starts_with("grad-cam"), "{}", record.method);
    let detections = json(&found.join("shrubs_512.geojson"))["features"].as_array().unwrap().len();
    assert_eq!(record.explained.len(), detections);
    assert!(record.explained.iter().all(|e| e.png.exists() && e.map == out.join("shrubs_512.explain.tif")));

    let scene = pipeline::Raster::open(SCENE).unwrap();
    let map = pipeline::Raster::open(out.join("shrubs_512.explain.tif")).unwrap();
    assert_eq!(map.size(), scene.size());
    assert_eq!(map.info().geotransform, scene.info().geotransform);
    assert_eq!(map.info().crs.as_ref().map(|c| c.epsg), scene.info().crs.as_ref().map(|c| c.epsg));
    assert_eq!(map.info().crs.as_ref().map(|c| &c.wkt), scene.info().crs.as_ref().map(|c| &c.wkt));

    // The shrubs' disks, in pixels.
    let gt = scene.info().geotransform.unwrap();
    let labels = json(Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENE_LABELS).as_path());
    let disks: Vec<(f64, f64, f64)> = labels["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
            ((x - gt[0]) / gt[1], (y - gt[3]) / gt[5], f["properties"]["radius_m"].as_f64().unwrap() / gt[1])
        })
        .collect();
    let values = map.read_window::<f32>(map.full_window(), &[1]).unwrap();
    let (w, _) = map.size();
    let (mut inside, mut total) = (0.0, 0.0);
    for (i, &v) in values.band(0).iter().enumerate() {
        let (px, py) = ((i % w) as f64 + 0.5, (i / w) as f64 + 0.5);
        total += v as f64;
        if disks.iter().any(|&(x, y, r)| (px - x).hypot(py - y) <= r) {
            inside += v as f64;
        }
    }
    assert!(total > 0.0);
    assert!(inside / total >= 0.7, "{:.3} of the map's mass on the shrubs", inside / total);
}

/// A heatmap network is explained by the gradient of each peak's score,
/// on the raster's grid even where detect resampled it (0.1 m to 0.6 m).
#[test]
fn peak_gradients_of_the_shipped_model_cover_a_resampled_tile() {
    let dir = tempfile::tempdir().unwrap();
    let found = dir.path().join("found");
    let neon = "sample_tiles/neon/OSBS_029.tif";
    let o = rsdetect(&["detect", neon, "--out", s(&found), "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = dir.path().join("why");
    let o = rsdetect(&["explain", "--detections", s(&found), "--out", s(&out), "--top", "2", "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let record: Value = json(&out.join("explain.json"));
    assert!(record["method"].as_str().unwrap().starts_with("score-gradient"), "{record}");
    let explained = record["explained"].as_array().unwrap();
    assert_eq!(explained.len(), 2);
    assert!(explained[0]["score"].as_f64() >= explained[1]["score"].as_f64(), "best first");
    let share = explained[0]["mass_inside"].as_f64().unwrap();
    assert!(share > 0.0 && share < 1.0, "{share}");
    let tile = pipeline::Raster::open(neon).unwrap();
    let map = pipeline::Raster::open(out.join("OSBS_029.explain.tif")).unwrap();
    assert_eq!((map.size(), map.info().geotransform), (tile.size(), tile.info().geotransform));
    let values = map.read_window::<f32>(map.full_window(), &[1]).unwrap();
    let top = values.band(0).iter().copied().fold(0.0f32, f32::max);
    assert!((top - 1.0).abs() < 1e-6, "maps are scaled to 1 at their strongest: {top}");
}

/// A patch classifier classifying candidates under `--tta` scores each
/// patch in its 8 flips and rotations: every detection carries `score_sd`.
#[test]
fn a_patch_classifier_gives_its_detections_an_uncertainty_too() {
    let dir = tempfile::tempdir().unwrap();
    let o = detect(&[SCENE], dir.path(), &["--mode", "candidates", "--tta"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let geojson = json(&dir.path().join("shrubs_512.geojson"));
    let features = geojson["features"].as_array().unwrap();
    assert!(features.len() >= 30, "{}", features.len());
    for f in features {
        let sd = f["properties"]["score_sd"].as_f64().unwrap();
        assert!((0.0..0.5).contains(&sd), "{sd}");
    }
}

/// Output files named inside folders that do not exist yet are written
/// there, as users type them.
#[test]
fn outputs_go_into_folders_that_do_not_exist_yet() {
    let dir = tempfile::tempdir().unwrap();
    let windows = dir.path().join("a/b/next.gpkg");
    let o = rsdetect(&["suggest", SCENE, "-k", "2", "--out", s(&windows), "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(windows.exists());
    let candidates = dir.path().join("c/d/candidates.geojson");
    let o = rsdetect(&["candidates", SCENE, "--out", s(&candidates)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(candidates.exists());
}
