//! The bad-input catalogue, one test each, with real files made in the test:
//! each bad input is reported in one line that names the file and the fix,
//! the exit code is 2, the other inputs are still processed, and nothing
//! partial is left in the output folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENE: &str = "sample_tiles/synthetic/shrubs_512.tif";
const SCENE_LABELS: &str = "sample_tiles/synthetic/shrubs_512.geojson";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rsdetect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rsdetect")).args(args).current_dir(root()).output().unwrap()
}

fn gdal_translate(args: &[&str], out: &Path) {
    let ok = Command::new("gdal_translate").arg("-q").args(args).arg(root().join(SCENE)).arg(out).status().unwrap();
    assert!(ok.success(), "gdal_translate {args:?}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file in `dir` and below, by name.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(files(&e.path()));
        } else {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

/// The error line naming `file`: exactly one, holding every word of `fix`.
fn assert_one_line_error(err: &str, file: &str, fix: &[&str]) {
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:") && l.contains(file)).collect();
    assert_eq!(lines.len(), 1, "one error line naming {file}:\n{err}");
    for word in fix {
        assert!(lines[0].contains(word), "{file}: {word:?} missing from {:?}", lines[0]);
    }
}

/// Detect over a folder holding a good raster and `bad`: exit 2, one error
/// line naming the bad file with `fix`, the good raster done, no output
/// for the bad one, no temporary files.
fn detect_catalogue_case(make: impl FnOnce(&Path), bad: &str, fix: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    std::fs::copy(root().join(SCENE), inputs.join("good.tif")).unwrap();
    make(&inputs.join(bad));
    let out = dir.path().join("out");
    let o = rsdetect(&["detect", s(&inputs), "--out", s(&out), "--device", "cpu"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
    assert_one_line_error(&err, bad, fix);
    let written = files(&out);
    assert!(written.contains(&"good.geojson".to_string()), "{bad}: the good raster was not finished: {written:?}");
    let stem = Path::new(bad).file_stem().unwrap().to_string_lossy().into_owned();
    assert!(!written.iter().any(|f| f.starts_with(&stem) || f.ends_with(".tmp")), "{bad}: partial output {written:?}");
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["totals"]["failed"], 1);
}

#[test]
fn truncated_geotiff() {
    detect_catalogue_case(
        |p| {
            let bytes = std::fs::read(root().join(SCENE)).unwrap();
            std::fs::write(p, &bytes[..bytes.len() / 3]).unwrap();
        },
        "truncated.tif",
        &["truncated or corrupt", "gdalinfo -checksum"],
    );
}

#[test]
fn a_text_file_named_tif() {
    detect_catalogue_case(
        |p| std::fs::write(p, "station,lat,lon\n").unwrap(),
        "notes.tif",
        &["not a raster GDAL can read", "gdalinfo"],
    );
}

#[test]
fn one_band_and_two_band_rasters_for_an_rgb_model() {
    for bands in [&["-b", "1"][..], &["-b", "1", "-b", "2"]] {
        let name = format!("{}band.tif", bands.len() / 2);
        detect_catalogue_case(
            |p| gdal_translate(bands, p),
            &name,
            &[&format!("has {} band(s) but the model reads bands [1, 2, 3]", bands.len() / 2), "model trained on"],
        );
    }
}

#[test]
fn sixteen_bit_and_float_imagery() {
    for (t, name) in [("UInt16", "uint16.tif"), ("Float32", "float.tif")] {
        detect_catalogue_case(
            |p| gdal_translate(&["-ot", t, "-scale", "0", "255", "0", "1000"], p),
            name,
            &[&format!("{t} imagery, but the model was trained on Byte"), "gdal_translate -ot Byte -scale"],
        );
    }
}

#[test]
fn an_all_nodata_raster() {
    detect_catalogue_case(
        |p| gdal_translate(&["-a_nodata", "0", "-scale", "0", "255", "0", "0"], p),
        "empty.tif",
        &["no pixel holds data (nodata value 0)", "gdal_edit.py -unsetnodata"],
    );
}

#[test]
fn a_raster_without_georeferencing_is_read_in_pixels() {
    // Not an error: Google Earth screenshots have none. The warning says how
    // to add it, and the output says its coordinates are pixels.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("screenshot.png");
    gdal_translate(&["-of", "PNG"], &png);
    let _ = std::fs::remove_file(dir.path().join("screenshot.png.aux.xml"));
    let out = dir.path().join("out");
    let o = rsdetect(&["detect", s(&png), "--out", s(&out), "--input-gsd", "0.5", "--device", "cpu"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert!(stderr(&o).contains("screenshot.png: not georeferenced"), "{}", stderr(&o));
}

/// Detections of the good scene, made once per test that needs them.
fn detections(dir: &Path) -> PathBuf {
    let out = dir.join("det");
    let o = rsdetect(&["detect", SCENE, "--out", s(&out), "--device", "cpu"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    out
}

fn evaluate_error(labels: &Path, fix: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let det = detections(dir.path());
    let report = dir.path().join("eval.json");
    let o = rsdetect(&["evaluate", "--detections", s(&det), "--labels", s(labels), "--out", s(&report)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_one_line_error(&err, &labels.file_name().unwrap().to_string_lossy(), fix);
    assert!(!report.exists(), "a report despite the error");
}

#[test]
fn labels_that_are_empty_invalid_lines_or_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.geojson");
    std::fs::write(&empty, "").unwrap();
    evaluate_error(&empty, &["the file is empty"]);
    let invalid = dir.path().join("invalid.geojson");
    std::fs::write(&invalid, "{\"type\": \"FeatureCollection\", \"features\": [").unwrap();
    evaluate_error(&invalid, &["not valid JSON", "line 1"]);
    let lines = dir.path().join("lines.geojson");
    std::fs::write(
        &lines,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[-3.7,40.4],[-3.6,40.5]]}}]}"#,
    )
    .unwrap();
    evaluate_error(&lines, &["is a line", "points", "polygons"]);
    // Points in the Atlantic, far from the scene.
    let elsewhere = dir.path().join("elsewhere.geojson");
    std::fs::write(
        &elsewhere,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[-30.0,30.0]}}]}"#,
    )
    .unwrap();
    evaluate_error(&elsewhere, &["falls inside", "check that the labels' CRS"]);
}

