//! Vector files as GIS users keep them (GeoJSON, Shapefile, GeoPackage,
//! anything OGR reads): read into plain geometries with their CRS, for
//! labels and labelled areas alike; and polygon layers written for
//! detections and suggested windows alike.

use crate::error::{Error, Result};
pub use detection::formats::features::{FieldKind, FieldValue};
use gdal::spatial_ref::SpatialRef;
use gdal::vector::{Geometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::DriverManager;
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

/// OGR formats written besides GeoJSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OgrFormat {
    /// GeoPackage (.gpkg).
    Gpkg,
    /// ESRI Shapefile (.shp and companions).
    Shp,
}

impl OgrFormat {
    /// The format of a file extension (`gpkg`, `shp`).
    pub fn of_extension(ext: &str) -> Option<OgrFormat> {
        [OgrFormat::Gpkg, OgrFormat::Shp].into_iter().find(|f| f.extension().eq_ignore_ascii_case(ext))
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            OgrFormat::Gpkg => "gpkg",
            OgrFormat::Shp => "shp",
        }
    }

    fn driver(self) -> &'static str {
        match self {
            OgrFormat::Gpkg => "GPKG",
            OgrFormat::Shp => "ESRI Shapefile",
        }
    }
}

/// One polygon layer to write: its name, CRS and fields.
pub struct PolygonLayer<'a> {
    /// The layer's name.
    pub name: &'a str,
    /// Its CRS (`None`: none stated).
    pub srs: Option<&'a SpatialRef>,
    /// Its fields, in order.
    pub fields: &'a [(&'a str, FieldKind)],
}

/// Writes `features` (a polygon ring each, with its cells in the layer's
/// field order) as one layer of a new file at `path`, staged in a hidden
/// folder beside it and renamed in, so readers see the old file or the
/// whole new one; a GeoPackage in one transaction.
pub fn write_polygons<'a>(
    path: &Path,
    format: OgrFormat,
    layer: &PolygonLayer,
    features: impl Iterator<Item = (&'a [[f64; 2]], Vec<FieldValue<'a>>)>,
) -> Result<()> {
    crate::raster::init_gdal();
    let fail = |e: gdal::errors::GdalError| Error::Output { path: path.to_owned(), reason: e.to_string() };
    let dir = path.parent().unwrap_or(Path::new("."));
    let stage = crate::export::temp_name(path);
    std::fs::create_dir_all(&stage).map_err(|e| Error::Output { path: stage.clone(), reason: e.to_string() })?;
    let staged = stage.join(path.file_name().unwrap_or_default());
    let written = (|| -> Result<()> {
        let driver = DriverManager::get_driver_by_name(format.driver()).map_err(fail)?;
        let mut ds = driver.create_vector_only(&staged).map_err(fail)?;
        // GeoPackage writes far faster in one transaction; Shapefiles have none.
        if format == OgrFormat::Gpkg {
            let mut tx = ds.start_transaction().map_err(fail)?;
            write_layer(&mut tx, layer, features).map_err(fail)?;
            tx.commit().map_err(fail)?;
        } else {
            write_layer(&mut ds, layer, features).map_err(fail)?;
        }
        Ok(())
    })();
    let moved = written.and_then(|()| {
        for entry in
            std::fs::read_dir(&stage).map_err(|e| Error::Output { path: stage.clone(), reason: e.to_string() })?
        {
            let from = entry.map_err(|e| Error::Output { path: stage.clone(), reason: e.to_string() })?.path();
            let to = dir.join(from.file_name().unwrap_or_default());
            std::fs::rename(&from, &to).map_err(|e| Error::Output { path: to.clone(), reason: e.to_string() })?;
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&stage);
    moved
}

/// Creates the layer and its features.
fn write_layer<'a>(
    ds: &mut gdal::Dataset,
    layer: &PolygonLayer,
    features: impl Iterator<Item = (&'a [[f64; 2]], Vec<FieldValue<'a>>)>,
) -> gdal::errors::Result<()> {
    let out = ds.create_layer(LayerOptions {
        name: layer.name,
        srs: layer.srs,
        ty: OGRwkbGeometryType::wkbPolygon,
        options: None,
    })?;
    let fields: Vec<(&str, OGRFieldType::Type)> = layer
        .fields
        .iter()
        .map(|&(name, kind)| {
            let ty = match kind {
                FieldKind::Real => OGRFieldType::OFTReal,
                FieldKind::Integer => OGRFieldType::OFTInteger,
                FieldKind::Text => OGRFieldType::OFTString,
            };
            (name, ty)
        })
        .collect();
    out.create_defn_fields(&fields)?;
    for (ring, cells) in features {
        let wkt = format!("POLYGON(({}))", ring.iter().map(|[x, y]| format!("{x} {y}")).collect::<Vec<_>>().join(","));
        let mut feature = gdal::vector::Feature::new(out.defn())?;
        feature.set_geometry(Geometry::from_wkt(&wkt)?)?;
        for (i, cell) in cells.into_iter().enumerate() {
            match cell {
                FieldValue::Real(x) => feature.set_field_double(i, x)?,
                FieldValue::Integer(n) => feature.set_field_integer(i, n)?,
                FieldValue::Text(t) => feature.set_field_string(i, t)?,
                FieldValue::Null => {}
            }
        }
        feature.create(&out)?;
    }
    Ok(())
}
