//! The stages as Python functions: each builds the library's request from
//! its arguments (the command line's names), runs it without the GIL, and
//! returns Python values (Detections, Model, the report as a dict).

use crate::detections::Detections;
use crate::errors::{config_err, to_py, InputError};
use crate::model::Model;
use crate::options::{declared, detect_config, output_crs, paths};
use crate::progress::PyProgress;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rsdetect::detect::{DetectPlan, DetectRequest, Detector};
use rsdetect::evaluate::EvaluateRequest;
use rsdetect::explain::ExplainRequest;
use rsdetect::suggest::SuggestRequest;
use rsdetect::train::{TrainPlan, TrainRequest};
use std::path::PathBuf;

/// `model="default"` means what the command line means without `--model`.
fn model_arg(model: Option<PathBuf>) -> Option<PathBuf> {
    model.filter(|m| m.as_os_str() != "default")
}

/// A value serialised by the library, as Python dicts and lists.
fn to_python<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| config_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// The detections folder a stage reads: a path, or the folder of a
/// `Detections` that a detect call wrote.
fn detections_folder(obj: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    if let Ok(d) = obj.cast::<Detections>() {
        return d.get().folder().map(PathBuf::from).ok_or_else(|| {
            InputError::new_err(
                "these detections were not written to a folder (an array's): write them with to_geojson, or detect \
                 on the file with rsdetect.detect",
            )
        });
    }
    obj.extract()
}

/// Finds objects in rasters, as `rsdetect detect` does: files, folders,
/// lists, shards; with `out`, a folder the command line would write
/// (resumed when run again, unless `force`).
#[pyfunction]
#[pyo3(signature = (
    inputs, model=None, out=None, *, list=None, shard=None, config=None, device="auto", crs="wgs84",
    formats=None, input_gsd=None, bounds=None, force=false, quicklook=false, errors="raise", progress=None,
    verbose=false, **options
))]
#[allow(clippy::too_many_arguments)]
pub fn detect(
    py: Python<'_>,
    inputs: &Bound<'_, PyAny>,
    model: Option<PathBuf>,
    out: Option<PathBuf>,
    list: Option<&Bound<'_, PyAny>>,
    shard: Option<(u64, u64)>,
    config: Option<PathBuf>,
    device: &str,
    crs: &str,
    formats: Option<Vec<String>>,
    input_gsd: Option<f64>,
    bounds: Option<(f64, f64, f64, f64)>,
    force: bool,
    quicklook: bool,
    errors: &str,
    progress: Option<&Bound<'_, PyAny>>,
    verbose: bool,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Detections> {
    if !matches!(errors, "raise" | "warn") {
        return Err(config_err(format!("errors={errors:?}: \"raise\" (the default) or \"warn\"")));
    }
    if let Some((k, n)) = shard.filter(|(k, n)| k >= n) {
        return Err(config_err(format!("shard=({k}, {n}): k counts from 0 and stays below n")));
    }
    let scratch = match &out {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(|e| InputError::new_err(format!("a temporary folder: {e}")))?),
    };
    let folder = out.clone().unwrap_or_else(|| scratch.as_ref().expect("made above").path().to_owned());
    let request = DetectRequest {
        inputs: paths(Some(inputs))?,
        lists: paths(list)?,
        shard,
        model: model_arg(model),
        config: detect_config(py, config, options)?,
        device: crate::options::device(device)?,
        formats: crate::options::formats(formats)?,
        crs: output_crs(crs)?,
        declared: declared(input_gsd, bounds)?,
        out: folder.clone(),
        force,
        quicklook,
    };
    let mut tell = PyProgress::new(py, progress, verbose)?;
    let done = py.detach(|| DetectPlan::resolve(request).and_then(|plan| plan.run(&mut tell)));
    let failed = tell.finish(py)?;
    let done = done.map_err(to_py)?;
    if !failed.is_empty() && errors == "raise" {
        let found = done.run.totals.detections;
        return Err(InputError::new_err(format!(
            "{}{}",
            failed.join("\n"),
            if found > 0 {
                format!(
                    "\n(the other inputs' {found} detections are in {}; errors=\"warn\" returns them)",
                    folder.display()
                )
            } else {
                String::new()
            }
        )));
    }
    for e in &failed {
        crate::errors::warn(py, e)?;
    }
    Detections::of_folder(py, &folder, &done.merged, failed, scratch)
}

