//! Pixel <-> map <-> WGS84: the one place where coordinates change frame.

use crate::error::{Error, Result};
use detection::coords::{LonLat, MapPoint, PixelPoint, PixelWindow};
use detection::options::LonLatBounds;
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use std::path::{Path, PathBuf};

/// Mean Earth radius (IUGG), used only to express degrees as metres for the
/// ground sample distance of rasters in a geographic CRS.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// An affine pixel -> map transform, in GDAL's order:
/// `x = t[0] + col*t[1] + row*t[2]`, `y = t[3] + col*t[4] + row*t[5]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoTransform(pub [f64; 6]);

impl GeoTransform {
    /// What GDAL reports for a raster without georeferencing: map = pixel.
    pub const IDENTITY: GeoTransform = GeoTransform([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);

    /// The frame of a raster without georeferencing, the one QGIS shows it
    /// in: x = column, y = -row. Every vector file rsdetect reads or writes
    /// for such a raster (labels, labelled areas, detections, suggested
    /// windows) is in it, so what a user digitises over the image in QGIS and
    /// rsdetect's own outputs line up and round-trip.
    pub const PIXEL_FRAME: GeoTransform = GeoTransform([0.0, 1.0, 0.0, 0.0, 0.0, -1.0]);

    /// Map coordinates of a pixel position.
    pub fn apply(&self, p: PixelPoint) -> MapPoint {
        let t = &self.0;
        MapPoint { x: t[0] + p.x * t[1] + p.y * t[2], y: t[3] + p.x * t[4] + p.y * t[5] }
    }

    /// The WGS84 transform of a `width` x `height` image whose edges lie at
    /// `b` (north up, as Google Earth saves images).
    pub fn of_bounds(b: LonLatBounds, width: usize, height: usize) -> GeoTransform {
        let (dx, dy) = ((b.east - b.west) / width as f64, (b.north - b.south) / height as f64);
        GeoTransform([b.west, dx, 0.0, b.north, 0.0, -dy])
    }

    /// The inverse transform, or `None` when the transform is degenerate.
    pub fn inverse(&self) -> Option<GeoTransform> {
        let t = &self.0;
        let det = t[1] * t[5] - t[2] * t[4];
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let (a, b, d, e) = (t[5] / det, -t[2] / det, -t[4] / det, t[1] / det);
        Some(GeoTransform([-(a * t[0] + b * t[3]), a, b, -(d * t[0] + e * t[3]), d, e]))
    }

    /// Length on the map of one pixel step along x and along y, in CRS units.
    pub fn pixel_size(&self) -> (f64, f64) {
        let t = &self.0;
        (t[1].hypot(t[4]), t[2].hypot(t[5]))
    }

    /// The transform of the same area sampled with pixels `fx` times wider
    /// and `fy` times taller.
    pub fn scaled(&self, fx: f64, fy: f64) -> GeoTransform {
        let t = &self.0;
        GeoTransform([t[0], t[1] * fx, t[2] * fy, t[3], t[4] * fx, t[5] * fy])
    }
}

/// How a raster's pixels sit on the Earth: its transform and CRS, with the
/// transformation to WGS84 built once.
pub struct Georef {
    path: PathBuf,
    transform: GeoTransform,
    inverse: GeoTransform,
    has_transform: bool,
    crs: Option<SpatialRef>,
    to_wgs84: Option<CoordTransform>,
}

impl Georef {
    /// Georeferencing from a transform (`None`: the pixel frame,
    /// [`GeoTransform::PIXEL_FRAME`]) and a CRS.
    pub fn new(path: &Path, transform: Option<GeoTransform>, crs: Option<SpatialRef>) -> Result<Georef> {
        let has_transform = transform.is_some();
        let transform = transform.unwrap_or(GeoTransform::PIXEL_FRAME);
        let inverse = transform.inverse().ok_or_else(|| Error::Transform {
            path: path.to_owned(),
            reason: format!("the geotransform {:?} cannot be inverted; fix it with gdal_edit.py -a_ullr", transform.0),
        })?;
        let crs = crs.map(|mut c| {
            c.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
            c
        });
        let to_wgs84 = match (&crs, has_transform) {
            (Some(src), true) => Some(
                CoordTransform::new(src, &wgs84()?)
                    .map_err(|e| Error::Transform { path: path.to_owned(), reason: e.to_string() })?,
            ),
            _ => None,
        };
        Ok(Georef { path: path.to_owned(), transform, inverse, has_transform, crs, to_wgs84 })
    }

