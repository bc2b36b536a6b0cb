//! Labelled areas: polygons (any OGR format, any CRS) inside which every
//! object is labelled. Inside them, unlabelled pixels are background;
//! outside, training learns nothing as background. They pair with rasters
//! by location, and are drawn into a per-pixel mask of the raster.

use crate::error::{Error, Result};
use crate::labels::{to_crs, transform};
use crate::raster::Raster;
use detection::coords::{MapPoint, PixelPoint};
use geo::{Coord, LineString, Polygon};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A file of labelled areas as read: polygons in its CRS.
#[derive(Debug, Clone)]
pub struct AreaFile {
    /// The file.
    pub path: PathBuf,
    /// Its CRS as WKT (`None`: the file states none; assumed to be the raster's).
    pub crs: Option<String>,
    /// Its polygons (multipolygons are split into their parts).
    pub polygons: Vec<Polygon<f64>>,
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Labels { path: path.to_owned(), reason: reason.into() }
}

/// Reads a file of labelled-area polygons through OGR.
pub fn read_areas(path: &Path) -> Result<AreaFile> {
    let unopened = || {
        bad(
            path,
            "OGR recognises no vector format in it; labelled areas are polygons in GeoJSON, Shapefile or GeoPackage",
        )
    };
    let file = crate::vector::read_vector(path, &[], unopened, |reason| bad(path, reason))?;
    let mut polygons = Vec::new();
    for f in file.features {
        match f.geometry {
            geo::Geometry::Polygon(p) => polygons.push(p),
            geo::Geometry::MultiPolygon(m) => polygons.extend(m.0),
            geo::Geometry::Rect(r) => polygons.push(r.to_polygon()),
            _ => {
                return Err(bad(
                    path,
                    format!(
                    "feature {} is not a polygon; a labelled area is a polygon around objects that are all labelled",
                    f.fid
                ),
                ))
            }
        }
    }
    Ok(AreaFile { path: path.to_owned(), crs: file.crs, polygons })
}

/// Every file of `paths`, read.
pub fn read_area_files(paths: &[PathBuf]) -> Result<Vec<AreaFile>> {
    paths.iter().map(|p| read_areas(p)).collect()
}

/// The labelled areas of `files` that overlap `raster`, as polygons in its
/// pixel grid.
pub fn areas_in_raster(files: &[AreaFile], raster: &Raster) -> Result<Vec<Polygon<f64>>> {
    let (w, h) = raster.size();
    let mut out = Vec::new();
    for f in files {
        let ct = match (&f.crs, raster.georef().crs()) {
            (Some(wkt), Some(crs)) => Some(to_crs(wkt, crs).map_err(|e| bad(&f.path, e))?),
            _ => None,
        };
        let to_pixels = |ring: &LineString<f64>| -> Result<LineString<f64>> {
            let mut pts: Vec<MapPoint> = ring.coords().map(|c| MapPoint { x: c.x, y: c.y }).collect();
            if let Some(ct) = &ct {
                pts = transform(ct, &pts).map_err(|e| bad(&f.path, e))?;
            }
            Ok(pts
                .into_iter()
                .map(|m| raster.georef().map_to_pixel(m))
                .map(|p| Coord { x: p.x, y: p.y })
                .collect::<Vec<_>>()
                .into())
        };
        for p in &f.polygons {
            let exterior = to_pixels(p.exterior())?;
            let overlaps = {
                let (xs, ys) = (exterior.coords().map(|c| c.x), exterior.coords().map(|c| c.y));
                let (x0, x1) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
                let (y0, y1) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
                x1 > 0.0 && y1 > 0.0 && x0 < w as f64 && y0 < h as f64
            };
            if overlaps {
                let holes = p.interiors().iter().map(to_pixels).collect::<Result<Vec<_>>>()?;
                out.push(Polygon::new(exterior, holes));
            }
        }
    }
    Ok(out)
}

/// Pixels of a `width` x `height` grid whose centres lie inside any of
/// `polygons` (pixel coordinates, holes outside), row by row: 1 inside, 0
/// outside.
pub fn area_mask(polygons: &[Polygon<f64>], width: usize, height: usize) -> Vec<u8> {
    let mut mask = vec![0u8; width * height];
    for p in polygons {
        polygon_spans(p, width, height, |y, xs| mask[y * width..(y + 1) * width][xs].fill(1));
    }
    mask
}

/// Calls `span(row, columns)` for each run of pixels of a `width` x
/// `height` grid whose centres lie inside `p` (pixel coordinates, holes
/// outside): a scanline fill by the even-odd rule over its rings, on the
/// rows its extent covers.
pub fn polygon_spans(p: &Polygon<f64>, width: usize, height: usize, mut span: impl FnMut(usize, Range<usize>)) {
    let (top, bottom) = p.exterior().coords().fold((f64::MAX, f64::MIN), |(a, b), c| (a.min(c.y), b.max(c.y)));
    if top > bottom {
        return;
    }
    let rows = (top.floor().max(0.0) as usize)..(bottom.ceil().max(0.0) as usize).min(height);
    let mut xs = Vec::new();
    for y in rows {
        let yc = y as f64 + 0.5;
        xs.clear();
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for l in ring.lines() {
                let (a, b) = (l.start, l.end);
                if (a.y <= yc) != (b.y <= yc) {
                    xs.push(a.x + (yc - a.y) / (b.y - a.y) * (b.x - a.x));
                }
            }
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            // Pixels whose centre x + 0.5 lies in [pair[0], pair[1]).
            let from = (pair[0] - 0.5).ceil().clamp(0.0, width as f64) as usize;
            let to = (pair[1] - 0.5).ceil().clamp(0.0, width as f64) as usize;
            span(y, from..to.max(from));
        }
    }
}

/// Moves a pixel polygon through `f` (another pixel grid of the same place).
pub fn map_polygon(p: &Polygon<f64>, f: impl Fn(PixelPoint) -> PixelPoint) -> Polygon<f64> {
    let ring = |r: &LineString<f64>| -> LineString<f64> {
        r.coords()
            .map(|c| f(PixelPoint { x: c.x, y: c.y }))
            .map(|p| Coord { x: p.x, y: p.y })
            .collect::<Vec<_>>()
            .into()
    };
    Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_area_masks_the_pixels_whose_centres_it_holds() {
        let square = Polygon::new(vec![(2.0, 1.0), (6.0, 1.0), (6.0, 4.0), (2.0, 4.0), (2.0, 1.0)].into(), vec![]);
        let mask = area_mask(&[square], 8, 6);
        let inside: Vec<(usize, usize)> = (0..48).filter(|i| mask[*i] == 1).map(|i| (i % 8, i / 8)).collect();
        let expected: Vec<(usize, usize)> = (1..4).flat_map(|y| (2..6).map(move |x| (x, y))).collect();
        assert_eq!(inside, expected, "columns 2..6 and rows 1..4 have their centres inside");
    }

    #[test]
    fn holes_are_outside() {
        let outer: LineString<f64> = vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)].into();
        let hole: LineString<f64> = vec![(3.0, 3.0), (7.0, 3.0), (7.0, 7.0), (3.0, 7.0), (3.0, 3.0)].into();
        let mask = area_mask(&[Polygon::new(outer, vec![hole])], 10, 10);
        assert_eq!(mask[5 * 10 + 5], 0, "the hole's centre");
        assert_eq!(mask[10 + 1], 1, "inside the ring");
    }
}
