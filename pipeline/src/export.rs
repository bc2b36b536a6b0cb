//! Detections as files a GIS opens: RFC 7946 GeoJSON (WGS84, lon/lat), the
//! raster's own CRS on request, and GeoPackage or Shapefile through OGR.
//! Every file is written to a temporary name and renamed, so an interrupted
//! run never leaves half a file.

use crate::detect::RasterDetections;
use crate::error::{Error, Result};
use crate::georef::Georef;
use crate::vector::{write_polygons, PolygonLayer};
use detection::coords::PixelPoint;
use detection::formats::features::{
    CrsMember, CrsProperties, DetectionCollection, DetectionFeature, DetectionProperties, OGR_FIELDS,
};
use gdal::spatial_ref::SpatialRef;
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// Detections of one raster, or of several, in one CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSet {
    /// Their CRS.
    pub crs: FeatureCrs,
    /// The features, best first within each raster.
    pub features: Vec<DetectionFeature>,
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
        out.push(DetectionFeature::new(
            ring,
            DetectionProperties {
                area_m2: d.outline.as_ref().zip(gsd).map(|(o, g)| round(o.area_px() * g.x * g.y, 2)),
                class: class.to_owned(),
                diameter_m: d.outline.as_ref().zip(gsd).map(|(o, g)| round(o.diameter_px() * g.mean(), 2)),
                pixel_bbox: [b.x0, b.y0, b.x1, b.y1].map(|v| round(v, 3)),
                pixel_centre: d.outline.as_ref().map(|_| [round(d.centre.x, 3), round(d.centre.y, 3)]),
                score: round(d.score as f64, 6),
                score_sd: d.uncertainty.map(|u| round(u as f64, 6)),
                source: source.clone(),
            },
        ));
    }
    Ok(FeatureSet { crs: set_crs, features: out })
}

/// The GeoJSON text of a feature set: one feature per line, so large files
/// stream through line-based tools and diff well.
pub fn geojson(set: &FeatureSet) -> String {
    let mut s = String::from("{\"type\":\"FeatureCollection\",");
    match &set.crs {
        FeatureCrs::Wgs84 => {}
        FeatureCrs::Native { epsg, wkt } => {
            let member = match epsg {
                Some(code) => CrsMember {
                    kind: "name".into(),
                    properties: CrsProperties { name: Some(format!("urn:ogc:def:crs:EPSG::{code}")), wkt: None },
                },
                None => CrsMember { kind: "wkt".into(), properties: CrsProperties { name: None, wkt: Some(wkt.clone()) } },
            };
            s.push_str(&format!("\"crs\":{},", serde_json::to_string(&member).expect("a CRS member serialises")));
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
        s.push_str(&serde_json::to_string(f).expect("a feature serialises"));
    }
    s.push_str("\n]}\n");
    s
}

/// Reads a feature set back from a GeoJSON file this module wrote.
pub fn read_geojson(path: &Path) -> Result<FeatureSet> {
    let bad = |reason: String| Error::Output { path: path.to_owned(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let v: DetectionCollection = serde_json::from_str(&text)
        .map_err(|e| bad(format!("not a detections file rsdetect reads ({e}); delete it to redo that input")))?;
    let crs = match (&v.coordinates, &v.crs) {
        (Some(c), _) if c.starts_with("pixel") => FeatureCrs::Pixel,
        (Some(_), _) => FeatureCrs::MapUnits,
        (None, Some(CrsMember { properties: CrsProperties { name: Some(name), .. }, .. })) => {
            let epsg = name.rsplit(':').next().and_then(|c| c.parse().ok());
            let wkt =
                epsg.and_then(|c| SpatialRef::from_epsg(c).ok()).and_then(|s| s.to_wkt().ok()).unwrap_or_default();
            FeatureCrs::Native { wkt, epsg }
        }
        (None, Some(CrsMember { properties: CrsProperties { wkt: Some(wkt), .. }, .. })) => {
            FeatureCrs::Native { wkt: wkt.clone(), epsg: None }
        }
        (None, _) => FeatureCrs::Wgs84,
    };
    if let Some(i) = v.features.iter().position(|f| f.ring().is_empty()) {
        return Err(bad(format!("feature {i} has no polygon; delete it to redo that input")));
    }
    let features = v.features;
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

pub use crate::vector::OgrFormat;

/// Writes a feature set with OGR (fields score, class, source, pixel_x0 ..
/// pixel_y1, area_m2, diameter_m, score_sd), through a temporary folder and
/// renames.
pub fn write_ogr(path: &Path, format: OgrFormat, set: &FeatureSet) -> Result<()> {
    let fail = |e: gdal::errors::GdalError| Error::Output { path: path.to_owned(), reason: e.to_string() };
    let srs = match &set.crs {
        FeatureCrs::Wgs84 => Some(crate::georef::wgs84()?),
        FeatureCrs::Native { wkt, .. } => Some(SpatialRef::from_wkt(wkt).map_err(fail)?),
        FeatureCrs::Pixel | FeatureCrs::MapUnits => None,
    };
    let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    let layer = PolygonLayer { name: &name, srs: srs.as_ref(), fields: &OGR_FIELDS };
    let rows = set.features.iter().map(|f| (f.ring(), f.properties.ogr_values().to_vec()));
    write_polygons(path, format, &layer, rows)
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
            features: vec![DetectionFeature::new(
                vec![[1.0, 2.0], [1.5, 2.0], [1.5, 2.5], [1.0, 2.0]],
                DetectionProperties {
                    area_m2: Some(12.5),
                    class: "shrub".into(),
                    diameter_m: Some(3.99),
                    pixel_bbox: [1.0, 2.0, 3.0, 4.0],
                    pixel_centre: Some([2.5, 3.0]),
                    score: 0.75,
                    score_sd: Some(0.031),
                    source: "a.tif".into(),
                },
            )],
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
