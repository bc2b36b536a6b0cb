//! Detections as files a GIS opens: RFC 7946 GeoJSON (WGS84, lon/lat), the
//! raster's own CRS on request, and GeoPackage or Shapefile through OGR.
//! Every file is written to a temporary name and renamed, so an interrupted
//! run never leaves half a file.

use crate::detect::RasterDetections;
use crate::error::{Error, Result};
use crate::georef::Georef;
use detection::coords::PixelPoint;
use gdal::spatial_ref::SpatialRef;
use gdal::vector::{Geometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::DriverManager;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The property holding a detection's footprint in the raster's pixels
/// (column, row from the top-left corner: x0, y0, x1, y1), whatever the
/// frame of the geometry.
pub const PIXEL_BBOX: &str = "pixel_bbox";
/// The property holding an outlined detection's centre in the raster's
/// pixels (column, row).
pub const PIXEL_CENTRE: &str = "pixel_centre";
/// The OGR fields holding [`PIXEL_BBOX`] (a Shapefile's names are at most
/// 10 characters).
const PIXEL_BBOX_FIELDS: [&str; 4] = ["pixel_x0", "pixel_y0", "pixel_x1", "pixel_y1"];

/// Which coordinates the files carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputCrs {
    /// WGS84 longitude, latitude (RFC 7946).
    #[default]
    Wgs84,
    /// The raster's own CRS.
    Native,
}

/// The CRS of a set of features.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureCrs {
    /// WGS84 lon/lat.
    Wgs84,
    /// A raster's CRS, as WKT, with its EPSG code when it has one.
    Native {
        /// WKT.
        wkt: String,
        /// EPSG code.
        epsg: Option<u32>,
    },
    /// No georeferencing: x is the pixel column, y the negated row, which is
    /// where QGIS draws a raster without georeferencing.
    Pixel,
    /// A geotransform but no CRS: the map units of the raster's transform,
    /// where QGIS draws it.
    MapUnits,
}

/// One detection ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct OutFeature {
    /// Closed exterior ring, counterclockwise.
    pub ring: Vec<[f64; 2]>,
    /// Classifier score.
    pub score: f64,
    /// Class name.
    pub class: String,
    /// The raster it came from.
    pub source: String,
    /// Footprint in the raster's pixels: x0, y0, x1, y1.
    pub bbox: [f64; 4],
    /// The detection's centre in the raster's pixels, for outlined
    /// detections (whose box is not centred on it).
    pub centre: Option<[f64; 2]>,
    /// The outline's area, square metres (outlined detections of
    /// georeferenced rasters).
    pub area_m2: Option<f64>,
    /// The diameter of the circle of the outline's area, metres.
    pub diameter_m: Option<f64>,
    /// The score's standard deviation over flips and rotations (see
    /// [`detection::objects::Detection::uncertainty`]), written `score_sd`
    /// (a name a Shapefile's 10 characters hold).
    pub uncertainty: Option<f64>,
}

/// Detections of one raster, or of several, in one CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSet {
    /// Their CRS.
    pub crs: FeatureCrs,
    /// The features, best first within each raster.
    pub features: Vec<OutFeature>,
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// Makes a ring counterclockwise (positive area in a y-up frame) and closed.
fn counterclockwise(mut ring: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    let area: f64 = ring.iter().zip(ring.iter().cycle().skip(1)).map(|(a, b)| a[0] * b[1] - b[0] * a[1]).sum();
    if area < 0.0 {
        ring.reverse();
    }
    ring.push(ring[0]);
    ring
}

