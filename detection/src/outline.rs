//! An object's outline from the image around its centre, for detectors
//! trained on points: along rays from the centre, the object ends where a
//! pixel's colour is nearer the surrounding background's than the centre's,
//! or where a neighbouring object's centre is nearer. The result is
//! star-shaped (one radius per ray), which suits crowns and shrubs. Labels
//! with an extent become outlines the same way (a box's or a polygon's
//! boundary along each ray), which is what an extent head learns; and the
//! rays' order after a flip or a quarter turn is written here once, for
//! training's augmentations and inference's test-time ones.

use crate::coords::{PixelBox, PixelPoint};

/// Rays per outline.
pub const RAYS: usize = 16;

/// The farthest an outline reaches from its centre, metres: objects up to
/// 24 m across (the largest shrubs of Guirado et al. 2017 span 20 m).
pub const MAX_OUTLINE_RADIUS_M: f64 = 12.0;

/// A star-shaped outline: a radius per ray, ray `k` at `2 pi k / RAYS` from
/// the +x axis turning towards +y (pixel coordinates, y down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outline {
    /// Where the rays start.
    pub centre: PixelPoint,
    /// Pixels from the centre along each ray.
    pub radii: [f32; RAYS],
}

/// Bands of an image window, channel after channel, row by row.
#[derive(Debug, Clone, Copy)]
pub struct Bands<'a> {
    /// Values, `bands * width * height` of them.
    pub values: &'a [f32],
    /// Number of bands.
    pub bands: usize,
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
}

impl Bands<'_> {
    /// The colour at `p`, interpolated between the four nearest pixel
    /// centres, if `p` lies inside.
    fn at(&self, p: PixelPoint) -> Option<impl Iterator<Item = f32> + '_> {
        if p.x < 0.0 || p.y < 0.0 || p.x >= self.width as f64 || p.y >= self.height as f64 {
            return None;
        }
        let (fx, fy) = ((p.x - 0.5).max(0.0), (p.y - 0.5).max(0.0));
        let (x0, y0) = ((fx as usize).min(self.width - 1), (fy as usize).min(self.height - 1));
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (tx, ty) = ((fx - x0 as f64) as f32, (fy - y0 as f64) as f32);
        let plane = self.width * self.height;
        Some((0..self.bands).map(move |b| {
            let v = |x: usize, y: usize| self.values[b * plane + y * self.width + x];
            let top = v(x0, y0) * (1.0 - tx) + v(x1, y0) * tx;
            let bottom = v(x0, y1) * (1.0 - tx) + v(x1, y1) * tx;
            top * (1.0 - ty) + bottom * ty
        }))
    }
}

fn direction(k: usize) -> (f64, f64) {
    let a = std::f64::consts::TAU * k as f64 / RAYS as f64;
    (a.cos(), a.sin())
}

/// Where ray `k` points after the image is mirrored left to right.
pub fn mirrored_x(k: usize) -> usize {
    (RAYS + RAYS / 2 - k % RAYS) % RAYS
}

/// Where ray `k` points after the image is mirrored top to bottom.
pub fn mirrored_y(k: usize) -> usize {
    (RAYS - k % RAYS) % RAYS
}

/// Where ray `k` points after the image turns `quarters` quarter turns
/// from +x towards +y (negative: the other way).
pub fn turned(k: usize, quarters: i64) -> usize {
    (k as i64 + quarters * (RAYS as i64 / 4)).rem_euclid(RAYS as i64) as usize
}

/// Distance from `from` along the unit direction `d` to the farthest
/// crossing of the closed ring `ring`, if any.
fn farthest_crossing(from: PixelPoint, d: (f64, f64), ring: &[PixelPoint]) -> Option<f64> {
    let mut best: Option<f64> = None;
    for (i, a) in ring.iter().enumerate() {
        let b = ring[(i + 1) % ring.len()];
        let (ex, ey) = (b.x - a.x, b.y - a.y);
        let denom = d.0 * ey - d.1 * ex;
        if denom.abs() < 1e-12 {
            continue;
        }
        let (wx, wy) = (a.x - from.x, a.y - from.y);
        let t = (wx * ey - wy * ex) / denom;
        let u = (wx * d.1 - wy * d.0) / denom;
        if t >= 0.0 && (-1e-9..=1.0 + 1e-9).contains(&u) {
            best = Some(best.map_or(t, |b: f64| b.max(t)));
        }
    }
    best
}

