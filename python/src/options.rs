//! Python arguments as the library's values, each checked once with the
//! command line's own parsers, so a bad value gets the same message.

use crate::errors::config_err;
use detection::formats::detect_config::Config;
use detection::options::{Declared, LonLatBounds};
use models::DeviceChoice;
use pipeline::export::{OgrFormat, OutputCrs};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::path::PathBuf;

/// One path or a sequence of them (str or `os.PathLike`).
pub fn paths(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<PathBuf>> {
    let Some(obj) = obj else { return Ok(vec![]) };
    if obj.is_none() {
        return Ok(vec![]);
    }
    if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        return Ok(vec![obj.extract::<PathBuf>()?]);
    }
    obj.try_iter()?.map(|p| p?.extract::<PathBuf>()).collect()
}

/// `"auto"`, `"cpu"`, `"cuda"` or `"cuda:N"`.
pub fn device(s: &str) -> PyResult<DeviceChoice> {
    s.parse().map_err(config_err)
}

/// The detections' coordinates: `"wgs84"` or `"native"`.
pub fn output_crs(s: &str) -> PyResult<OutputCrs> {
    match s {
        "wgs84" => Ok(OutputCrs::Wgs84),
        "native" => Ok(OutputCrs::Native),
        _ => {
            Err(config_err(format!("crs={s:?}: use \"wgs84\" (longitude, latitude) or \"native\" (the raster's own)")))
        }
    }
}

/// Formats written besides GeoJSON: `"gpkg"`, `"shp"`.
pub fn formats(names: Option<Vec<String>>) -> PyResult<Vec<OgrFormat>> {
    names
        .unwrap_or_default()
        .iter()
        .map(|n| {
            OgrFormat::of_extension(n).ok_or_else(|| {
                config_err(format!("format {n:?}: rsdetect writes \"gpkg\" and \"shp\" besides GeoJSON"))
            })
        })
        .collect()
}

/// What the user states about rasters without it: metres per pixel, and
/// an image's lon/lat edges (west, south, east, north).
pub fn declared(input_gsd: Option<f64>, bounds: Option<(f64, f64, f64, f64)>) -> PyResult<Declared> {
    if input_gsd.is_some_and(|g| g.is_nan() || g <= 0.0) {
        return Err(config_err("input_gsd: give the metres per pixel, a number above 0"));
    }
    let bounds = bounds
        .map(|(w, s, e, n)| format!("{w},{s},{e},{n}").parse::<LonLatBounds>().map_err(config_err))
        .transpose()?;
    Ok(Declared { gsd_m: input_gsd, bounds })
}

/// The detect settings: a config file's (`config`), with `options` (the
/// file's keys: `mode="sliding"`, `tile=512`, `candidates={"threshold": "otsu"}`)
/// over them, checked as a config file is.
pub fn detect_config(py: Python<'_>, config: Option<PathBuf>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Config> {
    let from_file = |path: &PathBuf| Config::load(path).map_err(|e| crate::errors::to_py(e.into()));
    let Some(options) = options.filter(|o| !o.is_empty()) else {
        return config.as_ref().map_or(Ok(Config::default()), from_file);
    };
    let mut table = match &config {
        Some(path) => {
            from_file(path)?;
            let text = std::fs::read_to_string(path).map_err(|e| config_err(format!("{}: {e}", path.display())))?;
            let value: toml::Table =
                toml::from_str(&text).map_err(|e| config_err(format!("{}: {e}", path.display())))?;
            serde_json::to_value(value).map_err(|e| config_err(e.to_string()))?
        }
        None => serde_json::json!({}),
    };
    let json: String = py.import("json")?.call_method1("dumps", (options,))?.extract()?;
    let given: serde_json::Value = serde_json::from_str(&json).map_err(|e| config_err(e.to_string()))?;
    let (Some(into), Some(given)) = (table.as_object_mut(), given.as_object()) else {
        return Err(config_err("options must be keyword arguments"));
    };
    for (key, value) in given {
        // A section given as a dict changes its own keys, not the whole section.
        match (into.get_mut(key).and_then(|v| v.as_object_mut()), value.as_object()) {
            (Some(section), Some(keys)) => section.extend(keys.clone()),
            _ => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
    serde_json::from_value(table).map_err(|e| {
        config_err(format!(
            "detect option: {e} (options are the detect config's keys: mode, tile, halo, batch, score_threshold, \
             suppression_m, resampling, tta, reduced_precision, candidates, sliding; see configs/*.toml)"
        ))
    })
}
