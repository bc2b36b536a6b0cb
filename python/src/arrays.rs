//! numpy arrays as rasters: the shape rule (bands first or last, as
//! rasterio and PIL give them), the transform and CRS objects Python users
//! hold (rasterio's `Affine` and `CRS`, pyproj, strings), and the array
//! written once into GDAL's memory so detection reads it as it reads files.

use crate::errors::{config_err, pipeline_err};
use numpy::PyReadonlyArrayDyn;
use pipeline::memory_raster::{ArrayGeoref, ArrayShape, MemoryRaster};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// An array's shape as bands, rows and columns: a 2-D array is one band; a
/// 3-D one has its bands on the shorter of its first and last axes
/// (rasterio reads bands first, PIL and `numpy.asarray(image)` give them last).
pub fn shape_of(dims: &[usize]) -> PyResult<ArrayShape> {
    match *dims {
        [rows, cols] => Ok(ArrayShape { bands: 1, rows, cols, bands_last: false }),
        [a, rows, c] if a <= c => Ok(ArrayShape { bands: a, rows, cols: c, bands_last: false }),
        [rows, cols, bands] => Ok(ArrayShape { bands, rows, cols, bands_last: true }),
        _ => Err(config_err(format!(
            "an array of shape {dims:?}: give an image as (rows, cols), (bands, rows, cols) or (rows, cols, bands)"
        ))),
    }
}

/// GDAL's six numbers from a transform: rasterio's `Affine` (through its
/// `to_gdal()`) or a sequence already in GDAL's order.
pub fn transform_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<[f64; 6]>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(None) };
    let gdal = if obj.hasattr("to_gdal")? { obj.call_method0("to_gdal")? } else { obj.clone() };
    gdal.extract::<[f64; 6]>().map(Some).map_err(|_| {
        config_err(
            "transform: give rasterio's Affine (src.transform) or GDAL's six numbers (x0, dx, rx, y0, ry, dy), as \
             gdal's GetGeoTransform() gives them",
        )
    })
}

/// A CRS as text GDAL reads: a string ("EPSG:32611", WKT, PROJ) or an
/// object with `to_wkt()` (rasterio's and pyproj's CRS).
pub fn crs_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(None) };
    if obj.is_instance_of::<PyString>() {
        return Ok(Some(obj.extract()?));
    }
    if obj.hasattr("to_wkt")? {
        return Ok(Some(obj.call_method0("to_wkt")?.extract()?));
    }
    Err(config_err("crs: give a string (\"EPSG:32611\", WKT) or a rasterio or pyproj CRS"))
}

/// Writes `array` into GDAL's memory as a raster named `name`.
pub fn memory_raster(
    py: Python<'_>,
    array: &Bound<'_, PyAny>,
    name: &str,
    georef: &ArrayGeoref,
) -> PyResult<MemoryRaster> {
    let arr = py.import("numpy")?.call_method1("ascontiguousarray", (array,))?;
    let dims: Vec<usize> = arr.getattr("shape")?.extract()?;
    let shape = shape_of(&dims)?;
    macro_rules! as_raster {
        ($($t:ty),*) => {
            $(
                if let Ok(a) = arr.extract::<PyReadonlyArrayDyn<'_, $t>>() {
                    let values = a.as_slice().map_err(|e| config_err(e.to_string()))?;
                    return MemoryRaster::new(name, values, shape, georef).map_err(pipeline_err);
                }
            )*
        };
    }
    as_raster!(u8, u16, i16, u32, i32, f32, f64);
    let dtype = arr.getattr("dtype")?.str()?;
    Err(config_err(format!(
        "an array of {dtype}: rasters hold uint8, uint16, int16, uint32, int32, float32 or float64; convert it \
         (array.astype(\"float32\"))"
    )))
}
