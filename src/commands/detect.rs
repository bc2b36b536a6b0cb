//! `rsdetect detect`: folders of imagery in, detections a GIS opens out.
//! Each input gets NAME.geojson (written atomically, skipped on rerun unless
//! --force); detections.geojson merges them from those files, so it comes
//! out the same whether a run was interrupted and resumed or not.

use crate::cli::{CrsArg, DetectArgs, OgrFormatArg};
use crate::commands::Status;
use anyhow::{Context, Result};
use detection::classify::PatchClassifier;
use detection::formats::detect_config::Config;
use detection::formats::run::{InputRecord, InputStatus, RunFile, RunModel, Totals, RUN_VERSION};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use models::TchClassifier;
use pipeline::detect::detect_raster;
use pipeline::export::{self, FeatureCrs, OgrFormat, OutputCrs};
use rsdetect::outputs::{fnv1a, merge_outputs, output_names, remove_stale_temporaries, write_run, MERGED};
use std::path::PathBuf;
use std::time::Instant;

/// Runs detection over every input.
pub fn run(args: &DetectArgs) -> Result<Status> {
    let start = Instant::now();
    let mut config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(mode) = args.mode {
        config.mode = Some(mode.into());
    }
    if args.score_threshold.is_some() {
        config.score_threshold = args.score_threshold;
    }
    if args.tta {
        config.tta = Some(true);
    }
    let model_path = super::model_path(args.model.as_deref())?;
    // As the user named it, for the fixes messages give.
    let model_name = args.model.as_deref().map_or("default".into(), |m| m.display().to_string());
    let mut classifier = TchClassifier::load(&model_path, args.device)?;
    if let Some(on) = config.tta {
        classifier.set_tta(on);
    }
    // bf16 changed val_socal's F1 by +0.0008 (bench/README.md), so it is the
    // default wherever the hardware runs it natively.
    match config.reduced_precision {
        Some(on) => classifier.set_reduced_precision(on),
        None if models::cpu_has_bf16() => classifier.set_reduced_precision(true),
        None => {}
    }
    let mut opts = config.resolve(classifier.spec())?;
    opts.declare(args.declared.declared());
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
    if let Err(e) = ctrlc::set_handler(|| {
        if pipeline::interrupt::requested() {
            std::process::exit(130);
        }
        pipeline::interrupt::request();
    }) {
        tracing::warn!("Ctrl-C will stop at once, not after the batch in hand: {e}");
    }
    let (mut paths, missing) = rsdetect::outputs::select_rasters(&args.inputs, &args.list)?;
    super::check_bounds(&paths, &opts.declared())?;
    if let Some(sh) = args.shard {
        paths.retain(|p| fnv1a(&p.to_string_lossy()) % sh.n == sh.k);
    }
    let mut records: Vec<InputRecord> = missing
        .iter()
        .map(|e| InputRecord {
            path: PathBuf::new(),
            output: None,
            status: InputStatus::Failed,
            error: Some(e.to_string()),
            notes: vec![],
            stats: None,
            applicability: None,
        })
        .collect();
    for e in &missing {
        eprintln!("error: {e}");
    }
    let names = output_names(&paths);
    let bars = MultiProgress::new();
    let overall = bars.add(super::rasters_bar("detect", paths.len()));
    for (path, name) in paths.iter().zip(&names) {
        if pipeline::interrupt::requested() {
            break;
        }
        let geojson = args.out.join(format!("{name}.geojson"));
        let mut record = InputRecord {
            path: path.clone(),
            output: Some(format!("{name}.geojson")),
            status: InputStatus::Done,
            error: None,
            notes: vec![],
            stats: None,
            applicability: None,
        };
        if geojson.exists() && !args.force {
            record.status = InputStatus::Skipped;
            record.notes.push("output exists (use --force to redo it)".into());
            tracing::info!("{}: skipped, {} exists", path.display(), geojson.display());
            records.push(record);
            overall.inc(1);
            continue;
        }
        // A raster that cannot be opened fails in detect_raster, with the reason.
        if let Ok(raster) = pipeline::Raster::open_declared(path, &opts.declared()) {
            match pipeline::applicability::check(&raster, classifier.spec(), &model_name) {
                Ok(fit) => {
                    for w in &fit.warnings {
                        bars.suspend(|| tracing::warn!("{}: {w}", path.display()));
                    }
                    record.applicability = Some(fit);
                }
                Err(e) => tracing::warn!("{}: fit to the model not checked: {e}", path.display()),
            }
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
            match set.crs {
                FeatureCrs::Pixel => tracing::warn!(
                    "{}: not georeferenced; {name}.geojson is in pixel coordinates (x = column, y = -row)",
                    path.display()
                ),
                FeatureCrs::MapUnits => {
                    tracing::warn!("{}: no CRS; {name}.geojson is in the map units of its geotransform", path.display())
                }
                _ => {}
            }
            for f in &formats {
                export::write_ogr(&args.out.join(format!("{name}.{}", f.extension())), *f, &set)?;
            }
            if args.quicklook {
                let raster = pipeline::Raster::open_declared(path, &opts.declared())?;
                pipeline::quicklook::quicklook(&raster, &r.detections, &class, &args.out.join(format!("{name}.png")))?;
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
                record.status = InputStatus::Failed;
                record.error = Some(format!("{e:#}"));
            }
        }
        records.push(record);
        overall.inc(1);
    }
    overall.finish_and_clear();

    let outputs: Vec<(PathBuf, PathBuf)> = records
        .iter()
        .filter(|r| r.status != InputStatus::Failed)
        .filter_map(|r| Some((r.path.clone(), args.out.join(r.output.as_ref()?))))
        .collect();
    let merged = merge_outputs(outputs)?;
    export::write_atomic(&args.out.join(format!("{MERGED}.geojson")), export::geojson(&merged).as_bytes())?;
    for f in &formats {
        export::write_ogr(&args.out.join(format!("{MERGED}.{}", f.extension())), *f, &merged)?;
    }
    let failed = records.iter().filter(|r| r.status == InputStatus::Failed).count();
    let interrupted = pipeline::interrupt::requested();
    let run = RunFile {
        version: RUN_VERSION,
        rsdetect: env!("CARGO_PKG_VERSION").into(),
        model: Some(RunModel { path: model_path, describe: classifier.describe(), meta: classifier.meta().clone() }),
        device: Some(classifier.device()),
        config: Some(opts),
        crs: Some(format!("{:?}", args.crs).to_lowercase()),
        shard: args.shard.map(|sh| format!("{}/{}", sh.k, sh.n)),
        merged_from: None,
        formats: formats.iter().map(|f| f.extension().to_owned()).collect(),
        totals: Totals { inputs: records.len(), failed, detections: merged.features.len() },
        interrupted: interrupted.then(|| format!("after {} of {} rasters", records.len(), paths.len() + missing.len())),
        seconds: Some(start.elapsed().as_secs_f64()),
        inputs: records,
    };
    write_run(&args.out, &run)?;
    let records = &run.inputs;
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
            records.iter().filter(|r| r.status != InputStatus::Failed).count(),
            paths.len()
        );
        return Ok(Status::Interrupted);
    }
    Ok(Status::of(failed, merged.features.len()))
}