    /// The georeferencing a raster description records.
    pub fn from_info(info: &crate::raster::RasterInfo) -> Result<Georef> {
        let crs = match &info.crs {
            Some(c) => Some(
                SpatialRef::from_wkt(&c.wkt)
                    .map_err(|e| Error::Transform { path: info.path.clone(), reason: e.to_string() })?,
            ),
            None => None,
        };
        Georef::new(&info.path, info.geotransform.map(GeoTransform), crs)
    }

    /// Whether pixels have map coordinates (a geotransform) at all.
    pub fn has_transform(&self) -> bool {
        self.has_transform
    }

    /// Whether map coordinates can be converted to WGS84 (transform and CRS).
    pub fn is_georeferenced(&self) -> bool {
        self.to_wgs84.is_some()
    }

    /// The pixel -> map transform ([`GeoTransform::PIXEL_FRAME`] without
    /// georeferencing).
    pub fn transform(&self) -> GeoTransform {
        self.transform
    }

    /// The raster's CRS, if it has one.
    pub fn crs(&self) -> Option<&SpatialRef> {
        self.crs.as_ref()
    }

    /// Map coordinates of a pixel position.
    pub fn pixel_to_map(&self, p: PixelPoint) -> MapPoint {
        self.transform.apply(p)
    }

    /// Pixel position of a map point.
    pub fn map_to_pixel(&self, m: MapPoint) -> PixelPoint {
        let q = self.inverse.apply(PixelPoint { x: m.x, y: m.y });
        PixelPoint { x: q.x, y: q.y }
    }

    /// The position in `other`'s pixels of a position in this grid's (the
    /// same place on the map): from a raster to its resampled view, or back.
    pub fn pixel_in(&self, p: PixelPoint, other: &Georef) -> PixelPoint {
        other.map_to_pixel(self.pixel_to_map(p))
    }

    /// WGS84 lon/lat of map points (lon first, as RFC 7946 wants).
    pub fn map_to_wgs84(&self, points: &[MapPoint]) -> Result<Vec<LonLat>> {
        let Some(ct) = &self.to_wgs84 else {
            return Err(Error::Transform {
                path: self.path.clone(),
                reason: "the raster has no CRS or no geotransform; assign one with gdal_edit.py -a_srs EPSG:XXXX"
                    .into(),
            });
        };
        let mut xs: Vec<f64> = points.iter().map(|p| p.x).collect();
        let mut ys: Vec<f64> = points.iter().map(|p| p.y).collect();
        ct.transform_coords(&mut xs, &mut ys, &mut [])
            .map_err(|e| Error::Transform { path: self.path.clone(), reason: e.to_string() })?;
        Ok(xs.into_iter().zip(ys).map(|(lon, lat)| LonLat { lon, lat }).collect())
    }

    /// Pixel positions of WGS84 lon/lat points (features read back).
    pub fn wgs84_to_pixel(&self, points: &[LonLat]) -> Result<Vec<PixelPoint>> {
        let fail = |reason: String| Error::Transform { path: self.path.clone(), reason };
        let Some(crs) = self.crs.as_ref().filter(|_| self.has_transform) else {
            return Err(fail("the raster has no CRS or no geotransform".into()));
        };
        let ct = CoordTransform::new(&wgs84()?, crs).map_err(|e| fail(e.to_string()))?;
        let mut xs: Vec<f64> = points.iter().map(|p| p.lon).collect();
        let mut ys: Vec<f64> = points.iter().map(|p| p.lat).collect();
        ct.transform_coords(&mut xs, &mut ys, &mut []).map_err(|e| fail(e.to_string()))?;
        Ok(xs.into_iter().zip(ys).map(|(x, y)| self.map_to_pixel(MapPoint { x, y })).collect())
    }

