//! `rsdetect detect`: folders of imagery in, detections a GIS opens out.
//! Each input gets NAME.geojson (written atomically, skipped on rerun unless
//! --force); detections.geojson merges them from those files, so it comes
//! out the same whether a run was interrupted and resumed or not.

use crate::classifier::{default_model, TchClassifier};
use crate::cli::{CrsArg, DetectArgs, OgrFormatArg};
use crate::commands::Status;
use crate::config::Config;
use anyhow::{bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use pipeline::detect::{detect_raster, Stats};
use pipeline::export::{self, FeatureCrs, FeatureSet, OgrFormat, OutputCrs};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The merged file's name; inputs with this stem get a suffix.
const MERGED: &str = "detections";

/// What happened to one input, for run.json.
struct Record {
    path: PathBuf,
    name: String,
    status: &'static str,
    error: Option<String>,
    stats: Option<Stats>,
    notes: Vec<String>,
}

/// Runs detection over every input.
pub fn run(args: &DetectArgs) -> Result<Status> {
    let start = Instant::now();
    let mut config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if args.mode.is_some() {
        config.mode = args.mode;
    }
    if args.score_threshold.is_some() {
        config.score_threshold = args.score_threshold;
    }
    let model_path = args.model.clone().unwrap_or_else(default_model);
    if !model_path.exists() {
        bail!("{}: no such model file; pass --model FILE, or train one with `rsdetect train`", model_path.display());
    }
    let mut classifier = TchClassifier::load(&model_path, args.device)?;
    if let Some(on) = config.tta {
        classifier.set_tta(on);
    }
    let mut opts = config.resolve(pipeline::classify::PatchClassifier::spec(&classifier))?;
    opts.input_gsd_m = args.input_gsd;
    let class = classifier.meta().classes[classifier.meta().positive].clone();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output folder (choose another --out)", args.out.display()))?;
    remove_stale_temporaries(&args.out);
    let crs = match args.crs {
        CrsArg::Wgs84 => OutputCrs::Wgs84,
        CrsArg::Native => OutputCrs::Native,
    };
    let formats: Vec<OgrFormat> = args
        .format
        .iter()
        .map(|f| match f {
            OgrFormatArg::Gpkg => OgrFormat::Gpkg,
            OgrFormatArg::Shp => OgrFormat::Shp,
        })
        .collect();

    // Ctrl-C: finish the batch in hand, keep every finished raster, say how
    // to resume; a second Ctrl-C stops at once.
    let _ = ctrlc::set_handler(|| {
        if pipeline::interrupt::requested() {
            std::process::exit(130);
        }
        pipeline::interrupt::request();
    });
    let (mut paths, missing) = crate::commands::select_rasters(&args.inputs, args.list.as_deref())?;
    if let Some(sh) = args.shard {
        paths.retain(|p| fnv1a(&p.to_string_lossy()) % sh.n == sh.k);
    }
    let mut records: Vec<Record> = missing
        .iter()
        .map(|e| Record {
            path: PathBuf::new(),
            name: String::new(),
            status: "failed",
            error: Some(e.to_string()),
            stats: None,
            notes: vec![],
        })
        .collect();
    for e in &missing {
        eprintln!("error: {e}");
    }
    let names = output_names(&paths);
    let bars = MultiProgress::new();
    let overall = bars.add(ProgressBar::new(paths.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} rasters {elapsed}")
            .expect("template")
            .progress_chars("=> "),
    );
    overall.set_prefix("detect");
    for (path, name) in paths.iter().zip(&names) {
        if pipeline::interrupt::requested() {
            break;
        }
        let geojson = args.out.join(format!("{name}.geojson"));
        let mut record =
            Record { path: path.clone(), name: name.clone(), status: "done", error: None, stats: None, notes: vec![] };
        if geojson.exists() && !args.force {
            record.status = "skipped";
            record.notes.push("output exists (use --force to redo it)".into());
            tracing::info!("{}: skipped, {} exists", path.display(), geojson.display());
            records.push(record);
            overall.inc(1);
            continue;
        }
        let bar = bars.insert_before(&overall, ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} tiles {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        bar.set_prefix(name.clone());
        let outcome = detect_raster(path, &mut classifier, &opts, &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .map_err(anyhow::Error::from)
        .and_then(|r| {
            let set = export::features(&r, &class, crs)?;
            if set.crs == FeatureCrs::Pixel {
                tracing::warn!(
                    "{}: not georeferenced; {name}.geojson is in pixel coordinates (x = column, y = -row)",
                    path.display()
                );
            }
            for f in &formats {
                export::write_ogr(&args.out.join(format!("{name}.{}", f.extension())), *f, &set)?;
            }
            if args.quicklook {
                let raster = pipeline::Raster::open(path)?;
                pipeline::quicklook::quicklook(&raster, &r.detections, &args.out.join(format!("{name}.png")))?;
            }
            // Last: its presence marks the raster finished, for resuming.
            export::write_atomic(&geojson, export::geojson(&set).as_bytes())?;
            Ok(r)
        });
        bar.finish_and_clear();
        match outcome {
            Ok(r) => {
                for n in &r.notes {
                    tracing::warn!("{}: {n}", path.display());
                }
                tracing::info!(
                    "{}: {} detections in {:.1} s",
                    path.display(),
                    r.stats.detections,
                    r.stats.seconds.total
                );
                record.stats = Some(r.stats);
                record.notes = r.notes;
            }
            Err(_) if pipeline::interrupt::requested() => {
                // Nothing of this raster was written; the rerun redoes it.
                overall.inc(1);
                break;
            }
            Err(e) => {
                bars.suspend(|| eprintln!("error: {e:#}"));
                record.status = "failed";
                record.error = Some(format!("{e:#}"));
            }
        }
        records.push(record);
        overall.inc(1);
    }
    overall.finish_and_clear();

    let outputs: Vec<(PathBuf, PathBuf)> = records
        .iter()
        .filter(|r| r.status != "failed")
        .map(|r| (r.path.clone(), args.out.join(format!("{}.geojson", r.name))))
        .collect();
    let merged = merge_outputs(outputs)?;
    export::write_atomic(&args.out.join(format!("{MERGED}.geojson")), export::geojson(&merged).as_bytes())?;
    for f in &formats {
        export::write_ogr(&args.out.join(format!("{MERGED}.{}", f.extension())), *f, &merged)?;
    }
    let failed = records.iter().filter(|r| r.status == "failed").count();
    let interrupted = pipeline::interrupt::requested();
    let run = json!({
        "rsdetect": env!("CARGO_PKG_VERSION"),
        "model": {"path": model_path, "describe": pipeline::classify::PatchClassifier::describe(&classifier), "meta": classifier.meta()},
        "device": classifier.device(),
        "config": opts,
        "crs": format!("{:?}", args.crs).to_lowercase(),
        "shard": args.shard.map(|sh| format!("{}/{}", sh.k, sh.n)),
        "inputs": records.iter().map(|r| json!({
            "path": r.path, "output": if r.name.is_empty() { None } else { Some(format!("{}.geojson", r.name)) },
            "status": r.status, "error": r.error, "notes": r.notes, "stats": r.stats,
        })).collect::<Vec<_>>(),
        "totals": {"inputs": records.len(), "failed": failed, "detections": merged.features.len()},
        "interrupted": interrupted.then(|| format!("after {} of {} rasters", records.len(), paths.len() + missing.len())),
        "seconds": start.elapsed().as_secs_f64(),
    });
    export::write_atomic(&args.out.join("run.json"), serde_json::to_string_pretty(&run)?.as_bytes())?;
    eprintln!(
        "{} raster(s), {} failed, {} detections -> {}",
        records.len(),
        failed,
        merged.features.len(),
        args.out.join(format!("{MERGED}.geojson")).display()
    );
    if interrupted {
        eprintln!(
            "interrupted: {} of {} rasters finished; rerun the same command to resume (finished rasters are skipped)",
            records.iter().filter(|r| r.status != "failed").count(),
            paths.len()
        );
        return Ok(Status::Interrupted);
    }
    Ok(if failed > 0 {
        Status::Error
    } else if merged.features.is_empty() {
        Status::NothingFound
    } else {
        Status::Ok
    })
}

/// The features of every input's output file, inputs ordered by path (so
/// one run and merged shards write the same file), read back from those
/// files. Inputs in another CRS than the first are left out (with a
/// warning): one file holds one CRS.
pub fn merge_outputs(mut outputs: Vec<(PathBuf, PathBuf)>) -> Result<FeatureSet> {
    outputs.sort();
    let mut merged: Option<FeatureSet> = None;
    for (path, file) in &outputs {
        let set = export::read_geojson(file)?;
        match &mut merged {
            None => merged = Some(set),
            Some(m) if m.crs == set.crs => m.features.extend(set.features),
            Some(_) => tracing::warn!(
                "{}: left out of {MERGED}.geojson, which is in another CRS; see {}",
                path.display(),
                file.display()
            ),
        }
    }
    Ok(merged.unwrap_or(FeatureSet { crs: FeatureCrs::Wgs84, features: vec![] }))
}

/// The rasters detect processed and the GeoJSON file holding each one's
/// detections: from run.json in an output folder, or a file's `source`s.
pub fn outputs_of(detections: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    if detections.is_dir() {
        let run = detections.join("run.json");
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(&run)
                .with_context(|| format!("{}: not a detect output folder (no run.json)", detections.display()))?,
        )?;
        let mut out = Vec::new();
        for input in v["inputs"].as_array().context("run.json lists no inputs")? {
            if let (Some(path), Some(file), Some(status)) =
                (input["path"].as_str(), input["output"].as_str(), input["status"].as_str())
            {
                if status != "failed" {
                    out.push((PathBuf::from(path), detections.join(file)));
                }
            }
        }
        Ok(out)
    } else {
        let set = pipeline::export::read_geojson(detections)?;
        let mut seen: Vec<PathBuf> = set.features.iter().map(|f| PathBuf::from(&f.source)).collect();
        seen.sort();
        seen.dedup();
        Ok(seen.into_iter().map(|p| (p, detections.to_owned())).collect())
    }
}

/// Removes the hidden temporary files (`.NAME.PID.tmp`) a killed run left
/// in `dir`, unless their process still runs.
fn remove_stale_temporaries(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else { continue };
        let Some(pid) = rest.rsplit('.').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let p = entry.path();
            let _ = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
            tracing::info!("removed {}, left by an interrupted run", p.display());
        }
    }
}