/// The features of one raster's detections.
pub fn features(r: &RasterDetections, class: &str, crs: OutputCrs) -> Result<FeatureSet> {
    let georef = Georef::from_info(&r.info)?;
    let source = r.info.path.to_string_lossy().into_owned();
    let (set_crs, decimals) = match (crs, georef.is_georeferenced(), &r.info.crs) {
        (OutputCrs::Wgs84, true, _) => (FeatureCrs::Wgs84, 7),
        (OutputCrs::Native, true, Some(c)) => (FeatureCrs::Native { wkt: c.wkt.clone(), epsg: c.epsg }, 3),
        // Units unknown (degrees, feet, metres): a thousandth of a pixel.
        _ if georef.has_transform() => {
            let (sx, sy) = georef.transform().pixel_size();
            (FeatureCrs::MapUnits, (3.0 - sx.min(sy).log10()).ceil().clamp(3.0, 12.0) as i32)
        }
        _ => (FeatureCrs::Pixel, 3),
    };
    // From the CRS, or for rasters without one the --input-gsd detect used.
    let gsd = r.info.gsd_m;
    let mut out = Vec::with_capacity(r.detections.len());
    for d in &r.detections {
        let pts: Vec<PixelPoint> = match &d.outline {
            Some(o) => o.vertices().to_vec(),
            None => d.footprint.corners().to_vec(),
        };
        let ring: Vec<[f64; 2]> = match set_crs {
            FeatureCrs::Wgs84 => georef.pixel_to_wgs84(&pts)?.into_iter().map(|p| [p.lon, p.lat]).collect(),
            FeatureCrs::Native { .. } | FeatureCrs::Pixel | FeatureCrs::MapUnits => {
                pts.iter().map(|&p| georef.pixel_to_map(p)).map(|m| [m.x, m.y]).collect()
            }
        };
        let ring = counterclockwise(ring.into_iter().map(|[x, y]| [round(x, decimals), round(y, decimals)]).collect());
        let b = &d.footprint;
        out.push(OutFeature {
            ring,
            score: round(d.score as f64, 6),
            class: class.to_owned(),
            source: source.clone(),
            bbox: [b.x0, b.y0, b.x1, b.y1].map(|v| round(v, 3)),
            centre: d.outline.map(|_| [round(d.centre.x, 3), round(d.centre.y, 3)]),
            area_m2: d.outline.zip(gsd).map(|(o, g)| round(o.area_px() * g.x * g.y, 2)),
            diameter_m: d.outline.zip(gsd).map(|(o, g)| round(o.diameter_px() * g.mean(), 2)),
            uncertainty: d.uncertainty.map(|u| round(u as f64, 6)),
        });
    }
    Ok(FeatureSet { crs: set_crs, features: out })
}

/// The GeoJSON text of a feature set: one feature per line, so large files
/// stream through line-based tools and diff well.
pub fn geojson(set: &FeatureSet) -> String {
    let mut s = String::from("{\"type\":\"FeatureCollection\",");
    match &set.crs {
        FeatureCrs::Wgs84 => {}
        FeatureCrs::Native { epsg: Some(code), .. } => s.push_str(&format!(
            "\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:EPSG::{code}\"}}}},"
        )),
        FeatureCrs::Native { wkt, .. } => {
            s.push_str(&format!("\"crs\":{{\"type\":\"wkt\",\"properties\":{{\"wkt\":{}}}}},", json!(wkt)))
        }
        FeatureCrs::Pixel => {
            s.push_str("\"rsdetect:coordinates\":\"pixel: x = column, y = -row (not georeferenced; the frame QGIS shows the image in)\",")
        }
        FeatureCrs::MapUnits => {
            s.push_str("\"rsdetect:coordinates\":\"map units of the raster's geotransform (it has no CRS)\",")
        }
    }
    s.push_str("\"features\":[");
    for (i, f) in set.features.iter().enumerate() {
        s.push_str(if i == 0 { "\n" } else { ",\n" });
        let mut props = Map::new();
        props.insert("score".into(), json!(f.score));
        props.insert("class".into(), json!(f.class));
        props.insert("source".into(), json!(f.source));
        props.insert(PIXEL_BBOX.into(), json!(f.bbox));
        if let Some(c) = f.centre {
            props.insert(PIXEL_CENTRE.into(), json!(c));
        }
        if let (Some(a), Some(d)) = (f.area_m2, f.diameter_m) {
            props.insert("area_m2".into(), json!(a));
            props.insert("diameter_m".into(), json!(d));
        }
        if let Some(u) = f.uncertainty {
            props.insert("score_sd".into(), json!(u));
        }
        let feature =
            json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [f.ring]}, "properties": props});
        s.push_str(&feature.to_string());
    }
    s.push_str("\n]}\n");
    s
}

