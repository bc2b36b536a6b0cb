//! Where each labelled object lies, pixel by pixel, for a network that
//! learns objects' extents per pixel: a polygon label exactly (the pixels
//! whose centre it holds), a box label weakly (the ellipse inscribed in it
//! is the object, the rest of the box unknown), a point label not at all
//! (a disc around it unknown). Everything else in a labelled place is
//! background; where labels say nothing, the training's mask already
//! keeps the network from learning.

use crate::areas::polygon_spans;
use detection::coords::{PixelBox, PixelPoint};
use geo::Polygon;

/// A pixel of background.
pub const BACKGROUND: u8 = 0;
/// A pixel of an object.
pub const OBJECT: u8 = 1;
/// A pixel whose class the labels do not tell.
pub const UNKNOWN: u8 = 255;

/// What one label says of its object's extent, in a map's pixels.
#[derive(Debug, Clone, PartialEq)]
pub enum Extent {
    /// A polygon (an open ring).
    Polygon(Vec<PixelPoint>),
    /// A box.
    Box(PixelBox),
    /// A point, with the radius (pixels) around it left unknown.
    Point(PixelPoint, f64),
}

/// The foreground map (`width` x `height`, row-major) of `extents`: an
/// object pixel of one label stays an object pixel whatever another says.
pub fn foreground_map(extents: &[Extent], width: usize, height: usize) -> Vec<u8> {
    let mut map = vec![BACKGROUND; width * height];
    let mut mark = |x: usize, y: usize, v: u8| {
        let cell = &mut map[y * width + x];
        if *cell != OBJECT {
            *cell = v;
        }
    };
    // The pixels whose centres lie in [x0, x1) x [y0, y1), clipped to the map.
    let span = |lo: f64, hi: f64, n: usize| (lo.floor().max(0.0) as usize)..((hi.ceil().max(0.0) as usize).min(n));
    for e in extents {
        match e {
            Extent::Polygon(ring) => {
                let polygon = Polygon::new(ring.iter().map(|p| (p.x, p.y)).collect::<Vec<_>>().into(), vec![]);
                polygon_spans(&polygon, width, height, |y, xs| xs.for_each(|x| mark(x, y, OBJECT)));
            }
            Extent::Box(b) => {
                let (cx, cy) = ((b.x0 + b.x1) / 2.0, (b.y0 + b.y1) / 2.0);
                let (a, r) = (((b.x1 - b.x0) / 2.0).max(0.5), ((b.y1 - b.y0) / 2.0).max(0.5));
                for y in span(b.y0, b.y1, height) {
                    for x in span(b.x0, b.x1, width) {
                        let (dx, dy) = ((x as f64 + 0.5 - cx) / a, (y as f64 + 0.5 - cy) / r);
                        mark(x, y, if dx * dx + dy * dy <= 1.0 { OBJECT } else { UNKNOWN });
                    }
                }
            }
            Extent::Point(c, radius) => {
                for y in span(c.y - radius, c.y + radius, height) {
                    for x in span(c.x - radius, c.x + radius, width) {
                        if (x as f64 + 0.5 - c.x).hypot(y as f64 + 0.5 - c.y) <= *radius {
                            mark(x, y, UNKNOWN);
                        }
                    }
                }
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(map: &[u8], v: u8) -> usize {
        map.iter().filter(|&&c| c == v).count()
    }

    #[test]
    fn a_polygon_exactly_a_box_as_its_ellipse_a_point_unknown() {
        let (w, h) = (40, 20);
        // A 6 x 4 rectangle as a polygon: 24 object pixels.
        let ring = vec![
            PixelPoint { x: 2.0, y: 2.0 },
            PixelPoint { x: 8.0, y: 2.0 },
            PixelPoint { x: 8.0, y: 6.0 },
            PixelPoint { x: 2.0, y: 6.0 },
        ];
        let map = foreground_map(&[Extent::Polygon(ring)], w, h);
        assert_eq!(count(&map, OBJECT), 24);
        assert_eq!(count(&map, UNKNOWN), 0);
        // A 10 x 10 box: its inscribed circle (~pi 25) the object, the corners unknown.
        let b = PixelBox { x0: 20.0, y0: 5.0, x1: 30.0, y1: 15.0 };
        let map = foreground_map(&[Extent::Box(b)], w, h);
        let inside = count(&map, OBJECT);
        assert!((inside as f64 - std::f64::consts::PI * 25.0).abs() < 6.0, "{inside}");
        assert_eq!(inside + count(&map, UNKNOWN), 100);
        assert_eq!(map[5 * w + 20], UNKNOWN, "the box's corner");
        assert_eq!(map[10 * w + 25], OBJECT, "its centre");
        // A point leaves a disc unknown, and never unmarks an object pixel.
        let map = foreground_map(&[Extent::Box(b), Extent::Point(PixelPoint { x: 25.0, y: 10.0 }, 3.0)], w, h);
        assert_eq!(count(&map, OBJECT), inside);
        let map = foreground_map(&[Extent::Point(PixelPoint { x: 0.5, y: 0.5 }, 2.0)], w, h);
        assert_eq!(map[0], UNKNOWN);
        assert_eq!(count(&map, OBJECT), 0);
    }
}