#[test]
fn labels_in_another_crs_are_reprojected() {
    // The same labels in WGS84 and in the scene's UTM zone score the same.
    let dir = tempfile::tempdir().unwrap();
    let det = detections(dir.path());
    let wgs84 = dir.path().join("wgs84.geojson");
    let ok = Command::new("ogr2ogr")
        .args(["-t_srs", "EPSG:4326", s(&wgs84), SCENE_LABELS])
        .current_dir(root())
        .status()
        .unwrap();
    assert!(ok.success());
    let score = |labels: &str| {
        let o = rsdetect(&["evaluate", "--detections", s(&det), "--labels", labels]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).lines().last().unwrap().to_string()
    };
    assert_eq!(score(SCENE_LABELS), score(s(&wgs84)));
}

#[test]
fn configs_with_unknown_keys_or_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, fix) in [
        ("unknown.toml", "tile = 512\nthreshold = 0.5\n", "unknown field `threshold`"),
        ("bad.toml", "score_threshold = 1.5\n", "score_threshold must lie between 0 and 1"),
        ("type.toml", "tile = \"large\"\n", "invalid type"),
    ] {
        let config = dir.path().join(name);
        std::fs::write(&config, text).unwrap();
        let out = dir.path().join(name).with_extension("out");
        let o = rsdetect(&["detect", SCENE, "--out", s(&out), "--config", s(&config), "--device", "cpu"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(fix), "{name}: {}", stderr(&o));
        assert!(files(&out).is_empty(), "{name}: wrote {:?}", files(&out));
    }
}

