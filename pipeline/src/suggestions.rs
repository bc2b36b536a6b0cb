//! The windows `rsdetect suggest` proposes for labelling, as a GeoPackage a
//! GIS opens: one polygon a window, in WGS84 when every raster is
//! georeferenced (else in pixels, x = column, y = -row), with its rank,
//! uncertainty, counts and raster.

use crate::error::{Error, Result};
use crate::georef::{GeoTransform, Georef};
use crate::raster::RasterInfo;
use detection::coords::PixelPoint;
use detection::suggest::Suggestion;
use gdal::vector::{Geometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::DriverManager;
use std::path::Path;

/// Writes `suggestions` (windows of `rasters[s.raster]`) to the GeoPackage
/// `path`, through a temporary file and a rename.
pub fn write_suggestions(path: &Path, rasters: &[RasterInfo], suggestions: &[Suggestion]) -> Result<()> {
    crate::raster::init_gdal();
    let fail = |reason: String| Error::Output { path: path.to_owned(), reason };
    let georefs = rasters.iter().map(Georef::from_info).collect::<Result<Vec<_>>>()?;
    let wgs84 = georefs.iter().all(Georef::is_georeferenced);
    let staged = path.with_extension(format!("{}.tmp.gpkg", std::process::id()));
    let written = (|| -> Result<()> {
        let driver = DriverManager::get_driver_by_name("GPKG").map_err(|e| fail(e.to_string()))?;
        let mut ds = driver.create_vector_only(&staged).map_err(|e| fail(e.to_string()))?;
        let srs = if wgs84 { Some(crate::georef::wgs84()?) } else { None };
        let layer = ds
            .create_layer(LayerOptions {
                name: "suggestions",
                srs: srs.as_ref(),
                ty: OGRwkbGeometryType::wkbPolygon,
                options: None,
            })
            .map_err(|e| fail(e.to_string()))?;
        let fields = [
            ("rank", OGRFieldType::OFTInteger),
            ("uncertainty", OGRFieldType::OFTReal),
            ("uncertain", OGRFieldType::OFTInteger),
            ("detections", OGRFieldType::OFTInteger),
            ("source", OGRFieldType::OFTString),
        ];
        layer.create_defn_fields(&fields).map_err(|e| fail(e.to_string()))?;
        for (rank, s) in suggestions.iter().enumerate() {
            let (georef, info) = (&georefs[s.raster], &rasters[s.raster]);
            let w = s.window;
            let (x0, y0, x1, y1) = (w.x as f64, w.y as f64, w.x_end() as f64, w.y_end() as f64);
            let corners: Vec<PixelPoint> =
                [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)].iter().map(|&(x, y)| PixelPoint { x, y }).collect();
            let ring: Vec<(f64, f64)> = if wgs84 {
                georef.pixel_to_wgs84(&corners)?.into_iter().map(|p| (p.lon, p.lat)).collect()
            } else {
                // Where QGIS draws each raster without a CRS; a georeferenced
                // one of a mixed set in its pixel frame.
                let t = if georef.is_georeferenced() { GeoTransform::PIXEL_FRAME } else { georef.transform() };
                corners.iter().map(|&p| t.apply(p)).map(|m| (m.x, m.y)).collect()
            };
            let wkt =
                format!("POLYGON(({}))", ring.iter().map(|(x, y)| format!("{x} {y}")).collect::<Vec<_>>().join(","));
            let feature = (|| -> gdal::errors::Result<()> {
                let mut f = gdal::vector::Feature::new(layer.defn())?;
                f.set_geometry(Geometry::from_wkt(&wkt)?)?;
                f.set_field_integer(0, rank as i32 + 1)?;
                f.set_field_double(1, (s.uncertainty * 1000.0).round() / 1000.0)?;
                f.set_field_integer(2, s.uncertain as i32)?;
                f.set_field_integer(3, s.detections as i32)?;
                f.set_field_string(4, &info.path.to_string_lossy())?;
                f.create(&layer)
            })();
            feature.map_err(|e| fail(e.to_string()))?;
        }
        Ok(())
    })();
    match written {
        Ok(()) => std::fs::rename(&staged, path).map_err(|e| fail(e.to_string())),
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            Err(e)
        }
    }
}
