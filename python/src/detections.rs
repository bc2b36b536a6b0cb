//! `Detections`: what a detect call found, as GeoJSON features a GIS or
//! geopandas takes (`__geo_interface__`), with the run's facts. Its GeoJSON
//! text is the command line's, byte for byte.

use crate::errors::pipeline_err;
use pipeline::export::{FeatureCrs, FeatureSet};
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::path::{Path, PathBuf};

/// Detections: a sequence of GeoJSON features (dicts), best first within
/// each raster, with the run's facts.
#[pyclass(module = "rsdetect", frozen)]
pub struct Detections {
    /// The GeoJSON text, as the command line writes it.
    text: String,
    /// The features' CRS as geopandas takes it (`None`: pixel or map units).
    crs: Option<String>,
    /// The FeatureCollection, parsed once.
    collection: Py<PyAny>,
    /// The output folder (with run.json), when the run wrote one.
    folder: Option<PathBuf>,
    /// Inputs that failed, with why.
    failed: Vec<String>,
    /// A folder made for a call without `out`, removed with the object.
    _scratch: Option<tempfile::TempDir>,
}

/// The CRS geopandas takes for a feature set's frame.
fn crs_of(set: &FeatureSet) -> Option<String> {
    match &set.crs {
        FeatureCrs::Wgs84 => Some("EPSG:4326".into()),
        FeatureCrs::Native { epsg: Some(code), .. } => Some(format!("EPSG:{code}")),
        FeatureCrs::Native { wkt, .. } => Some(wkt.clone()),
        FeatureCrs::Pixel | FeatureCrs::MapUnits => None,
    }
}

impl Detections {
    /// Detections of one feature set, with its GeoJSON text.
    pub fn of_set(py: Python<'_>, set: &FeatureSet, failed: Vec<String>) -> PyResult<Detections> {
        let text = pipeline::export::geojson(set);
        Self::new(py, text, crs_of(set), None, failed, None)
    }

    /// The detections of a detect folder: its merged GeoJSON file.
    pub fn of_folder(
        py: Python<'_>,
        folder: &Path,
        merged: &Path,
        failed: Vec<String>,
        scratch: Option<tempfile::TempDir>,
    ) -> PyResult<Detections> {
        let set = pipeline::export::read_geojson(merged).map_err(pipeline_err)?;
        let text = std::fs::read_to_string(merged)
            .map_err(|e| crate::errors::InputError::new_err(format!("{}: {e}", merged.display())))?;
        Self::new(py, text, crs_of(&set), Some(folder.to_owned()), failed, scratch)
    }

    fn new(
        py: Python<'_>,
        text: String,
        crs: Option<String>,
        folder: Option<PathBuf>,
        failed: Vec<String>,
        scratch: Option<tempfile::TempDir>,
    ) -> PyResult<Detections> {
        let collection = py.import("json")?.call_method1("loads", (text.as_str(),))?.unbind();
        Ok(Detections { text, crs, collection, folder, failed, _scratch: scratch })
    }

    /// The output folder, for the stages that read one (evaluate, explain).
    pub fn folder(&self) -> Option<&Path> {
        self.folder.as_deref()
    }

    fn features<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        Ok(self.collection.bind(py).get_item("features")?.cast_into::<PyList>()?)
    }
}

#[pymethods]
impl Detections {
    /// How many detections.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.features(py)?.len())
    }

    /// The features, as GeoJSON dicts.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.features(py)?.as_any().try_iter()?.into_any())
    }

    /// The `i`-th feature.
    fn __getitem__<'py>(&self, py: Python<'py>, i: isize) -> PyResult<Bound<'py, PyAny>> {
        self.features(py)?.as_any().get_item(i)
    }

    /// The FeatureCollection (the geo interface shapely, geopandas and
    /// QGIS read).
    #[getter]
    fn __geo_interface__(&self, py: Python<'_>) -> Py<PyAny> {
        self.collection.clone_ref(py)
    }

    /// The features' CRS ("EPSG:4326" unless `crs="native"`; `None` for
    /// rasters without georeferencing, in pixel coordinates x = column,
    /// y = -row).
    #[getter]
    fn crs(&self) -> Option<&str> {
        self.crs.as_deref()
    }

    /// The output folder (`None` when the detections were not written).
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.folder.clone()
    }

    /// Inputs that failed, each with why and what to do.
    #[getter]
    fn failed(&self) -> Vec<String> {
        self.failed.clone()
    }

    /// The run's facts (run.json: model, device, options, per raster
    /// timings and notes), `None` for an array's detections.
    #[getter]
    fn run<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(folder) = &self.folder else { return Ok(None) };
        let text = std::fs::read_to_string(folder.join("run.json"))
            .map_err(|e| crate::errors::InputError::new_err(format!("{}: {e}", folder.display())))?;
        Ok(Some(py.import("json")?.call_method1("loads", (text,))?))
    }

    /// Writes the GeoJSON file (the command line's text, byte for byte).
    fn to_geojson(&self, path: PathBuf) -> PyResult<()> {
        std::fs::write(&path, &self.text)
            .map_err(|e| crate::errors::InputError::new_err(format!("{}: cannot write: {e}", path.display())))
    }

    /// A geopandas GeoDataFrame, one row per detection, with the CRS.
    fn to_geopandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let gpd = py.import("geopandas").map_err(|e| {
            pyo3::exceptions::PyImportError::new_err(format!(
                "to_geopandas needs geopandas ({e}): pip install geopandas"
            ))
        })?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("crs", self.crs.as_deref())?;
        let features = self.features(py)?;
        if features.is_empty() {
            let columns = ["area_m2", "class", "diameter_m", "score", "source", "geometry"];
            kwargs.set_item("columns", columns.to_vec())?;
            kwargs.set_item("geometry", "geometry")?;
            return gpd.getattr("GeoDataFrame")?.call((), Some(&kwargs));
        }
        gpd.getattr("GeoDataFrame")?.call_method("from_features", (features,), Some(&kwargs))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let n = self.features(py)?.len();
        let crs = self.crs.as_deref().map_or("pixel coordinates".into(), |c| {
            if c.len() > 20 {
                "the raster's CRS".into()
            } else {
                c.to_owned()
            }
        });
        let at = self
            .folder
            .as_ref()
            .filter(|_| self._scratch.is_none())
            .map_or(String::new(), |f| format!(", in {}", f.display()));
        Ok(format!("<Detections: {n} in {crs}{at}>"))
    }
}
