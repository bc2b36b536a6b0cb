//! The windows `rsdetect suggest` proposes for labelling, as a GeoPackage a
//! GIS opens: one polygon a window, in WGS84 when every raster is
//! georeferenced (else in pixels, x = column, y = -row), with its rank,
//! uncertainty, counts and raster.

use crate::error::Result;
use crate::georef::{GeoTransform, Georef};
use crate::raster::RasterInfo;
use crate::vector::{write_polygons, FieldKind, FieldValue, OgrFormat, PolygonLayer};
use detection::coords::PixelPoint;
use detection::suggest::Suggestion;
use std::path::Path;

/// Writes `suggestions` (windows of `rasters[s.raster]`) to the GeoPackage
/// `path`, through a temporary file and a rename.
pub fn write_suggestions(path: &Path, rasters: &[RasterInfo], suggestions: &[Suggestion]) -> Result<()> {
    crate::raster::init_gdal();
    let georefs = rasters.iter().map(Georef::from_info).collect::<Result<Vec<_>>>()?;
    let wgs84 = georefs.iter().all(Georef::is_georeferenced);
    let srs = if wgs84 { Some(crate::georef::wgs84()?) } else { None };
    let fields = [
        ("rank", FieldKind::Integer),
        ("uncertainty", FieldKind::Real),
        ("uncertain", FieldKind::Integer),
        ("detections", FieldKind::Integer),
        ("source", FieldKind::Text),
    ];
    let mut rings = Vec::with_capacity(suggestions.len());
    for s in suggestions {
        let georef = &georefs[s.raster];
        let w = s.window;
        let (x0, y0, x1, y1) = (w.x as f64, w.y as f64, w.x_end() as f64, w.y_end() as f64);
        let corners: Vec<PixelPoint> =
            [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)].iter().map(|&(x, y)| PixelPoint { x, y }).collect();
        let ring: Vec<[f64; 2]> = if wgs84 {
            georef.pixel_to_wgs84(&corners)?.into_iter().map(|p| [p.lon, p.lat]).collect()
        } else {
            // Where QGIS draws each raster without a CRS; a georeferenced
            // one of a mixed set in its pixel frame.
            let t = if georef.is_georeferenced() { GeoTransform::PIXEL_FRAME } else { georef.transform() };
            corners.iter().map(|&p| t.apply(p)).map(|m| [m.x, m.y]).collect()
        };
        rings.push(ring);
    }
    let sources: Vec<String> =
        suggestions.iter().map(|s| rasters[s.raster].path.to_string_lossy().into_owned()).collect();
    let layer = PolygonLayer { name: "suggestions", srs: srs.as_ref(), fields: &fields };
    let rows = suggestions.iter().zip(&rings).zip(&sources).enumerate().map(|(rank, ((s, ring), source))| {
        let cells = vec![
            FieldValue::Integer(rank as i32 + 1),
            FieldValue::Real((s.uncertainty * 1000.0).round() / 1000.0),
            FieldValue::Integer(s.uncertain as i32),
            FieldValue::Integer(s.detections as i32),
            FieldValue::Text(source),
        ];
        (ring.as_slice(), cells)
    });
    write_polygons(path, OgrFormat::Gpkg, &layer, rows)
}