impl Outline {
    /// The outline of a box label seen from `centre`: each ray ends on the
    /// box's edge, so the outline is the box (its corners cut where no ray
    /// meets them).
    pub fn of_box(centre: PixelPoint, b: PixelBox) -> Outline {
        let ring = [
            PixelPoint { x: b.x0, y: b.y0 },
            PixelPoint { x: b.x1, y: b.y0 },
            PixelPoint { x: b.x1, y: b.y1 },
            PixelPoint { x: b.x0, y: b.y1 },
        ];
        Outline::of_polygon(centre, &ring)
    }

    /// The outline of a polygon label (its exterior ring) seen from
    /// `centre`: each ray ends where it last crosses the ring, so a
    /// polygon that is not star-shaped keeps its whole extent.
    pub fn of_polygon(centre: PixelPoint, ring: &[PixelPoint]) -> Outline {
        let radii =
            std::array::from_fn(|k| farthest_crossing(centre, direction(k), ring).unwrap_or(0.0).max(0.5) as f32);
        Outline { centre, radii }
    }

    /// A circle of `radius` pixels.
    pub fn circle(centre: PixelPoint, radius: f32) -> Outline {
        Outline { centre, radii: [radius; RAYS] }
    }

    /// The outline's corners, ray by ray.
    pub fn vertices(&self) -> [PixelPoint; RAYS] {
        std::array::from_fn(|k| {
            let (dx, dy) = direction(k);
            let r = self.radii[k] as f64;
            PixelPoint { x: self.centre.x + r * dx, y: self.centre.y + r * dy }
        })
    }

    /// Area in square pixels.
    pub fn area_px(&self) -> f64 {
        let s = (std::f64::consts::TAU / RAYS as f64).sin() / 2.0;
        (0..RAYS).map(|k| self.radii[k] as f64 * self.radii[(k + 1) % RAYS] as f64 * s).sum()
    }

    /// The diameter of the circle of the same area, pixels.
    pub fn diameter_px(&self) -> f64 {
        2.0 * (self.area_px() / std::f64::consts::PI).sqrt()
    }

    /// The bounding box.
    pub fn bbox(&self) -> PixelBox {
        PixelBox::around(self.vertices())
    }

    /// The same outline in another pixel grid of the same place: `to` moves
    /// the centre, `scale` is the other grid's pixels per pixel of this one.
    pub fn moved(&self, to: impl Fn(PixelPoint) -> PixelPoint, scale: f64) -> Outline {
        Outline { centre: to(self.centre), radii: self.radii.map(|r| (r as f64 * scale) as f32) }
    }
}

