//! A single-band Float32 GeoTIFF on another raster's grid (its size,
//! geotransform and CRS), so QGIS lays it exactly over that raster: where
//! `rsdetect explain` writes its maps.

use crate::error::{Error, Result};
use crate::raster::Raster;
use detection::coords::PixelWindow;
use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use gdal::{Dataset, DriverManager};
use std::path::{Path, PathBuf};

/// A map being written; values start at 0 and windows combine by maximum.
pub struct MapRaster {
    ds: Dataset,
    path: PathBuf,
    staged: PathBuf,
    size: (usize, usize),
}

impl MapRaster {
    /// Creates the map for `like` at `path` (written to a temporary name
    /// and renamed by [`MapRaster::finish`]).
    pub fn create(path: &Path, like: &Raster) -> Result<MapRaster> {
        crate::raster::init_gdal();
        let staged = path.with_extension(format!("{}.tmp.tif", std::process::id()));
        let fail = |e: gdal::errors::GdalError| Error::Output { path: path.to_owned(), reason: e.to_string() };
        let driver = DriverManager::get_driver_by_name("GTiff").map_err(fail)?;
        let options =
            RasterCreationOptions::from_iter(["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3", "BIGTIFF=IF_SAFER"]);
        let (w, h) = like.size();
        let mut ds = driver.create_with_band_type_with_options::<f32, _>(&staged, w, h, 1, &options).map_err(fail)?;
        if let Some(gt) = like.info().geotransform {
            ds.set_geo_transform(&gt).map_err(fail)?;
        }
        if let Some(crs) = &like.info().crs {
            ds.set_spatial_ref(&SpatialRef::from_wkt(&crs.wkt).map_err(fail)?).map_err(fail)?;
        }
        Ok(MapRaster { ds, path: path.to_owned(), staged, size: (w, h) })
    }

    /// Sets each pixel of `window` to the larger of its value and the one
    /// in `values` (row-major over the window).
    pub fn max_into(&mut self, window: PixelWindow, values: &[f32]) -> Result<()> {
        let fail = |e: gdal::errors::GdalError| Error::Output { path: self.path.clone(), reason: e.to_string() };
        let (w, h) = self.size;
        if window.x_end() > w || window.y_end() > h || values.len() != window.area() {
            return Err(Error::WindowOutside { path: self.path.clone(), window, width: w, height: h });
        }
        let mut band = self.ds.rasterband(1).map_err(fail)?;
        let origin = (window.x as isize, window.y as isize);
        let size = (window.width, window.height);
        let old = band.read_as::<f32>(origin, size, size, None).map_err(fail)?;
        let merged: Vec<f32> = old.data().iter().zip(values).map(|(a, b)| a.max(*b)).collect();
        band.write(origin, size, &mut Buffer::new(size, merged)).map_err(fail)
    }

    /// Closes the file and moves it to its path.
    pub fn finish(self) -> Result<()> {
        let MapRaster { ds, path, staged, .. } = self;
        let fail = |reason: String| Error::Output { path: path.clone(), reason };
        ds.close().map_err(|e| fail(e.to_string()))?;
        std::fs::rename(&staged, &path).map_err(|e| fail(e.to_string()))
    }
}
