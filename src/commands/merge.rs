//! `rsdetect merge`: the outputs of `detect --shard K/N` runs combined into
//! the files one run over all inputs would write.

use crate::cli::MergeArgs;
use crate::commands::Status;
use anyhow::{Context, Result};
use detection::formats::run::{InputRecord, InputStatus, RunFile, Totals, RUN_VERSION};
use pipeline::export::{self, OgrFormat};
use rsdetect::outputs::{merge_outputs, output_names, outputs_of, read_run, write_run, MERGED};
use std::path::PathBuf;

/// Copies every shard's per-input files and writes the merged file.
pub fn run(args: &MergeArgs) -> Result<Status> {
    let mut inputs: Vec<(PathBuf, PathBuf)> = Vec::new();
    // Every format a shard wrote besides GeoJSON is written here too.
    let mut formats: Vec<OgrFormat> = Vec::new();
    // The shards' options, when they agree (shards of one run do): what
    // evaluate and explain read back, such as --input-gsd and --bounds.
    let mut configs = Vec::new();
    for dir in &args.dirs {
        inputs.extend(outputs_of(dir).with_context(|| format!("{}: not a detect output folder", dir.display()))?);
        let run = read_run(dir)?;
        configs.push(run.config);
        for f in run.formats.iter().filter_map(|f| OgrFormat::of_extension(f)) {
            if !formats.contains(&f) {
                formats.push(f);
            }
        }
    }
    formats.sort_by_key(|f| f.extension());
    inputs.sort();
    inputs.dedup_by(|a, b| a.0 == b.0);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output folder", args.out.display()))?;
    let paths: Vec<PathBuf> = inputs.iter().map(|(p, _)| p.clone()).collect();
    let names = output_names(&paths);
    let mut copied = Vec::new();
    for ((path, file), name) in inputs.iter().zip(&names) {
        let to = args.out.join(format!("{name}.geojson"));
        if *file != to {
            let bytes = std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
            export::write_atomic(&to, &bytes)?;
        }
        if !formats.is_empty() {
            let set = export::read_geojson(&to)?;
            for f in &formats {
                export::write_ogr(&args.out.join(format!("{name}.{}", f.extension())), *f, &set)?;
            }
        }
        copied.push((path.clone(), to));
    }
    let merged = merge_outputs(copied)?;
    let merged_file = args.out.join(format!("{MERGED}.geojson"));
    export::write_atomic(&merged_file, export::geojson(&merged).as_bytes())?;
    for f in &formats {
        export::write_ogr(&args.out.join(format!("{MERGED}.{}", f.extension())), *f, &merged)?;
    }
    let run = RunFile {
        version: RUN_VERSION,
        rsdetect: env!("CARGO_PKG_VERSION").into(),
        model: None,
        device: None,
        config: configs.first().cloned().flatten().filter(|c| configs.iter().all(|o| o.as_ref() == Some(c))),
        crs: None,
        shard: None,
        merged_from: Some(args.dirs.clone()),
        formats: formats.iter().map(|f| f.extension().to_owned()).collect(),
        inputs: paths
            .iter()
            .zip(&names)
            .map(|(p, n)| InputRecord {
                path: p.clone(),
                output: Some(format!("{n}.geojson")),
                status: InputStatus::Done,
                error: None,
                notes: vec![],
                stats: None,
                applicability: None,
            })
            .collect(),
        totals: Totals { inputs: paths.len(), failed: 0, detections: merged.features.len() },
        interrupted: None,
        seconds: None,
    };
    write_run(&args.out, &run)?;
    eprintln!(
        "{} raster(s) from {} folder(s), {} detections -> {}",
        paths.len(),
        args.dirs.len(),
        merged.features.len(),
        merged_file.display()
    );
    Ok(Status::of(0, merged.features.len()))
}
