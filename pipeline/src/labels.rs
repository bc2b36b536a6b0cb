//! Labels as GIS users keep them: GeoJSON, Shapefile or GeoPackage (points,
//! boxes or polygons, any CRS) read through OGR, and CSV in pixel
//! coordinates. Georeferenced labels pair with rasters by location: one file
//! for a whole area or one per image, whatever their names.

use crate::error::{Error, Result};
use crate::raster::Raster;
use detection::coords::{LonLat, MapPoint, PixelBox, PixelPoint};
use detection::outline::Outline;
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use geo::{BoundingRect, Centroid};
use std::path::{Path, PathBuf};

/// One labelled object in its file's coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Its centre (a point label's position, a polygon's centroid).
    pub centre: MapPoint,
    /// Its extent, for boxes and polygons.
    pub extent: Option<(MapPoint, MapPoint)>,
    /// A polygon's exterior ring (the largest part's, for several); empty
    /// for points and boxes.
    pub ring: Vec<MapPoint>,
    /// Its class name, when the file gives one (see [`CLASS_FIELDS`]).
    pub class: Option<String>,
}

/// The columns or fields a label's class name is read from, in order of
/// preference (any case); a Pascal VOC object's is its `name`.
pub const CLASS_FIELDS: [&str; 2] = ["label", "class"];

/// Where a label file's coordinates live.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelCoords {
    /// A CRS, as WKT (`None`: the file states none; assumed to be the raster's).
    Map(Option<String>),
    /// Pixels of the raster named in each row, or of the raster whose file
    /// stem equals the CSV's.
    Pixel,
}

/// A label file as read.
#[derive(Debug, Clone)]
pub struct LabelFile {
    /// The file.
    pub path: PathBuf,
    /// Its coordinates.
    pub coords: LabelCoords,
    /// Its labels.
    pub labels: Vec<Label>,
    /// For CSVs with an image column: the image file name of each label.
    pub images: Vec<Option<String>>,
    /// WGS84 position of each label (georeferenced files only), to find the
    /// rasters a label falls in without reprojecting every file for each.
    lonlat: Vec<LonLat>,
}

pub use detection::objects::PixelLabel;

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Labels { path: path.to_owned(), reason: reason.into() }
}

/// Reads a label file: `.csv` and Pascal VOC `.xml` as pixel coordinates,
/// anything else through OGR.
pub fn read_labels(path: &Path) -> Result<LabelFile> {
    crate::raster::init_gdal();
    if !path.exists() {
        return Err(Error::NotFound { path: path.to_owned() });
    }
    let ext = |x: &str| path.extension().is_some_and(|e| e.eq_ignore_ascii_case(x));
    if ext("csv") {
        read_csv(path)
    } else if ext("xml") {
        read_voc(path)
    } else {
        read_ogr(path)
    }
}

/// Pascal VOC: boxes (pixel edges) of the image the file names.
fn read_voc(path: &Path) -> Result<LabelFile> {
    let a = detection::formats::voc::Annotation::read(path).map_err(|e| bad(path, e))?;
    let labels = a
        .objects
        .iter()
        .map(|o| {
            let b = o.bndbox;
            Label {
                centre: MapPoint { x: (b.xmin + b.xmax) / 2.0, y: (b.ymin + b.ymax) / 2.0 },
                extent: Some((MapPoint { x: b.xmin, y: b.ymin }, MapPoint { x: b.xmax, y: b.ymax })),
                ring: Vec::new(),
                class: Some(o.name.trim().to_owned()).filter(|n| !n.is_empty()),
            }
        })
        .collect::<Vec<_>>();
    let images = vec![a.filename.clone(); labels.len()];
    Ok(LabelFile { path: path.to_owned(), coords: LabelCoords::Pixel, labels, images, lonlat: vec![] })
}

