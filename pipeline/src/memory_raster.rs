//! An array the caller holds (a Python package's numpy array) as a raster
//! every reader opens by name: a GeoTIFF in GDAL's in-memory file system
//! (`/vsimem/`), so detection reads it in windows from several workers,
//! resamples and georeferences it exactly as it would the same file on disk.

use crate::error::{Error, Result};
use crate::raster::{gdal_reason, init_gdal};
use gdal::raster::{Buffer, GdalType, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use gdal::DriverManager;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How an array's values lie: `bands` planes of `rows` x `cols`, each plane
/// row-major, planes after one another (bands first) or interleaved
/// (bands last, as PIL and `numpy.asarray(image)` give them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayShape {
    /// Bands.
    pub bands: usize,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Whether the band varies fastest (rows x cols x bands).
    pub bands_last: bool,
}

/// What georeferences an array: GDAL's six-number transform, a CRS as any
/// definition GDAL takes (EPSG:32611, WKT, PROJ), a nodata value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArrayGeoref {
    /// The geotransform, GDAL's order (x0, dx, rx, y0, ry, dy).
    pub transform: Option<[f64; 6]>,
    /// The CRS.
    pub crs: Option<String>,
    /// The value that marks pixels without data.
    pub nodata: Option<f64>,
}

/// An in-memory GeoTIFF, removed when dropped.
#[derive(Debug)]
pub struct MemoryRaster {
    path: PathBuf,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl MemoryRaster {
    /// Writes `values` (laid out as `shape` says) as a tiled GeoTIFF in
    /// memory, named after `name` for messages.
    pub fn new<T: GdalType + Copy>(
        name: &str,
        values: &[T],
        shape: ArrayShape,
        georef: &ArrayGeoref,
    ) -> Result<MemoryRaster> {
        init_gdal();
        let ArrayShape { bands, rows, cols, bands_last } = shape;
        let stem: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let path = PathBuf::from(format!(
            "/vsimem/rsdetect/{}-{}-{stem}.tif",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let fail = |reason: String| Error::Output { path: PathBuf::from(name), reason };
        if values.len() != bands * rows * cols || bands == 0 || rows == 0 || cols == 0 {
            return Err(fail(format!("{} values do not make {bands} band(s) of {rows} x {cols} pixels", values.len())));
        }
        let gdal_err = |e: gdal::errors::GdalError| fail(gdal_reason(&e));
        let driver = DriverManager::get_driver_by_name("GTiff").map_err(gdal_err)?;
        let mut options = RasterCreationOptions::new();
        for (k, v) in [("TILED", "YES"), ("BLOCKXSIZE", "512"), ("BLOCKYSIZE", "512"), ("INTERLEAVE", "BAND")] {
            options.set_name_value(k, v).map_err(gdal_err)?;
        }
        if bands * rows * cols * std::mem::size_of::<T>() > (3 << 30) {
            options.set_name_value("BIGTIFF", "YES").map_err(gdal_err)?;
        }
        let mut ds =
            driver.create_with_band_type_with_options::<T, _>(&path, cols, rows, bands, &options).map_err(gdal_err)?;
        let raster = MemoryRaster { path };
        if let Some(t) = georef.transform {
            ds.set_geo_transform(&t).map_err(gdal_err)?;
        }
        if let Some(c) = &georef.crs {
            let srs = SpatialRef::from_definition(c).map_err(|e| {
                fail(format!(
                    "{c:?} is not a CRS GDAL knows ({}); give an EPSG code (\"EPSG:32611\") or WKT",
                    gdal_reason(&e)
                ))
            })?;
            ds.set_spatial_ref(&srs).map_err(gdal_err)?;
        }
        let plane = rows * cols;
        for b in 0..bands {
            let data: Vec<T> = if bands_last {
                values.iter().skip(b).step_by(bands).copied().collect()
            } else {
                values[b * plane..(b + 1) * plane].to_vec()
            };
            let mut band = ds.rasterband(b + 1).map_err(gdal_err)?;
            band.set_no_data_value(georef.nodata).map_err(gdal_err)?;
            band.write((0, 0), (cols, rows), &mut Buffer::new((cols, rows), data)).map_err(gdal_err)?;
        }
        ds.flush_cache().map_err(gdal_err)?;
        Ok(raster)
    }

    /// The name readers open it by.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for MemoryRaster {
    fn drop(&mut self) {
        let _ = gdal::vsi::unlink_mem_file(&self.path);
    }
}
