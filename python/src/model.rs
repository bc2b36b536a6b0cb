//! `Model`: a model loaded once, detecting in arrays a notebook already
//! holds (from rasterio, xarray, a WMS) and scoring them pixel by pixel.

use crate::arrays::{crs_of, memory_raster, shape_of, transform_of};
use crate::detections::Detections;
use crate::errors::{config_err, renamed, to_py, ModelError};
use crate::options::{declared, detect_config, output_crs};
use crate::progress::PyProgress;
use numpy::{PyArray2, PyArrayMethods, PyReadonlyArrayDyn};
use pipeline::memory_raster::ArrayGeoref;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rsdetect::detect::{DetectProgress, Detector};
use std::path::PathBuf;
use std::sync::Mutex;

/// A model loaded once: a file or a shipped model's name ("default",
/// "rgbn"; `rsdetect.models()` lists them).
#[pyclass(module = "rsdetect", frozen)]
pub struct Model {
    detector: Mutex<Detector>,
    name: String,
}

impl Model {
    /// A model around a loaded detector.
    pub fn of(detector: Detector, name: String) -> Model {
        Model { detector: Mutex::new(detector), name }
    }

    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, Detector>> {
        self.detector.lock().map_err(|_| ModelError::new_err("the model failed in an earlier call; load it again"))
    }
}

#[pymethods]
impl Model {
    /// Loads a model onto `device` ("auto", "cpu", "cuda", "cuda:N"), with
    /// detect options (the detect config's keys) for every call.
    #[new]
    #[pyo3(signature = (name_or_path=None, device="auto", *, config=None, **options))]
    fn new(
        py: Python<'_>,
        name_or_path: Option<PathBuf>,
        device: &str,
        config: Option<PathBuf>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Model> {
        let choice = crate::options::device(device)?;
        let settings = detect_config(py, config, options)?;
        let model = name_or_path.filter(|m| m.as_os_str() != "default");
        let name = model.as_ref().map_or("default".into(), |m| m.display().to_string());
        let detector = py.detach(|| Detector::load(model.as_deref(), choice, &settings)).map_err(to_py)?;
        Ok(Model::of(detector, name))
    }

    /// Finds the objects in an image held as an array: (rows, cols),
    /// (bands, rows, cols) or (rows, cols, bands). `transform` (rasterio's
    /// Affine or GDAL's six numbers) and `crs` place it; without them give
    /// `gsd`, its metres per pixel, and the detections are in pixel
    /// coordinates (x = column, y = -row). Detections come as `detect`
    /// gives them for the same image written to a file.
    #[pyo3(signature = (array, transform=None, crs=None, gsd=None, *, nodata=None, name="array", out_crs="wgs84", progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn detect_array(
        &self,
        py: Python<'_>,
        array: &Bound<'_, PyAny>,
        transform: Option<&Bound<'_, PyAny>>,
        crs: Option<&Bound<'_, PyAny>>,
        gsd: Option<f64>,
        nodata: Option<f64>,
        name: &str,
        out_crs: &str,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Detections> {
        let georef = ArrayGeoref { transform: transform_of(transform)?, crs: crs_of(crs)?, nodata };
        let frame = output_crs(out_crs)?;
        let stated = declared(gsd, None)?;
        let raster = memory_raster(py, array, name, &georef)?;
        let mut tell = PyProgress::new(py, progress, false)?;
        tell.rename(raster.path().display().to_string(), name.to_owned());
        let found = py.detach(|| {
            let mut detector = self.lock()?;
            detector.declare(stated);
            let path = raster.path();
            tell.raster(name);
            detector.applicability(path, &mut tell);
            detector
                .detect(path, &mut tell)
                .and_then(|r| detector.features(&r, frame, "they are", &mut tell))
                .map_err(|e| renamed(e, &path.display().to_string(), name))
        });
        tell.finish(py)?;
        let mut set = found?;
        for f in &mut set.features {
            f.properties.source = name.to_owned();
        }
        Detections::of_set(py, &set, vec![])
    }

    /// A heatmap network's score at every pixel of `array` (shaped as for
    /// `detect_array`), taken at the model's ground sample distance
    /// (`card["gsd_m"]`): rows x cols, float32. Meant for a tile: the whole
    /// array goes through the network at once.
    #[pyo3(signature = (array, gsd=None))]
    fn heatmap<'py>(
        &self,
        py: Python<'py>,
        array: &Bound<'py, PyAny>,
        gsd: Option<f64>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let np = py.import("numpy")?;
        let dims: Vec<usize> = array.getattr("shape")?.extract()?;
        let shape = shape_of(&dims)?;
        let meta = self.lock()?.classifier().meta().clone();
        if let Some(g) = gsd.filter(|g| (g / meta.gsd_m - 1.0).abs() > 0.1) {
            let warning = format!(
                "heatmap scores the array at its own {g} m pixels, but the model sees {} m pixels; resample it \
                 first, or use detect_array, which does",
                meta.gsd_m
            );
            crate::errors::warn(py, &warning)?;
        }
        let mut arr = array.clone();
        if shape.bands == 1 {
            arr = arr.call_method1("reshape", ((1, shape.rows, shape.cols),))?;
        } else if shape.bands_last {
            arr = np.call_method1("moveaxis", (arr, -1, 0))?;
        }
        if let Some(&b) = meta.bands.iter().find(|&&b| b == 0 || b > shape.bands) {
            return Err(config_err(format!(
                "the model reads band {b} (of bands {:?}), the array has {} band(s)",
                meta.bands, shape.bands
            )));
        }
        let picked: Vec<usize> = meta.bands.iter().map(|b| b - 1).collect();
        let arr = arr.get_item(picked)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("dtype", np.getattr("float32")?)?;
        let arr = np.call_method("ascontiguousarray", (arr,), Some(&kwargs))?;
        let values: PyReadonlyArrayDyn<'_, f32> = arr.extract()?;
        let values = values.as_slice().map_err(|e| config_err(e.to_string()))?.to_vec();
        let (h, w) = (shape.rows, shape.cols);
        let scores = py.detach(|| {
            let detector = self.lock()?;
            let scores = detector.classifier().classifier().heatmap(&values, h, w);
            scores.map_err(|e| ModelError::new_err(format!("{}: {e}", self.name)))
        })?;
        let flat = numpy::PyArray1::from_vec(py, scores);
        flat.reshape([h, w])
    }

    /// The model's facts: network, bands, metres per pixel, class, score
    /// threshold, training record and calibration (the model file's
    /// metadata), with its `path` and `name`.
    #[getter]
    fn card<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let detector = self.lock()?;
        let mut meta = serde_json::to_value(detector.classifier().meta()).map_err(|e| config_err(e.to_string()))?;
        if let Some(m) = meta.as_object_mut() {
            m.insert("path".into(), detector.model_path().display().to_string().into());
            m.insert("name".into(), self.name.clone().into());
            m.insert("device".into(), detector.classifier().device().into());
        }
        py.import("json")?.call_method1("loads", (meta.to_string(),))
    }

    fn __repr__(&self) -> PyResult<String> {
        let detector = self.lock()?;
        Ok(format!("<Model {} ({}), finds {}>", self.name, detector.model_path().display(), detector.class()))
    }
}