/// Reads a feature set back from a GeoJSON file this module wrote.
pub fn read_geojson(path: &Path) -> Result<FeatureSet> {
    let bad = |reason: String| Error::Output { path: path.to_owned(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON ({e}); delete it to redo that input")))?;
    let crs = if let Some(c) = v.get("rsdetect:coordinates").and_then(Value::as_str) {
        if c.starts_with("pixel") {
            FeatureCrs::Pixel
        } else {
            FeatureCrs::MapUnits
        }
    } else if let Some(name) = v.pointer("/crs/properties/name").and_then(Value::as_str) {
        let epsg = name.rsplit(':').next().and_then(|c| c.parse().ok());
        let wkt = epsg.and_then(|c| SpatialRef::from_epsg(c).ok()).and_then(|s| s.to_wkt().ok()).unwrap_or_default();
        FeatureCrs::Native { wkt, epsg }
    } else if let Some(wkt) = v.pointer("/crs/properties/wkt").and_then(Value::as_str) {
        FeatureCrs::Native { wkt: wkt.to_owned(), epsg: None }
    } else {
        FeatureCrs::Wgs84
    };
    let mut features = Vec::new();
    for f in v["features"].as_array().ok_or_else(|| bad("no features array".into()))? {
        let p = &f["properties"];
        let ring = f
            .pointer("/geometry/coordinates/0")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("a feature without a polygon".into()))?;
        let number = |v: &Value, what: &str| {
            v.as_f64().ok_or_else(|| bad(format!("a feature without a numeric {what}; delete it to redo that input")))
        };
        let text = |v: &Value, what: &str| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("a feature without a {what}; delete it to redo that input")))
        };
        let ring = ring
            .iter()
            .map(|c| Ok([number(&c[0], "coordinate")?, number(&c[1], "coordinate")?]))
            .collect::<Result<Vec<_>>>()?;
        // Files written before the pixel properties were named so.
        let pixel = |name: &str, before: &str| if p.get(name).is_some() { &p[name] } else { &p[before] };
        let mut bbox = [0.0; 4];
        for (i, v) in bbox.iter_mut().enumerate() {
            *v = number(&pixel(PIXEL_BBOX, "bbox")[i], PIXEL_BBOX)?;
        }
        features.push(OutFeature {
            ring,
            score: number(&p["score"], "score")?,
            class: text(&p["class"], "class")?,
            source: text(&p["source"], "source")?,
            bbox,
            centre: {
                let c = pixel(PIXEL_CENTRE, "centre");
                c[0].as_f64().zip(c[1].as_f64()).map(|(x, y)| [x, y])
            },
            area_m2: p["area_m2"].as_f64(),
            diameter_m: p["diameter_m"].as_f64(),
            uncertainty: p["score_sd"].as_f64(),
        });
    }
    Ok(FeatureSet { crs, features })
}

/// Writes `bytes` to `path` through a temporary file in the same folder and
/// a rename, so readers see the old file or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |e: std::io::Error| Error::Output { path: path.to_owned(), reason: io_reason(&e) };
    let tmp = temp_name(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

/// Why a write failed, with what to do about it.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            format!("{e}: the disk is full; free space, or write elsewhere with --out")
        }
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            format!("{e}: choose a folder you can write with --out")
        }
        _ => e.to_string(),
    }
}

/// A hidden sibling name for a file being written.
pub fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// OGR formats offered besides GeoJSON.
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
}