/// Trains a model from labelled rasters, as `rsdetect train` does: from
/// the shipped model unless `init`, `arch` or `config` say otherwise;
/// background only where the labels say (`areas`, or the labels' own
/// hull unless `all_labelled`). Returns the model, loaded.
#[pyfunction]
#[pyo3(signature = (
    images, labels, areas=None, out=None, init=None, *, list=None, val_images=None, val_list=None,
    all_labelled=false, arch=None, config=None, epochs=None, bands=None, device="auto", scratch=false,
    freeze_backbone=false, resume=None, input_gsd=None, bounds=None, gsd=None, calibrate=true, progress=None,
    verbose=true
))]
#[allow(clippy::too_many_arguments)]
pub fn train(
    py: Python<'_>,
    images: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
    areas: Option<&Bound<'_, PyAny>>,
    out: Option<PathBuf>,
    init: Option<PathBuf>,
    list: Option<&Bound<'_, PyAny>>,
    val_images: Option<&Bound<'_, PyAny>>,
    val_list: Option<&Bound<'_, PyAny>>,
    all_labelled: bool,
    arch: Option<String>,
    config: Option<PathBuf>,
    epochs: Option<usize>,
    bands: Option<Vec<usize>>,
    device: &str,
    scratch: bool,
    freeze_backbone: bool,
    resume: Option<PathBuf>,
    input_gsd: Option<f64>,
    bounds: Option<(f64, f64, f64, f64)>,
    gsd: Option<f64>,
    calibrate: bool,
    progress: Option<&Bound<'_, PyAny>>,
    verbose: bool,
) -> PyResult<Model> {
    let Some(out) = out else {
        return Err(config_err("out: name the model file to write (out=\"shrubs.safetensors\")"));
    };
    let choice = crate::options::device(device)?;
    let request = TrainRequest {
        images: paths(Some(images))?,
        labels: paths(Some(labels))?,
        list: paths(list)?,
        val_images: paths(val_images)?,
        val_list: paths(val_list)?,
        out: out.clone(),
        areas: paths(areas)?,
        all_labelled,
        arch,
        config,
        epochs,
        bands,
        device: choice,
        init: model_arg(init),
        scratch,
        freeze_backbone,
        resume,
        declared: declared(input_gsd, bounds)?,
        gsd,
        no_calibrate: !calibrate,
        command: format!("rsdetect.train(out={:?}) from Python", out.display().to_string()),
    };
    let mut tell = PyProgress::new(py, progress, verbose)?;
    let trained = py.detach(|| {
        let plan = TrainPlan::resolve(request, &mut tell)?;
        plan.run(&mut tell)?;
        Detector::load(Some(&out), choice, &Default::default())
    });
    tell.finish(py)?;
    Ok(Model::of(trained.map_err(to_py)?, out.display().to_string()))
}

/// Scores detections (a detect folder, or the `Detections` a detect call
/// wrote) against labels, as `rsdetect evaluate` does; returns the
/// report's fields (and writes the report with its plots to `out`).
#[pyfunction]
#[pyo3(signature = (detections, labels, r#match="distance:6", *, score_threshold=None, sweep=false, out=None))]
pub fn evaluate<'py>(
    py: Python<'py>,
    detections: &Bound<'py, PyAny>,
    labels: &Bound<'py, PyAny>,
    r#match: &str,
    score_threshold: Option<f64>,
    sweep: bool,
    out: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let request = EvaluateRequest {
        detections: detections_folder(detections)?,
        labels: paths(Some(labels))?,
        out,
        rule: r#match.parse().map_err(config_err)?,
        score_threshold,
        sweep,
    };
    let mut failed = Vec::new();
    let evaluation = py.detach(|| rsdetect::evaluate::evaluate(&request, &mut |e| failed.push(e.to_owned())));
    for e in &failed {
        crate::errors::warn(py, e)?;
    }
    to_python(py, &evaluation.map_err(to_py)?.report)
}

/// Where labelling would teach the model most, as `rsdetect suggest`
/// does: the `count` windows it is least sure of, written to `out` (a
/// GeoPackage); returns what was written.
#[pyfunction]
#[pyo3(signature = (inputs, out, model=None, *, count=10, window=256, device="auto", input_gsd=None, bounds=None))]
#[allow(clippy::too_many_arguments)]
pub fn suggest<'py>(
    py: Python<'py>,
    inputs: &Bound<'py, PyAny>,
    out: PathBuf,
    model: Option<PathBuf>,
    count: usize,
    window: usize,
    device: &str,
    input_gsd: Option<f64>,
    bounds: Option<(f64, f64, f64, f64)>,
) -> PyResult<Bound<'py, PyDict>> {
    let request = SuggestRequest {
        inputs: paths(Some(inputs))?,
        model: model_arg(model),
        count,
        window,
        out: out.clone(),
        device: crate::options::device(device)?,
        declared: declared(input_gsd, bounds)?,
    };
    let mut failed = Vec::new();
    let suggested = py.detach(|| rsdetect::suggest::suggest(&request, &mut |e| failed.push(e.to_owned())));
    let suggested = suggested.map_err(to_py)?;
    let facts = PyDict::new(py);
    facts.set_item("path", suggested.windows.gt(&0).then_some(out))?;
    facts.set_item("windows", suggested.windows)?;
    facts.set_item("rasters", suggested.rasters)?;
    facts.set_item("failed", failed)?;
    facts.set_item("model_gsd_m", suggested.model_gsd_m)?;
    Ok(facts)
}

/// Why the model decided, as `rsdetect explain` does: for the chosen
/// detections of a detect folder, the map of pixels their scores rest on
/// (a GeoTIFF on the raster's grid and a PNG per raster, in `out`);
/// returns the record written beside them.
#[pyfunction]
#[pyo3(signature = (
    detections, out, model=None, *, ids=None, min_score=None, max_score=None, top=None, bottom=None, all=false,
    device="auto", progress=None
))]
#[allow(clippy::too_many_arguments)]
pub fn explain<'py>(
    py: Python<'py>,
    detections: &Bound<'py, PyAny>,
    out: PathBuf,
    model: Option<PathBuf>,
    ids: Option<Vec<usize>>,
    min_score: Option<f64>,
    max_score: Option<f64>,
    top: Option<usize>,
    bottom: Option<usize>,
    all: bool,
    device: &str,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let request = ExplainRequest {
        detections: detections_folder(detections)?,
        out,
        model: model_arg(model),
        ids: ids.unwrap_or_default(),
        min_score,
        max_score,
        top,
        bottom,
        all,
        device: crate::options::device(device)?,
    };
    let mut tell = PyProgress::new(py, progress, false)?;
    let explained = py.detach(|| rsdetect::explain::explain(&request, &mut tell));
    tell.finish(py)?;
    to_python(py, &explained.map_err(to_py)?.record)
}

/// The shipped models: name, file, the first line of the card, the class
/// they find (what `rsdetect models --json` prints).
#[pyfunction]
pub fn models(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    to_python(py, &::models::shipped_models())
}