/// CSV columns: `x,y` (pixel indices: the label is the pixel's centre) or
/// `xmin,ymin,xmax,ymax` (pixel edges), with an optional `image_path` column
/// naming the raster file. Column order does not matter.
fn read_csv(path: &Path) -> Result<LabelFile> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> =
        lines.next().ok_or_else(|| bad(path, "empty file"))?.split(',').map(|h| h.trim().to_lowercase()).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let image = col("image_path");
    let class = CLASS_FIELDS.iter().find_map(|f| col(f));
    let (points, boxes) = ((col("x"), col("y")), (col("xmin"), col("ymin"), col("xmax"), col("ymax")));
    let mut labels = Vec::new();
    let mut images = Vec::new();
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let num = |i: usize| -> Result<f64> {
            cells
                .get(i)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| bad(path, format!("line {}: column {} is not a number", n + 2, header[i])))
        };
        let class = class.and_then(|i| cells.get(i)).map(|c| c.to_string()).filter(|c| !c.is_empty());
        let label = match (points, boxes) {
            (_, (Some(a), Some(b), Some(c), Some(d))) => {
                let (x0, y0, x1, y1) = (num(a)?, num(b)?, num(c)?, num(d)?);
                Label {
                    centre: MapPoint { x: (x0 + x1) / 2.0, y: (y0 + y1) / 2.0 },
                    extent: Some((MapPoint { x: x0, y: y0 }, MapPoint { x: x1, y: y1 })),
                    ring: Vec::new(),
                    class,
                }
            }
            ((Some(x), Some(y)), _) => {
                Label { centre: MapPoint { x: num(x)? + 0.5, y: num(y)? + 0.5 }, extent: None, ring: Vec::new(), class }
            }
            _ => return Err(bad(path, "needs columns x,y or xmin,ymin,xmax,ymax (pixel coordinates)")),
        };
        labels.push(label);
        images.push(image.and_then(|i| cells.get(i)).map(|s| s.to_string()));
    }
    Ok(LabelFile { path: path.to_owned(), coords: LabelCoords::Pixel, labels, images, lonlat: vec![] })
}

fn read_ogr(path: &Path) -> Result<LabelFile> {
    let unopened = || {
        let json = path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "json" | "geojson"));
        let text = std::fs::read(path).unwrap_or_default();
        if text.iter().all(u8::is_ascii_whitespace) {
            bad(path, "the file is empty; labels are GeoJSON, Shapefile, GeoPackage or CSV")
        } else if let (true, Err(e)) = (json, serde_json::from_slice::<serde_json::Value>(&text)) {
            bad(path, format!("not valid JSON ({e}); fix it, or export the labels again from the GIS"))
        } else {
            bad(path, "OGR recognises no vector format in it; labels are GeoJSON, Shapefile, GeoPackage or CSV")
        }
    };
    let file = crate::vector::read_vector(path, &CLASS_FIELDS, unopened, |reason| bad(path, reason))?;
    let wkt = file.crs;
    let mut labels = Vec::new();
    for f in file.features {
        let geom = f.geometry;
        if matches!(geom, geo::Geometry::LineString(_) | geo::Geometry::MultiLineString(_) | geo::Geometry::Line(_)) {
            return Err(bad(
                path,
                format!("feature {} is a line; labels are points (object centres), boxes or polygons (crowns)", f.fid),
            ));
        }
        let (Some(c), Some(r)) = (geom.centroid(), geom.bounding_rect()) else { continue };
        let is_point = matches!(geom, geo::Geometry::Point(_) | geo::Geometry::MultiPoint(_));
        labels.push(Label {
            centre: MapPoint { x: c.x(), y: c.y() },
            extent: (!is_point)
                .then(|| (MapPoint { x: r.min().x, y: r.min().y }, MapPoint { x: r.max().x, y: r.max().y })),
            ring: exterior_ring(&geom),
            class: f.field,
        });
    }
    let lonlat = match &wkt {
        Some(w) => {
            let ct = to_crs(w, &crate::georef::wgs84()?).map_err(|e| bad(path, e))?;
            transform(&ct, &labels.iter().map(|l| l.centre).collect::<Vec<_>>())
                .map_err(|e| bad(path, e))?
                .into_iter()
                .map(|m| LonLat { lon: m.x, lat: m.y })
                .collect()
        }
        None => vec![],
    };
    let images = vec![None; labels.len()];
    Ok(LabelFile { path: path.to_owned(), coords: LabelCoords::Map(wkt), labels, images, lonlat })
}