/// Writes a feature set with OGR (fields score, class, source, pixel_x0 ..
/// pixel_y1, area_m2, diameter_m, score_sd), through a temporary folder and
/// renames.
pub fn write_ogr(path: &Path, format: OgrFormat, set: &FeatureSet) -> Result<()> {
    crate::raster::init_gdal();
    let fail = |e: gdal::errors::GdalError| Error::Output { path: path.to_owned(), reason: e.to_string() };
    let dir = path.parent().unwrap_or(Path::new("."));
    let stage =
        dir.join(format!(".{}.{}.tmp", path.file_name().unwrap_or_default().to_string_lossy(), std::process::id()));
    std::fs::create_dir_all(&stage).map_err(|e| Error::Output { path: stage.clone(), reason: e.to_string() })?;
    let staged = stage.join(path.file_name().unwrap_or_default());
    let written = (|| -> Result<()> {
        let driver = DriverManager::get_driver_by_name(match format {
            OgrFormat::Gpkg => "GPKG",
            OgrFormat::Shp => "ESRI Shapefile",
        })
        .map_err(fail)?;
        let mut ds = driver.create_vector_only(&staged).map_err(fail)?;
        let srs = match &set.crs {
            FeatureCrs::Wgs84 => Some(crate::georef::wgs84()?),
            FeatureCrs::Native { wkt, .. } => Some(SpatialRef::from_wkt(wkt).map_err(fail)?),
            FeatureCrs::Pixel | FeatureCrs::MapUnits => None,
        };
        let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        // GeoPackage writes far faster in one transaction; Shapefiles have none.
        if format == OgrFormat::Gpkg {
            let mut tx = ds.start_transaction().map_err(fail)?;
            write_layer(&mut tx, &name, srs.as_ref(), set).map_err(fail)?;
            tx.commit().map_err(fail)?;
        } else {
            write_layer(&mut ds, &name, srs.as_ref(), set).map_err(fail)?;
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
fn write_layer(
    ds: &mut gdal::Dataset,
    name: &str,
    srs: Option<&SpatialRef>,
    set: &FeatureSet,
) -> gdal::errors::Result<()> {
    let layer = ds.create_layer(LayerOptions { name, srs, ty: OGRwkbGeometryType::wkbPolygon, options: None })?;
    let fields = [
        ("score", OGRFieldType::OFTReal),
        ("class", OGRFieldType::OFTString),
        ("source", OGRFieldType::OFTString),
        (PIXEL_BBOX_FIELDS[0], OGRFieldType::OFTReal),
        (PIXEL_BBOX_FIELDS[1], OGRFieldType::OFTReal),
        (PIXEL_BBOX_FIELDS[2], OGRFieldType::OFTReal),
        (PIXEL_BBOX_FIELDS[3], OGRFieldType::OFTReal),
        ("area_m2", OGRFieldType::OFTReal),
        ("diameter_m", OGRFieldType::OFTReal),
        ("score_sd", OGRFieldType::OFTReal),
    ];
    layer.create_defn_fields(&fields)?;
    for f in &set.features {
        let wkt =
            format!("POLYGON(({}))", f.ring.iter().map(|[x, y]| format!("{x} {y}")).collect::<Vec<_>>().join(","));
        let mut feature = gdal::vector::Feature::new(layer.defn())?;
        feature.set_geometry(Geometry::from_wkt(&wkt)?)?;
        feature.set_field_double(0, f.score)?;
        feature.set_field_string(1, &f.class)?;
        feature.set_field_string(2, &f.source)?;
        for (i, v) in f.bbox.iter().enumerate() {
            feature.set_field_double(3 + i, *v)?;
        }
        if let (Some(a), Some(d)) = (f.area_m2, f.diameter_m) {
            feature.set_field_double(7, a)?;
            feature.set_field_double(8, d)?;
        }
        if let Some(u) = f.uncertainty {
            feature.set_field_double(9, u)?;
        }
        feature.create(&layer)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_are_closed_and_counterclockwise() {
        let r = counterclockwise(vec![[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]);
        assert_eq!(r, vec![[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]);
    }

    #[test]
    fn geojson_round_trips() {
        let set = FeatureSet {
            crs: FeatureCrs::Wgs84,
            features: vec![OutFeature {
                ring: vec![[1.0, 2.0], [1.5, 2.0], [1.5, 2.5], [1.0, 2.0]],
                score: 0.75,
                class: "shrub".into(),
                source: "a.tif".into(),
                bbox: [1.0, 2.0, 3.0, 4.0],
                centre: Some([2.5, 3.0]),
                area_m2: Some(12.5),
                diameter_m: Some(3.99),
                uncertainty: Some(0.031),
            }],
        };
        let text = geojson(&set);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.geojson");
        write_atomic(&p, text.as_bytes()).unwrap();
        let back = read_geojson(&p).unwrap();
        assert_eq!(back, set);
        assert_eq!(geojson(&back), text);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }
}