#[test]
fn model_files_corrupt_or_of_another_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = root().join("models/weights/default.safetensors");
    let corrupt = dir.path().join("corrupt.safetensors");
    let bytes = std::fs::read(&shipped).unwrap();
    std::fs::write(&corrupt, &bytes[..bytes.len() / 2]).unwrap();
    // Another architecture's weights under this model's metadata.
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[8..8 + header_len].to_vec()).unwrap();
    let other = header.replace(r#"\"width\":16"#, r#"\"width\":24"#);
    assert_ne!(other, header, "the shipped model's metadata names its width");
    let mut swapped = (other.len() as u64).to_le_bytes().to_vec();
    swapped.extend(other.as_bytes());
    swapped.extend(&bytes[8 + header_len..]);
    let mismatched = dir.path().join("mismatched.safetensors");
    std::fs::write(&mismatched, swapped).unwrap();
    for (model, fix) in [(&corrupt, "not a model file"), (&mismatched, "weights do not match")] {
        let out = dir.path().join("out");
        let o = rsdetect(&["detect", SCENE, "--out", s(&out), "--model", s(model), "--device", "cpu"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert_one_line_error(&stderr(&o), &model.file_name().unwrap().to_string_lossy(), &[fix]);
        assert!(files(&out).is_empty());
    }
}

#[test]
fn an_output_folder_that_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = file.join("out");
    let o = rsdetect(&["detect", SCENE, "--out", s(&out), "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_one_line_error(&stderr(&o), "a-file/out", &["cannot create the output folder", "choose another --out"]);
}

#[test]
fn a_disk_that_fills_mid_write() {
    // A 192 KB tmpfs holds the first outputs but not the quicklooks.
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=192k", "tmpfs", s(&disk)]).output();
    if !mounted.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: cannot mount a small tmpfs here (needs root): {mounted:?}");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&disk);
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    for i in 0..4 {
        std::fs::copy(root().join(SCENE), inputs.join(format!("scene{i}.tif"))).unwrap();
    }
    let o = rsdetect(&["detect", s(&inputs), "--out", s(&disk), "--quicklook", "--device", "cpu"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("the disk is full; free space, or write elsewhere with --out"), "{err}");
    // What was written is whole: every GeoJSON parses, nothing temporary stays.
    for f in files(&disk) {
        assert!(!f.ends_with(".tmp"), "temporary file left: {f}");
        if f.ends_with(".geojson") {
            let text = std::fs::read_to_string(disk.join(&f)).unwrap();
            assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{f} is partial");
        }
    }
}

#[test]
fn cuda_asked_for_without_a_gpu() {
    let devices: serde_json::Value = serde_json::from_slice(&rsdetect(&["devices", "--json"]).stdout).unwrap();
    if devices["cuda_devices"] != 0 {
        eprintln!("skipped: this machine has a GPU");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = rsdetect(&["detect", SCENE, "--out", s(dir.path()), "--device", "cuda"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--device cpu"), "{}", stderr(&o));
}

/// Every command that reads detect's output says the same of a missing
/// one; suggest names a corrupt raster once and does not claim to have
/// looked at it.
#[test]
fn missing_outputs_and_corrupt_rasters_read_alike_across_commands() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-run");
    for args in [
        vec!["explain", "--detections", s(&missing), "--out", s(&dir.path().join("why"))],
        vec!["evaluate", "--detections", s(&missing), "--labels", SCENE_LABELS],
    ] {
        let o = rsdetect(&args);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(stderr(&o), format!("error: {}: no such file or folder\n", missing.display()), "{args:?}");
    }
    let corrupt = dir.path().join("corrupt.tif");
    std::fs::write(&corrupt, b"not a raster").unwrap();
    let o = rsdetect(&["suggest", s(&corrupt), "--out", s(&dir.path().join("w.gpkg")), "--device", "cpu"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.matches(s(&corrupt)).count(), 1, "{err}");
    assert!(!err.contains("sure everywhere"), "{err}");
}
