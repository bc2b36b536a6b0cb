//! Vector files as GIS users keep them (GeoJSON, Shapefile, GeoPackage,
//! anything OGR reads): read into plain geometries with their CRS, for
//! labels and labelled areas alike.

use crate::error::{Error, Result};
use gdal::vector::LayerAccess;
use std::path::Path;

/// One feature as read.
#[derive(Debug, Clone)]
pub struct VectorFeature {
    /// Its id in its layer (QGIS's fid).
    pub fid: u64,
    /// Its geometry.
    pub geometry: geo::Geometry<f64>,
    /// The text of the field asked for, trimmed, when it has one.
    pub field: Option<String>,
}

/// A vector file as read: the CRS of its (last) layer with one, as WKT,
/// and every layer's features that have a geometry.
#[derive(Debug, Clone)]
pub struct VectorFile {
    /// The CRS (`None`: the file states none).
    pub crs: Option<String>,
    /// The features.
    pub features: Vec<VectorFeature>,
}

/// Reads `path` through OGR. `field` names the fields (any case, the first
/// found) whose text each feature keeps; `unopened` says why OGR could not
/// open the file, `bad` wraps what is wrong inside it.
pub fn read_vector(
    path: &Path,
    field: &[&str],
    unopened: impl FnOnce() -> Error,
    bad: impl Fn(String) -> Error,
) -> Result<VectorFile> {
    crate::raster::init_gdal();
    if !path.exists() {
        return Err(Error::NotFound { path: path.to_owned() });
    }
    let options = gdal::DatasetOptions { open_flags: gdal::GdalOpenFlags::GDAL_OF_VECTOR, ..Default::default() };
    let ds = gdal::Dataset::open_ex(path, options).map_err(|_| unopened())?;
    let mut out = VectorFile { crs: None, features: Vec::new() };
    for mut layer in ds.layers() {
        if let Some(s) = layer.spatial_ref() {
            out.crs = s.to_wkt().ok();
        }
        let wanted = {
            let names: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
            field.iter().find_map(|c| names.iter().position(|n| n.eq_ignore_ascii_case(c)))
        };
        for feature in layer.features() {
            let Some(g) = feature.geometry() else { continue };
            let geometry: geo::Geometry<f64> = g.to_geo().map_err(|e| bad(format!("unreadable geometry: {e}")))?;
            let field = wanted
                .and_then(|i| feature.field_as_string(i).ok().flatten())
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty());
            out.features.push(VectorFeature { fid: feature.fid().unwrap_or_default(), geometry, field });
        }
    }
    Ok(out)
}
