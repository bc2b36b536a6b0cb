//! The merge stage as one call: the outputs of `detect --shard K/N` runs
//! combined into the files one run over all inputs would write.

use crate::error::{chain, Error, Result};
use crate::outputs::{merge_outputs, output_names, outputs_of, read_run, write_run, MERGED};
use detection::formats::run::{InputRecord, InputStatus, RunFile, Totals, RUN_VERSION};
use pipeline::export::{self, OgrFormat};
use std::path::{Path, PathBuf};

/// What a merge wrote.
pub struct Merged {
    /// run.json of the merged folder.
    pub run: RunFile,
    /// The merged GeoJSON file.
    pub file: PathBuf,
}

/// Copies every shard folder's per-input files into `out` (in every format
/// the shards wrote) and writes the merged files and run.json.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged> {
    let mut inputs: Vec<(PathBuf, PathBuf)> = Vec::new();
    // Every format a shard wrote besides GeoJSON is written here too.
    let mut formats: Vec<OgrFormat> = Vec::new();
    // The shards' options, when they agree (shards of one run do): what
    // evaluate and explain read back, such as --input-gsd and --bounds.
    let mut configs = Vec::new();
    for dir in dirs {
        inputs.extend(outputs_of(dir).map_err(|e| Error::File {
            path: dir.clone(),
            reason: format!("not a detect output folder: {}", chain(&e)),
        })?);
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
    std::fs::create_dir_all(out)
        .map_err(|e| Error::File { path: out.to_owned(), reason: format!("cannot create the output folder: {e}") })?;
    let paths: Vec<PathBuf> = inputs.iter().map(|(p, _)| p.clone()).collect();
    let names = output_names(&paths);
    let mut copied = Vec::new();
    for ((path, file), name) in inputs.iter().zip(&names) {
        let to = out.join(format!("{name}.geojson"));
        if *file != to {
            let bytes = std::fs::read(file)
                .map_err(|e| Error::File { path: file.clone(), reason: format!("cannot read: {e}") })?;
            export::write_atomic(&to, &bytes)?;
        }
        if !formats.is_empty() {
            let set = export::read_geojson(&to)?;
            for f in &formats {
                export::write_ogr(&out.join(format!("{name}.{}", f.extension())), *f, &set)?;
            }
        }
        copied.push((path.clone(), to));
    }
    let merged = merge_outputs(copied)?;
    let merged_file = out.join(format!("{MERGED}.geojson"));
    export::write_atomic(&merged_file, export::geojson(&merged).as_bytes())?;
    for f in &formats {
        export::write_ogr(&out.join(format!("{MERGED}.{}", f.extension())), *f, &merged)?;
    }
    let run = RunFile {
        version: RUN_VERSION,
        rsdetect: env!("CARGO_PKG_VERSION").into(),
        model: None,
        device: None,
        config: configs.first().cloned().flatten().filter(|c| configs.iter().all(|o| o.as_ref() == Some(c))),
        crs: None,
        shard: None,
        merged_from: Some(dirs.to_vec()),
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
    write_run(out, &run)?;
    Ok(Merged { run, file: merged_file })
}