/// The outline of the object centred at `centre` in `image`, reaching at
/// most `max_radius` pixels, stopping halfway to any of `neighbours` (the
/// other objects' centres).
pub fn outline(image: &Bands, centre: PixelPoint, neighbours: &[PixelPoint], max_radius: f64) -> Outline {
    let step = 0.5;
    let along = |k: usize, r: f64| {
        let (dx, dy) = direction(k);
        PixelPoint { x: centre.x + r * dx, y: centre.y + r * dy }
    };
    // The object's colour: the mean within a pixel and a half of the centre.
    let mut object = vec![0f64; image.bands];
    let mut n = 0.0;
    for k in 0..RAYS {
        for r in [0.0, 0.75, 1.5] {
            if let Some(c) = image.at(along(k, r)) {
                object.iter_mut().zip(c).for_each(|(o, v)| *o += v as f64);
                n += 1.0;
            }
        }
    }
    if n == 0.0 {
        return Outline::circle(centre, 1.0);
    }
    object.iter_mut().for_each(|o| *o /= n);
    // The surroundings' colour: the per-band median of the outer ring.
    let mut ring: Vec<Vec<f64>> = vec![Vec::new(); image.bands];
    for k in 0..RAYS * 4 {
        let a = std::f64::consts::TAU * k as f64 / (RAYS * 4) as f64;
        for r in [0.8 * max_radius, max_radius] {
            let p = PixelPoint { x: centre.x + r * a.cos(), y: centre.y + r * a.sin() };
            if let Some(c) = image.at(p) {
                ring.iter_mut().zip(c).for_each(|(v, c)| v.push(c as f64));
            }
        }
    }
    let background: Vec<f64> = ring
        .iter_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0)
        })
        .collect();
    // Positive where a colour is nearer the object's than the surroundings'.
    let inside = |p: PixelPoint| -> Option<f64> {
        let c: Vec<f32> = image.at(p)?.collect();
        let d = |to: &[f64]| c.iter().zip(to).map(|(&v, t)| (v as f64 - t).powi(2)).sum::<f64>();
        Some(d(&background) - d(&object))
    };
    let mut radii = [0f32; RAYS];
    let mut limits = [0f32; RAYS];
    for (k, radius) in radii.iter_mut().enumerate() {
        let (dx, dy) = direction(k);
        // Halfway to the nearest neighbour in this direction.
        let limit = neighbours
            .iter()
            .filter_map(|nb| {
                let (vx, vy) = (nb.x - centre.x, nb.y - centre.y);
                let towards = vx * dx + vy * dy;
                (towards > 1e-9 && vx.hypot(vy) > 1e-9).then(|| (vx * vx + vy * vy) / (2.0 * towards))
            })
            .fold(max_radius, f64::min);
        limits[k] = limit.max(1.0) as f32;
        // The object ends where two samples in a row are nearer the
        // surroundings' colour than the object's: between the last sample
        // inside and the first outside, where the difference crosses zero.
        let (mut r, mut last) = (step, (0.0, inside(centre).unwrap_or(1.0).max(1e-9)));
        let mut crossing: Option<f64> = None;
        let mut end = limit;
        while r <= limit {
            let Some(f) = inside(along(k, r)) else {
                end = r;
                break;
            };
            if f < 0.0 {
                let at = crossing.get_or_insert(last.0 + step * last.1 / (last.1 - f));
                if r - last.0 >= 2.0 * step - 1e-9 {
                    end = *at;
                    break;
                }
            } else {
                (crossing, last) = (None, (r, f));
            }
            r += step;
        }
        *radius = end.min(limit).max(1.0) as f32;
    }
    // A lone odd ray (a gap between leaves, a shadow) follows its
    // neighbours, short of the halfway line to a neighbouring object.
    let smoothed = std::array::from_fn(|k| {
        let mut three = [radii[(k + RAYS - 1) % RAYS], radii[k], radii[(k + 1) % RAYS]];
        three.sort_by(f32::total_cmp);
        three[1].min(limits[k])
    });
    Outline { centre, radii: smoothed }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3-band image of discs (dark green on light soil) with a little
    /// deterministic texture.
    fn discs(width: usize, height: usize, discs: &[(f64, f64, f64)]) -> Vec<f32> {
        let mut v = vec![0f32; 3 * width * height];
        for y in 0..height {
            for x in 0..width {
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                let inside = discs.iter().any(|&(cx, cy, r)| (px - cx).hypot(py - cy) <= r);
                let texture = ((x * 7 + y * 13) % 9) as f32 - 4.0;
                let colour = if inside { [60.0, 90.0, 50.0] } else { [170.0, 150.0, 120.0] };
                for b in 0..3 {
                    v[b * width * height + y * width + x] = colour[b] + texture;
                }
            }
        }
        v
    }

    #[test]
    fn a_disc_comes_out_with_its_area() {
        for radius in [3.0, 6.0, 12.0] {
            let values = discs(64, 64, &[(32.0, 32.0, radius)]);
            let image = Bands { values: &values, bands: 3, width: 64, height: 64 };
            let o = outline(&image, PixelPoint { x: 32.0, y: 32.0 }, &[], 25.0);
            let truth = std::f64::consts::PI * radius * radius;
            assert!((o.area_px() / truth - 1.0).abs() < 0.15, "radius {radius}: area {} against {truth}", o.area_px());
            assert!((o.diameter_px() - 2.0 * radius).abs() < 0.15 * 2.0 * radius);
        }
    }

    #[test]
    fn touching_objects_split_halfway() {
        let values = discs(64, 40, &[(20.0, 20.0, 8.0), (34.0, 20.0, 8.0)]);
        let image = Bands { values: &values, bands: 3, width: 64, height: 40 };
        let (a, b) = (PixelPoint { x: 20.0, y: 20.0 }, PixelPoint { x: 34.0, y: 20.0 });
        let o = outline(&image, a, &[b], 25.0);
        assert!(o.radii[0] <= 7.0, "towards the neighbour: {}", o.radii[0]);
        assert!((o.radii[RAYS / 2] - 8.0).abs() <= 1.5, "away from it: {}", o.radii[RAYS / 2]);
    }

    #[test]
    fn labels_become_outlines_along_the_same_rays() {
        let b = PixelBox { x0: 0.0, y0: 0.0, x1: 20.0, y1: 10.0 };
        let o = Outline::of_box(b.centre(), b);
        assert!((o.radii[0] - 10.0).abs() < 1e-5 && (o.radii[RAYS / 4] - 5.0).abs() < 1e-5, "{:?}", o.radii);
        let bb = o.bbox();
        let near = |a: f64, b: f64| (a - b).abs() < 1e-5;
        assert!(near(bb.x0, 0.0) && near(bb.x1, 20.0) && near(bb.y0, 0.0) && near(bb.y1, 10.0), "{bb:?}");
        assert!(o.area_px() > 0.9 * 200.0 && o.area_px() <= 200.0 + 1e-9, "{}", o.area_px());
        // A polygon that is the same box gives the same outline.
        let ring: Vec<PixelPoint> =
            [(0.0, 0.0), (20.0, 0.0), (20.0, 10.0), (0.0, 10.0)].iter().map(|&(x, y)| PixelPoint { x, y }).collect();
        assert_eq!(Outline::of_polygon(b.centre(), &ring), o);
    }

    #[test]
    fn rays_follow_flips_and_turns() {
        // A direction's ray index after the image changes, checked on the vectors.
        let index = |(x, y): (f64, f64)| {
            let a = y.atan2(x).rem_euclid(std::f64::consts::TAU);
            ((a / std::f64::consts::TAU * RAYS as f64).round() as usize) % RAYS
        };
        for k in 0..RAYS {
            let (x, y) = direction(k);
            assert_eq!(mirrored_x(k), index((-x, y)));
            assert_eq!(mirrored_y(k), index((x, -y)));
            assert_eq!(turned(k, 1), index((-y, x)), "a quarter turn from +x towards +y");
            assert_eq!(turned(k, -1), index((y, -x)));
            assert_eq!(turned(turned(k, 3), 1), k);
        }
    }

    #[test]
    fn geometry_of_a_circle() {
        let o = Outline::circle(PixelPoint { x: 10.0, y: 10.0 }, 5.0);
        let polygon = 0.5 * RAYS as f64 * 25.0 * (std::f64::consts::TAU / RAYS as f64).sin();
        assert!((o.area_px() - polygon).abs() < 1e-9);
        let b = o.bbox();
        assert!((b.x0 - 5.0).abs() < 1e-9 && (b.x1 - 15.0).abs() < 1e-9);
        let moved = o.moved(|p| PixelPoint { x: p.x * 2.0, y: p.y * 2.0 }, 2.0);
        assert_eq!((moved.centre.x, moved.radii[3]), (20.0, 10.0));
    }
}
