//! Interrupted runs lose nothing: `detect` killed with SIGKILL at moments
//! spread over a run, then rerun, or stopped with Ctrl-C, ends with the same
//! merged file, byte for byte, as a run never interrupted. Real rasters: the
//! NAIP validation tiles when ../shared is present, else copies of the
//! sample tiles.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rsdetect() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rsdetect"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Detect's inputs as arguments, and how many rasters they name.
fn inputs(scratch: &Path) -> (Vec<String>, usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let urban = root.join("../shared/data/urban-trees");
    if urban.join("val_socal.txt").exists() {
        // The first 12 validation tiles, read in place.
        let names: Vec<String> = std::fs::read_to_string(urban.join("val_socal.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(12)
            .map(str::to_owned)
            .collect();
        let list = scratch.join("tiles.txt");
        std::fs::write(&list, names.join("\n")).unwrap();
        let args = [urban.join("images"), "--list".into(), list];
        return (args.iter().map(|p| p.to_string_lossy().into_owned()).collect(), names.len());
    }
    eprintln!("../shared/data is absent: interrupting runs over copies of the sample tiles instead");
    let dir = scratch.join("inputs");
    std::fs::create_dir_all(&dir).unwrap();
    let tiles = ["sample_tiles/synthetic/shrubs_512.tif", "sample_tiles/neon/OSBS_029.tif"];
    for i in 0..6 {
        for t in tiles {
            let name = format!("{i}_{}", Path::new(t).file_name().unwrap().to_string_lossy());
            std::fs::copy(root.join(t), dir.join(name)).unwrap();
        }
    }
    (vec![dir.to_string_lossy().into_owned()], 12)
}

/// Rasters whose output is written in `out`.
fn finished(out: &Path) -> usize {
    std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".geojson") && !name.starts_with('.') && name != "detections.geojson"
        })
        .count()
}

/// One detect run over `inputs` into `out`, started (not waited for).
fn start(inputs: &[String], out: &Path, config: &Path) -> std::process::Child {
    rsdetect()
        .arg("detect")
        .args(inputs)
        .args(["--out", &out.to_string_lossy(), "--config", &config.to_string_lossy(), "--device", "cpu"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A config scoring without test-time augmentation, to keep runs short.
fn config(scratch: &Path) -> PathBuf {
    let p = scratch.join("fast.toml");
    std::fs::write(&p, "tta = false\n").unwrap();
    p
}

#[test]
fn killed_runs_resume_to_the_same_merged_file() {
    let scratch = tempfile::tempdir().unwrap();
    let (args, n) = inputs(scratch.path());
    let config = config(scratch.path());
    let reference = scratch.path().join("reference");
    let t0 = Instant::now();
    let o = start(&args, &reference, &config).wait_with_output().unwrap();
    assert!(o.status.code() == Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let full = t0.elapsed().as_secs_f64();
    let expected = std::fs::read(reference.join("detections.geojson")).unwrap();

    // Ten kills spread over a run: after k of the n rasters are finished
    // (k rising with the round), a fixed pseudo-random part of the way
    // through the next one. Waiting on progress, not on the clock, keeps
    // the kills inside the run however loaded the machine is.
    let per_raster = full / n as f64;
    let mut x = 0x2545_f491u64;
    let mut killed_mid_run = 0;
    for round in 0..10 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let fraction = (x >> 33) as f64 / (1u64 << 31) as f64;
        let finished_before = round * (n - 1) / 10;
        let out = scratch.path().join(format!("killed-{round}"));
        let mut child = start(&args, &out, &config);
        while finished(&out) < finished_before && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_secs_f64(per_raster * fraction * 0.5));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        // A killed run leaves whole files only (and perhaps a hidden
        // temporary one, which the rerun removes).
        for entry in std::fs::read_dir(&out).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(!name.ends_with(".tmp") || name.starts_with('.'), "round {round}: {name}");
            if name.ends_with(".geojson") {
                let text = std::fs::read_to_string(entry.path()).unwrap();
                assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "round {round}: {name} is partial");
            }
        }
        let o = start(&args, &out, &config).wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "round {round}: {}", String::from_utf8_lossy(&o.stderr));
        let left: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "round {round}: temporary files left: {left:?}");
        assert_eq!(
            std::fs::read(out.join("detections.geojson")).unwrap(),
            expected,
            "round {round} (killed after {finished_before} of {n} rasters)"
        );
    }
    assert!(killed_mid_run >= 8, "only {killed_mid_run} of 10 kills landed mid-run");
}

#[test]
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let scratch = tempfile::tempdir().unwrap();
    let (args, n) = inputs(scratch.path());
    let config = config(scratch.path());
    let out = scratch.path().join("out");
    let child = start(&args, &out, &config);
    // Once the first raster is written, interrupt.
    let t0 = Instant::now();
    while std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0) == 0 && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted:") && err.contains("rerun the same command to resume"), "{err}");
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(run["interrupted"].as_str().unwrap().starts_with("after"), "{run}");
    let finished = run["inputs"].as_array().unwrap().len();
    assert!(finished < n, "{finished} of {n} finished before the interrupt took effect");
    let o = start(&args, &out, &config).wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let skipped = run["inputs"].as_array().unwrap().iter().filter(|i| i["status"] == "skipped").count();
    assert_eq!(skipped, finished, "the rerun redid finished rasters");
}
