//! Typed coordinates: pixel positions and windows, map points in a raster's CRS,
//! and WGS84 lon/lat. Conversions between them live in [`crate::georef`] only.

use serde::Serialize;
use std::fmt;

/// A position in a raster's pixel grid: x to the right, y down, (0, 0) the
/// top-left corner of the top-left pixel, (0.5, 0.5) its centre.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PixelPoint {
    /// Column, in pixels from the left edge.
    pub x: f64,
    /// Row, in pixels from the top edge.
    pub y: f64,
}

/// A point in the raster's own CRS (metres for projected CRSs, degrees for
/// geographic ones; pixel units when the raster has no georeferencing).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MapPoint {
    /// Easting (or longitude, or column).
    pub x: f64,
    /// Northing (or latitude, or row).
    pub y: f64,
}

/// A WGS84 position in the order RFC 7946 and GIS tools use: longitude first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LonLat {
    /// Longitude in degrees east.
    pub lon: f64,
    /// Latitude in degrees north.
    pub lat: f64,
}

/// A rectangle of whole pixels: `width` columns from `x`, `height` rows from `y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct PixelWindow {
    /// First column.
    pub x: usize,
    /// First row.
    pub y: usize,
    /// Number of columns.
    pub width: usize,
    /// Number of rows.
    pub height: usize,
}

impl PixelWindow {
    /// A window from its top-left corner and size.
    pub const fn new(x: usize, y: usize, width: usize, height: usize) -> Self {
        Self { x, y, width, height }
    }

    /// One past the last column.
    pub const fn x_end(&self) -> usize {
        self.x + self.width
    }

    /// One past the last row.
    pub const fn y_end(&self) -> usize {
        self.y + self.height
    }

    /// Number of pixels.
    pub const fn area(&self) -> usize {
        self.width * self.height
    }

    /// Whether the pixel at column `x`, row `y` lies inside.
    pub const fn contains_pixel(&self, x: usize, y: usize) -> bool {
        x >= self.x && x < self.x_end() && y >= self.y && y < self.y_end()
    }

    /// Whether a (sub-pixel) point lies inside, counting the top and left
    /// edges in and the bottom and right edges out, so that windows which
    /// tile a raster claim every point exactly once.
    pub fn contains_point(&self, p: PixelPoint) -> bool {
        p.x >= self.x as f64 && p.x < self.x_end() as f64 && p.y >= self.y as f64 && p.y < self.y_end() as f64
    }

    /// Whether `other` lies wholly inside this window.
    pub const fn contains_window(&self, other: &PixelWindow) -> bool {
        other.x >= self.x && other.y >= self.y && other.x_end() <= self.x_end() && other.y_end() <= self.y_end()
    }

    /// The part of this window inside a `width` x `height` raster, if any.
    pub fn clip_to(&self, width: usize, height: usize) -> Option<PixelWindow> {
        let x_end = self.x_end().min(width);
        let y_end = self.y_end().min(height);
        (self.x < x_end && self.y < y_end).then(|| PixelWindow::new(self.x, self.y, x_end - self.x, y_end - self.y))
    }
}

/// A rectangle in (sub-)pixel coordinates: `x0 <= x1`, `y0 <= y1`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PixelBox {
    /// Left edge.
    pub x0: f64,
    /// Top edge.
    pub y0: f64,
    /// Right edge.
    pub x1: f64,
    /// Bottom edge.
    pub y1: f64,
}

impl PixelBox {
    /// The smallest box holding `points`.
    pub fn around(points: impl IntoIterator<Item = PixelPoint>) -> PixelBox {
        let mut b = PixelBox { x0: f64::MAX, y0: f64::MAX, x1: f64::MIN, y1: f64::MIN };
        for p in points {
            (b.x0, b.y0, b.x1, b.y1) = (b.x0.min(p.x), b.y0.min(p.y), b.x1.max(p.x), b.y1.max(p.y));
        }
        b
    }

    /// The box's centre.
    pub fn centre(&self) -> PixelPoint {
        PixelPoint { x: (self.x0 + self.x1) / 2.0, y: (self.y0 + self.y1) / 2.0 }
    }

    /// The four corners, clockwise from the top-left (y down).
    pub fn corners(&self) -> [PixelPoint; 4] {
        [(self.x0, self.y0), (self.x1, self.y0), (self.x1, self.y1), (self.x0, self.y1)]
            .map(|(x, y)| PixelPoint { x, y })
    }
}

impl From<PixelWindow> for PixelBox {
    fn from(w: PixelWindow) -> Self {
        PixelBox { x0: w.x as f64, y0: w.y as f64, x1: w.x_end() as f64, y1: w.y_end() as f64 }
    }
}

impl fmt::Display for PixelWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "window x={} y={} {}x{}", self.x, self.y, self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_keeps_the_inside_part() {
        let w = PixelWindow::new(90, 40, 20, 20);
        assert_eq!(w.clip_to(100, 50), Some(PixelWindow::new(90, 40, 10, 10)));
        assert_eq!(PixelWindow::new(100, 0, 5, 5).clip_to(100, 50), None);
    }

    #[test]
    fn point_containment_is_half_open() {
        let w = PixelWindow::new(10, 10, 5, 5);
        assert!(w.contains_point(PixelPoint { x: 10.0, y: 10.0 }));
        assert!(!w.contains_point(PixelPoint { x: 15.0, y: 12.0 }));
        assert!(w.contains_pixel(14, 14));
        assert!(!w.contains_pixel(15, 14));
    }
}