    /// WGS84 lon/lat of pixel positions.
    pub fn pixel_to_wgs84(&self, points: &[PixelPoint]) -> Result<Vec<LonLat>> {
        let map: Vec<MapPoint> = points.iter().map(|&p| self.pixel_to_map(p)).collect();
        self.map_to_wgs84(&map)
    }

    /// The four corners of a pixel window as map points, clockwise from the
    /// top-left, for footprints.
    pub fn window_corners(&self, w: &PixelWindow) -> [MapPoint; 4] {
        let (x0, y0, x1, y1) = (w.x as f64, w.y as f64, w.x_end() as f64, w.y_end() as f64);
        [(x0, y0), (x1, y0), (x1, y1), (x0, y1)].map(|(x, y)| self.pixel_to_map(PixelPoint { x, y }))
    }

    /// Ground sample distance in metres along x and y, taken at `centre`
    /// (which matters only for geographic CRSs); `None` without a CRS.
    pub fn gsd_m(&self, centre: PixelPoint) -> Option<(f64, f64)> {
        let crs = self.crs.as_ref().filter(|_| self.has_transform)?;
        let (sx, sy) = self.transform.pixel_size();
        if crs.is_geographic() {
            let lat = self.pixel_to_map(centre).y.to_radians();
            let m_per_deg = EARTH_RADIUS_M.to_radians();
            Some((sx * m_per_deg * lat.cos(), sy * m_per_deg))
        } else {
            let unit = crs.linear_units();
            Some((sx * unit, sy * unit))
        }
    }
}

/// WGS84 with longitude first, the CRS of every GeoJSON we write.
pub fn wgs84() -> Result<SpatialRef> {
    let mut srs = SpatialRef::from_epsg(4326).map_err(|e| Error::Transform {
        path: PathBuf::new(),
        reason: format!("EPSG:4326 unknown to PROJ: {e}; is proj-data installed?"),
    })?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_round_trips_a_rotated_transform() {
        let t = GeoTransform([500_000.0, 0.6, 0.1, 3_700_000.0, 0.05, -0.6]);
        let inv = t.inverse().unwrap();
        let p = PixelPoint { x: 123.25, y: 77.5 };
        let m = t.apply(p);
        let q = inv.apply(PixelPoint { x: m.x, y: m.y });
        assert!((q.x - p.x).abs() < 1e-9 && (q.y - p.y).abs() < 1e-9);
    }

    #[test]
    fn utm_pixels_reach_wgs84_lon_first() {
        let crs = SpatialRef::from_epsg(32617).unwrap();
        let g =
            Georef::new(Path::new("t"), Some(GeoTransform([500_000.0, 1.0, 0.0, 0.0, 0.0, -1.0])), Some(crs)).unwrap();
        // The central meridian of UTM 17N at the equator.
        let ll = g.pixel_to_wgs84(&[PixelPoint { x: 0.0, y: 0.0 }]).unwrap();
        assert!((ll[0].lon + 81.0).abs() < 1e-9, "{:?}", ll[0]);
        assert!(ll[0].lat.abs() < 1e-9);
        assert_eq!(g.gsd_m(PixelPoint { x: 0.0, y: 0.0 }), Some((1.0, 1.0)));
    }

    #[test]
    fn no_georeferencing_is_qgis_pixel_frame() {
        let g = Georef::new(Path::new("t"), None, None).unwrap();
        assert!(!g.is_georeferenced());
        assert_eq!(g.pixel_to_map(PixelPoint { x: 3.0, y: 4.0 }), MapPoint { x: 3.0, y: -4.0 });
        assert_eq!(g.map_to_pixel(MapPoint { x: 3.0, y: -4.0 }), PixelPoint { x: 3.0, y: 4.0 });
        assert!(g.map_to_wgs84(&[MapPoint { x: 0.0, y: 0.0 }]).is_err());
        assert_eq!(g.gsd_m(PixelPoint { x: 0.0, y: 0.0 }), None);
    }
}