/// FNV-1a: stable across runs and platforms, unlike std's hasher.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// One output name per input: its file stem, made unique with a short hash
/// of the path when two inputs share a stem (or a stem is taken).
pub fn output_names(paths: &[PathBuf]) -> Vec<String> {
    let stem = |p: &PathBuf| p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "raster".into());
    let mut count: HashMap<String, usize> = HashMap::new();
    for p in paths {
        *count.entry(stem(p)).or_default() += 1;
    }
    paths
        .iter()
        .map(|p| {
            let s = stem(p);
            if count[&s] > 1 || s == MERGED || s == "run" {
                // FNV-1a: stable across runs and platforms, unlike std's hasher.
                let h = p
                    .to_string_lossy()
                    .bytes()
                    .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
                format!("{s}-{:08x}", h as u32)
            } else {
                s
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_stems_are_made_unique() {
        let paths: Vec<PathBuf> =
            ["a/x.tif", "b/x.tif", "c/y.tif", "d/detections.tif"].iter().map(PathBuf::from).collect();
        let names = output_names(&paths);
        assert_eq!(names[2], "y");
        assert!(names[0].starts_with("x-") && names[1].starts_with("x-") && names[0] != names[1]);
        assert!(names[3].starts_with("detections-"));
        assert_eq!(output_names(&paths), names);
    }
}
