//! `rsdetect merge`: the outputs of `detect --shard K/N` runs combined into
//! the files one run over all inputs would write.

use crate::cli::MergeArgs;
use crate::commands::detect::{merge_outputs, output_names, outputs_of};
use crate::commands::Status;
use anyhow::{Context, Result};
use pipeline::export;
use serde_json::json;
use std::path::PathBuf;

/// Copies every shard's per-input files and writes the merged file.
pub fn run(args: &MergeArgs) -> Result<Status> {
    let mut inputs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for dir in &args.dirs {
        inputs.extend(outputs_of(dir).with_context(|| format!("{}: not a detect output folder", dir.display()))?);
    }
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
        copied.push((path.clone(), to));
    }
    let merged = merge_outputs(copied)?;
    export::write_atomic(&args.out.join("detections.geojson"), export::geojson(&merged).as_bytes())?;
    let run = json!({
        "rsdetect": env!("CARGO_PKG_VERSION"),
        "merged_from": args.dirs,
        "inputs": paths.iter().zip(&names).map(|(p, n)| json!({"path": p, "output": format!("{n}.geojson"), "status": "done"})).collect::<Vec<_>>(),
        "totals": {"inputs": paths.len(), "failed": 0, "detections": merged.features.len()},
    });
    export::write_atomic(&args.out.join("run.json"), serde_json::to_string_pretty(&run)?.as_bytes())?;
    eprintln!(
        "{} raster(s) from {} folder(s), {} detections -> {}",
        paths.len(),
        args.dirs.len(),
        merged.features.len(),
        args.out.join("detections.geojson").display()
    );
    Ok(if merged.features.is_empty() { Status::NothingFound } else { Status::Ok })
}