/// The class names `files` give their labels, most common first, with how
/// many labels carry each. Names differing only in case are one (the first
/// seen spelling); numbers are class indices, not names, and are left out.
pub fn class_names(files: &[LabelFile]) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let named = files.iter().flat_map(|f| &f.labels).filter_map(|l| l.class.as_ref());
    for c in named.filter(|c| c.parse::<f64>().is_err()) {
        match counts.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(c)) {
            Some((_, k)) => *k += 1,
            None => counts.push((c.clone(), 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

/// Whether an open ring in pixels is a rectangle along the pixel axes:
/// four corners (repeated corners aside), each side level or upright.
fn is_box(ring: &[PixelPoint]) -> bool {
    let mut corners: Vec<PixelPoint> = Vec::with_capacity(5);
    for &p in ring {
        if corners.last() != Some(&p) {
            corners.push(p);
        }
    }
    if corners.len() > 1 && corners.first() == corners.last() {
        corners.pop();
    }
    if corners.len() != 4 {
        return false;
    }
    let span = corners.iter().map(|p| p.x.abs().max(p.y.abs())).fold(1.0, f64::max);
    let level = |a: PixelPoint, b: PixelPoint| (a.y - b.y).abs() <= 1e-6 * span;
    let upright = |a: PixelPoint, b: PixelPoint| (a.x - b.x).abs() <= 1e-6 * span;
    (0..4).all(|k| {
        let (a, b, c) = (corners[k], corners[(k + 1) % 4], corners[(k + 2) % 4]);
        (level(a, b) && upright(b, c)) || (upright(a, b) && level(b, c))
    })
}

/// The exterior ring of a polygon label (of its largest part), without the
/// closing point; empty for other geometries.
fn exterior_ring(geom: &geo::Geometry<f64>) -> Vec<MapPoint> {
    use geo::Area;
    let largest = match geom {
        geo::Geometry::Polygon(p) => Some(p),
        geo::Geometry::MultiPolygon(m) => m.0.iter().max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area())),
        _ => None,
    };
    let Some(p) = largest else { return Vec::new() };
    let mut ring: Vec<MapPoint> = p.exterior().coords().map(|c| MapPoint { x: c.x, y: c.y }).collect();
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    ring
}

pub(crate) fn to_crs(from_wkt: &str, to: &SpatialRef) -> std::result::Result<CoordTransform, String> {
    let mut from = SpatialRef::from_wkt(from_wkt).map_err(|e| e.to_string())?;
    from.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut to = to.clone();
    to.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    CoordTransform::new(&from, &to).map_err(|e| e.to_string())
}

pub(crate) fn transform(ct: &CoordTransform, pts: &[MapPoint]) -> std::result::Result<Vec<MapPoint>, String> {
    let mut xs: Vec<f64> = pts.iter().map(|p| p.x).collect();
    let mut ys: Vec<f64> = pts.iter().map(|p| p.y).collect();
    if !xs.is_empty() {
        ct.transform_coords(&mut xs, &mut ys, &mut []).map_err(|e| e.to_string())?;
    }
    Ok(xs.into_iter().zip(ys).map(|(x, y)| MapPoint { x, y }).collect())
}

/// Why none of `files`' labels fell inside `rasters`, with the fix: the
/// frame vector files are read in for a raster without georeferencing
/// (x = column, y = -row, as QGIS shows it), and whether the labels would
/// fall inside with y = +row, the frame of image tools that count rows down.
pub fn why_none_inside(files: &[LabelFile], rasters: &[Raster]) -> String {
    let vectors: Vec<&LabelFile> = files.iter().filter(|f| matches!(f.coords, LabelCoords::Map(_))).collect();
    let Some(r) = rasters.iter().find(|r| !r.georef().has_transform()).filter(|_| !vectors.is_empty()) else {
        return "check that the labels' CRS and extent match the imagery (ogrinfo -al -so, gdalinfo)".into();
    };
    let (w, h) = r.size();
    let rows_down = vectors
        .iter()
        .flat_map(|f| &f.labels)
        .filter(|l| l.centre.x >= 0.0 && l.centre.x < w as f64 && l.centre.y > 0.0 && l.centre.y < h as f64)
        .count();
    let mut why = format!(
        "{} has no georeferencing, so vector labels are read in its pixel frame, x = column and y = -row (the frame \
         QGIS shows the image in)",
        r.path().display()
    );
    if rows_down > 0 {
        why.push_str(&format!(
            "; {rows_down} labels lie at y = +row instead: negate their y, digitise them over the image in QGIS, or \
             give pixel columns and rows as CSV (x,y or xmin,ymin,xmax,ymax)"
        ));
    } else {
        why.push_str(
            "; digitise the labels over the image in QGIS, give pixel columns and rows as CSV, or georeference the \
             image (--bounds WEST,SOUTH,EAST,NORTH, or a world file beside it)",
        );
    }
    why
}

/// The labels of `files` that fall inside `raster`, in its pixel grid.
/// Georeferenced files pair with rasters by location, except that a file
/// named after the raster (its file stem) is that raster's own, and other
/// georeferenced files then do not apply to it.
pub fn labels_in_raster(files: &[LabelFile], raster: &Raster) -> Result<Vec<PixelLabel>> {
    let info = raster.info();
    let (w, h) = raster.size();
    let name = info.path.file_name().map(|n| n.to_string_lossy().into_owned());
    let stem = info.path.file_stem().map(|n| n.to_string_lossy().into_owned());
    let inside = |p: &PixelPoint| p.x >= 0.0 && p.y >= 0.0 && p.x < w as f64 && p.y < h as f64;
    // Labels kept one file per image (named after it) belong to that image
    // alone: another file over the same place (another year's labels of the
    // same tile) does not apply to it.
    let own_file = |f: &LabelFile| {
        matches!(f.coords, LabelCoords::Map(_)) && f.path.file_stem().map(|s| s.to_string_lossy().into_owned()) == stem
    };
    let has_own = files.iter().any(own_file);
    let mut out = Vec::new();
    for f in files.iter().filter(|f| !has_own || own_file(f) || f.coords == LabelCoords::Pixel) {
        match &f.coords {
            LabelCoords::Pixel => {
                let same_stem = f.path.file_stem().map(|s| s.to_string_lossy().into_owned()) == stem;
                for (l, img) in f.labels.iter().zip(&f.images) {
                    let mine = match img {
                        Some(i) => Path::new(i).file_name().map(|n| n.to_string_lossy().into_owned()) == name,
                        None => same_stem,
                    };
                    let c = PixelPoint { x: l.centre.x, y: l.centre.y };
                    if mine && inside(&c) {
                        let bbox = l.extent.map(|(a, b)| PixelBox { x0: a.x, y0: a.y, x1: b.x, y1: b.y });
                        let outline = bbox.map(|b| Outline::of_box(c, b));
                        out.push(PixelLabel { centre: c, bbox, outline, polygon: None });
                    }
                }
            }
            LabelCoords::Map(wkt) => {
                // Only labels near the raster's footprint are reprojected.
                let near: Vec<&Label> =
                    match (&info.bounds_wgs84, f.lonlat.len() == f.labels.len() && !f.lonlat.is_empty()) {
                        (Some(b), true) => {
                            let m = 0.001;
                            f.labels
                                .iter()
                                .zip(&f.lonlat)
                                .filter(|(_, p)| {
                                    p.lon >= b.lon_min - m
                                        && p.lon <= b.lon_max + m
                                        && p.lat >= b.lat_min - m
                                        && p.lat <= b.lat_max + m
                                })
                                .map(|(l, _)| l)
                                .collect()
                        }
                        _ => f.labels.iter().collect(),
                    };
                if near.is_empty() {
                    continue;
                }
                let mut pts: Vec<MapPoint> = near.iter().map(|l| l.centre).collect();
                let mut corners: Vec<MapPoint> =
                    near.iter().flat_map(|l| l.extent.map(|(a, b)| [a, b]).into_iter().flatten()).collect();
                let mut rings: Vec<MapPoint> = near.iter().flat_map(|l| l.ring.iter().copied()).collect();
                if let (Some(wkt), Some(crs)) = (wkt, raster.georef().crs()) {
                    let ct = to_crs(wkt, crs).map_err(|e| bad(&f.path, e))?;
                    pts = transform(&ct, &pts).map_err(|e| bad(&f.path, e))?;
                    corners = transform(&ct, &corners).map_err(|e| bad(&f.path, e))?;
                    rings = transform(&ct, &rings).map_err(|e| bad(&f.path, e))?;
                }
                let mut corner = corners.into_iter();
                let mut ring_points = rings.into_iter();
                for (l, m) in near.iter().zip(pts) {
                    let c = raster.georef().map_to_pixel(m);
                    let bbox = l.extent.and_then(|_| {
                        let (a, b) = (
                            raster.georef().map_to_pixel(corner.next()?),
                            raster.georef().map_to_pixel(corner.next()?),
                        );
                        Some(PixelBox { x0: a.x.min(b.x), y0: a.y.min(b.y), x1: a.x.max(b.x), y1: a.y.max(b.y) })
                    });
                    let ring: Vec<PixelPoint> =
                        ring_points.by_ref().take(l.ring.len()).map(|p| raster.georef().map_to_pixel(p)).collect();
                    // A rectangle along the raster's axes is a box drawn as a
                    // polygon (QGIS's rectangle tool): it says how far the
                    // object reaches, not its shape.
                    let shaped = ring.len() >= 3 && !is_box(&ring);
                    let outline = match (shaped, bbox) {
                        (true, _) => Some(Outline::of_polygon(c, &ring)),
                        (false, Some(b)) => Some(Outline::of_box(c, b)),
                        (false, None) => None,
                    };
                    if inside(&c) {
                        let polygon = shaped.then(|| ring.into());
                        out.push(PixelLabel { centre: c, bbox, outline, polygon });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Every label file named by `inputs` (see [`find_label_files`]), read.
pub fn read_label_files(inputs: &[PathBuf]) -> Result<Vec<LabelFile>> {
    find_label_files(inputs)?.iter().map(|p| read_labels(p)).collect()
}

/// Label files named by `inputs`: files, or folders searched (not
/// recursively) for .geojson, .json, .shp, .gpkg, .csv and .xml files.
pub fn find_label_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    const EXT: [&str; 6] = ["geojson", "json", "shp", "gpkg", "csv", "xml"];
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| bad(p, e.to_string()))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| {
                    f.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| EXT.iter().any(|x| x.eq_ignore_ascii_case(e)))
                })
                // GDAL's sidecar files (.aux.xml) beside the imagery are not labels.
                .filter(|f| !f.to_string_lossy().to_lowercase().ends_with(".aux.xml"))
                .collect();
            found.sort();
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(Error::NotFound { path: p.clone() });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangles_along_the_axes_are_boxes() {
        let ring = |v: &[(f64, f64)]| v.iter().map(|&(x, y)| PixelPoint { x, y }).collect::<Vec<_>>();
        // Closed or open, either way round, a repeated corner aside.
        assert!(is_box(&ring(&[(1.0, 2.0), (5.0, 2.0), (5.0, 7.0), (1.0, 7.0), (1.0, 2.0)])));
        assert!(is_box(&ring(&[(1.0, 2.0), (1.0, 7.0), (1.0, 7.0), (5.0, 7.0), (5.0, 2.0)])));
        // A turned square, a triangle, an L: shapes.
        assert!(!is_box(&ring(&[(3.0, 0.0), (6.0, 3.0), (3.0, 6.0), (0.0, 3.0)])));
        assert!(!is_box(&ring(&[(0.0, 0.0), (4.0, 0.0), (0.0, 4.0)])));
        assert!(!is_box(&ring(&[(0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (2.0, 2.0), (2.0, 4.0), (0.0, 4.0)])));
    }

    #[test]
    fn class_names_from_csv_voc_and_ogr() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        std::fs::write(&csv, "x,y,class\n1,1,Shrub\n2,2,shrub\n3,3,Tree\n4,4,0\n5,5,\n").unwrap();
        let voc = dir.path().join("b.xml");
        std::fs::write(
            &voc,
            "<annotation><filename>b.tif</filename><object><name>Shrub</name><bndbox><xmin>1</xmin><ymin>1</ymin>\
             <xmax>3</xmax><ymax>3</ymax></bndbox></object></annotation>",
        )
        .unwrap();
        let gj = dir.path().join("c.geojson");
        std::fs::write(
            &gj,
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"Label":"Tree"},"geometry":{"type":"Point","coordinates":[1,-1]}}]}"#,
        )
        .unwrap();
        let files: Vec<LabelFile> = [&csv, &voc, &gj].iter().map(|p| read_labels(p).unwrap()).collect();
        assert_eq!(files[2].labels[0].class.as_deref(), Some("Tree"), "any case of the field's name");
        // Case folds; numbers are indices, not names.
        assert_eq!(class_names(&files), vec![("Shrub".to_string(), 3), ("Tree".to_string(), 2)]);
    }

    #[test]
    fn csv_points_and_boxes_in_pixels() {
        let dir = tempfile::tempdir().unwrap();
        let points = dir.path().join("tile.csv");
        std::fs::write(&points, "x,y\n65,30\n227,32\n").unwrap();
        let f = read_labels(&points).unwrap();
        assert_eq!(f.coords, LabelCoords::Pixel);
        // Pixel indices: the label is the pixel's centre.
        assert_eq!(f.labels[0].centre, MapPoint { x: 65.5, y: 30.5 });
        let boxes = dir.path().join("boxes.csv");
        std::fs::write(
            &boxes,
            "image_path,xmin,ymin,xmax,ymax,label\nOSBS_029.tif,203,67,227,90,Tree\nother.tif,0,0,4,4,Tree\n",
        )
        .unwrap();
        let f = read_labels(&boxes).unwrap();
        assert_eq!(f.labels[0].centre, MapPoint { x: 215.0, y: 78.5 });
        assert_eq!(f.images, [Some("OSBS_029.tif".to_string()), Some("other.tif".to_string())]);
        let osbs =
            Raster::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample_tiles/neon/OSBS_029.tif")).unwrap();
        let inside = labels_in_raster(&[f], &osbs).unwrap();
        assert_eq!(inside.len(), 1, "only the row naming this raster");
        assert_eq!(inside[0].bbox, Some(PixelBox { x0: 203.0, y0: 67.0, x1: 227.0, y1: 90.0 }));
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "a,b\n1,2\n").unwrap();
        assert!(read_labels(&bad).unwrap_err().to_string().contains("needs columns x,y or xmin,ymin,xmax,ymax"));
    }

    #[test]
    fn pascal_voc_boxes_of_the_image_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let voc = dir.path().join("OSBS_029.xml");
        std::fs::write(
            &voc,
            "<annotation><filename>OSBS_029.tif</filename><object><name>Tree</name><bndbox><xmin>203</xmin>\
             <ymin>67</ymin><xmax>227</xmax><ymax>90</ymax></bndbox></object></annotation>",
        )
        .unwrap();
        std::fs::write(dir.path().join("OSBS_029.tif.aux.xml"), "<PAMDataset></PAMDataset>").unwrap();
        assert_eq!(
            find_label_files(&[dir.path().to_owned()]).unwrap(),
            std::slice::from_ref(&voc),
            "sidecars are not labels"
        );
        let osbs =
            Raster::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample_tiles/neon/OSBS_029.tif")).unwrap();
        let inside = labels_in_raster(&[read_labels(&voc).unwrap()], &osbs).unwrap();
        assert_eq!(inside[0].bbox, Some(PixelBox { x0: 203.0, y0: 67.0, x1: 227.0, y1: 90.0 }));
        std::fs::write(&voc, "<html></html>").unwrap();
        assert!(read_labels(&voc).unwrap_err().to_string().contains("not a Pascal VOC annotation"));
    }

    /// Per-image label files: the file named after a raster is its own;
    /// another file over the same place (the same tile labelled in another
    /// year) does not add its labels.
    #[test]
    fn a_file_named_after_the_raster_is_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let points = |pts: &[(f64, f64)]| {
            let features: Vec<String> = pts
                .iter()
                .map(|(x, y)| format!(r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Point","coordinates":[{x},{y}]}}}}"#))
                .collect();
            format!(
                r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::32617"}}}},"features":[{}]}}"#,
                features.join(",")
            )
        };
        let own = dir.path().join("OSBS_029.geojson");
        let other_year = dir.path().join("OSBS_029_2018.geojson");
        std::fs::write(&own, points(&[(404215.0, 3285140.0), (404220.0, 3285130.0)])).unwrap();
        std::fs::write(&other_year, points(&[(404215.2, 3285140.1), (404221.0, 3285131.0), (404230.0, 3285120.0)]))
            .unwrap();
        let osbs =
            Raster::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample_tiles/neon/OSBS_029.tif")).unwrap();
        let files = [read_labels(&other_year).unwrap(), read_labels(&own).unwrap()];
        assert_eq!(labels_in_raster(&files, &osbs).unwrap().len(), 2, "only OSBS_029.geojson");
        // Without a file of its own, every file over the raster applies.
        assert_eq!(labels_in_raster(&files[..1], &osbs).unwrap().len(), 3);
    }
}
