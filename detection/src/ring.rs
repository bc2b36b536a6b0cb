//! A detection's outline as a ring of pixel corners, whatever made it: a
//! star of rays from the centre (traced in the imagery, or an extent head's
//! radii, see [`crate::outline`]), a blob's, or a foreground region's
//! boundary (see [`crate::watershed`]). Its corners are shared, so a
//! detection clones cheaply and evaluation reads the same corners.

use crate::coords::{PixelBox, PixelPoint};
use crate::outline::Outline;
use crate::overlap::polygon_area;
use std::sync::Arc;

/// An outline's corners, an open ring (the last corner joins the first).
#[derive(Debug, Clone, PartialEq)]
pub struct Ring(Arc<[PixelPoint]>);

impl Ring {
    /// A ring through `corners`, in order.
    pub fn new(corners: impl Into<Arc<[PixelPoint]>>) -> Ring {
        Ring(corners.into())
    }

    /// The corners, in order.
    pub fn vertices(&self) -> &[PixelPoint] {
        &self.0
    }

    /// The corners, shared rather than copied.
    pub fn shared(&self) -> Arc<[PixelPoint]> {
        Arc::clone(&self.0)
    }

    /// Area in square pixels.
    pub fn area_px(&self) -> f64 {
        polygon_area(&self.0)
    }

    /// The diameter of the circle of the same area, pixels.
    pub fn diameter_px(&self) -> f64 {
        2.0 * (self.area_px() / std::f64::consts::PI).sqrt()
    }

    /// The bounding box.
    pub fn bbox(&self) -> PixelBox {
        PixelBox::around(self.0.iter().copied())
    }

    /// The same ring in another pixel grid of the same place, each corner
    /// moved by `to`.
    pub fn moved(&self, to: impl Fn(PixelPoint) -> PixelPoint) -> Ring {
        Ring(self.0.iter().map(|&p| to(p)).collect())
    }
}

impl From<Outline> for Ring {
    fn from(o: Outline) -> Ring {
        Ring(o.vertices().to_vec().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outline::RAYS;

    #[test]
    fn a_star_keeps_its_area_diameter_and_box() {
        let mut radii = [4.0f32; RAYS];
        radii[3] = 7.0;
        let o = Outline { centre: PixelPoint { x: 10.0, y: 20.0 }, radii };
        let r = Ring::from(o);
        assert!((r.area_px() - o.area_px()).abs() < 1e-9);
        assert!((r.diameter_px() - o.diameter_px()).abs() < 1e-9);
        assert_eq!(r.bbox(), o.bbox());
    }

    #[test]
    fn moving_maps_every_corner() {
        let r = Ring::new(vec![
            PixelPoint { x: 0.0, y: 0.0 },
            PixelPoint { x: 2.0, y: 0.0 },
            PixelPoint { x: 2.0, y: 1.0 },
        ]);
        let m = r.moved(|p| PixelPoint { x: p.x * 2.0 + 1.0, y: p.y * 2.0 });
        assert_eq!(m.area_px(), 4.0 * r.area_px());
        assert_eq!(m.bbox(), PixelBox { x0: 1.0, y0: 0.0, x1: 5.0, y1: 2.0 });
    }
}
