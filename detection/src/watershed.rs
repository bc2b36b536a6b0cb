//! Each object's outline as the region of a foreground map around its
//! peak: the pixels at or over a threshold, shared out between touching
//! objects along the valleys of a relief map (a watershed flooded from the
//! peaks, highest pixels first), each region's outer boundary traced along
//! pixel edges and simplified to as many corners as its shape needs.
//! Unlike a star of rays from the centre, it follows any shape: a kidney,
//! an L, a crown leaning on its neighbour.

use crate::coords::PixelPoint;
use geo::Simplify;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// The foreground probability from which a pixel belongs to an object.
pub const FOREGROUND_THRESHOLD: f32 = 0.5;

/// How far (pixels) a simplified outline may stray from its region's
/// staircase boundary: a diagonal edge's stairs become one straight side.
pub const OUTLINE_TOLERANCE_PX: f64 = 0.7;

/// A map of `width` x `height` values, row-major.
#[derive(Debug, Clone, Copy)]
pub struct Map<'a> {
    /// The values.
    pub values: &'a [f32],
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
}

impl Map<'_> {
    fn at(&self, x: usize, y: usize) -> f32 {
        self.values[y * self.width + x]
    }
}

/// A pixel waiting to be flooded: the relief there, and the region
/// reaching it.
#[derive(PartialEq)]
struct Front {
    height: f32,
    pixel: usize,
    region: u32,
}

impl Eq for Front {}

impl Ord for Front {
    fn cmp(&self, o: &Self) -> Ordering {
        // Highest relief first; ties by pixel, so the result is deterministic.
        self.height.total_cmp(&o.height).then_with(|| o.pixel.cmp(&self.pixel))
    }
}

impl PartialOrd for Front {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Which region (1-based; 0 none) each pixel falls in: foreground pixels
/// (`foreground >= threshold`) flooded from each peak's pixel in order of
/// `relief`, 4-connected, so touching objects part where the relief is
/// lowest between them. A peak off the map or on background gets no region.
pub fn regions(foreground: Map<'_>, relief: Map<'_>, peaks: &[PixelPoint], threshold: f32) -> Vec<u32> {
    let (w, h) = (foreground.width, foreground.height);
    let mut label = vec![0u32; w * h];
    let mut heap = BinaryHeap::new();
    for (k, p) in peaks.iter().enumerate() {
        let (x, y) = (p.x.floor(), p.y.floor());
        if x < 0.0 || y < 0.0 || x >= w as f64 || y >= h as f64 {
            continue;
        }
        let (x, y) = (x as usize, y as usize);
        if foreground.at(x, y) >= threshold && label[y * w + x] == 0 {
            label[y * w + x] = k as u32 + 1;
            heap.push(Front { height: relief.at(x, y), pixel: y * w + x, region: k as u32 + 1 });
        }
    }
    while let Some(Front { pixel, region, .. }) = heap.pop() {
        let (x, y) = (pixel % w, pixel / w);
        let neighbours = [
            (x > 0).then(|| pixel - 1),
            (x + 1 < w).then(|| pixel + 1),
            (y > 0).then(|| pixel - w),
            (y + 1 < h).then(|| pixel + w),
        ];
        for n in neighbours.into_iter().flatten() {
            if label[n] == 0 && foreground.values[n] >= threshold {
                label[n] = region;
                heap.push(Front { height: relief.values[n], pixel: n, region });
            }
        }
    }
    label
}

/// The outer boundary of the 4-connected pixels labelled `region` that
/// hold `start`, along pixel edges (corners at whole coordinates), clockwise
/// on screen from its top-left corner; holes are left out. `None` when `start` is not in the region.
pub fn boundary(labels: &[u32], width: usize, height: usize, region: u32, start: usize) -> Option<Vec<PixelPoint>> {
    if labels.get(start) != Some(&region) {
        return None;
    }
    let inside = |x: i64, y: i64| {
        x >= 0
            && y >= 0
            && (x as usize) < width
            && (y as usize) < height
            && labels[y as usize * width + x as usize] == region
    };
    // Up from `start` to the region's edge: that pixel's top edge is on the
    // outer boundary unless a hole lies above it, so go on up past holes
    // to the topmost pixel of the column that the region holds.
    let (sx, mut sy) = ((start % width) as i64, (start / width) as i64);
    let mut y = sy;
    while y > 0 {
        y -= 1;
        if inside(sx, y) {
            sy = y;
        }
    }
    // Walk with the region on the right: at each corner, turn right if the
    // pixel ahead on the right is outside, left if the one ahead on the
    // left is inside, else go straight.
    let begin = (sx, sy, (1i64, 0i64));
    let (mut cx, mut cy, mut d) = begin;
    let mut ring = vec![PixelPoint { x: cx as f64, y: cy as f64 }];
    let quadrant = |cx: i64, cy: i64, sx: i64, sy: i64| inside(cx + (sx - 1) / 2, cy + (sy - 1) / 2);
    loop {
        cx += d.0;
        cy += d.1;
        let right = (-d.1, d.0);
        let turn = if !quadrant(cx, cy, d.0 + right.0, d.1 + right.1) {
            right
        } else if quadrant(cx, cy, d.0 - right.0, d.1 - right.1) {
            (d.1, -d.0)
        } else {
            d
        };
        if (cx, cy, turn) == begin {
            break;
        }
        if turn != d {
            ring.push(PixelPoint { x: cx as f64, y: cy as f64 });
        }
        d = turn;
        if ring.len() > 4 * (width + 1) * (height + 1) {
            return None;
        }
    }
    // The start corner may lie mid-edge: drop corners between two in line,
    // and begin at the top-left one.
    let n = ring.len();
    let corner = |i: usize| {
        let (a, b, c) = (ring[(i + n - 1) % n], ring[i], ring[(i + 1) % n]);
        !((a.x == b.x && b.x == c.x) || (a.y == b.y && b.y == c.y))
    };
    let mut corners: Vec<PixelPoint> = (0..n).filter(|&i| corner(i)).map(|i| ring[i]).collect();
    let first = (0..corners.len())
        .min_by(|&i, &j| (corners[i].y, corners[i].x).partial_cmp(&(corners[j].y, corners[j].x)).expect("finite"));
    corners.rotate_left(first.unwrap_or(0));
    Some(corners)
}

/// A ring simplified (Ramer-Douglas-Peucker within `tolerance` pixels),
/// kept as it was when simplifying would leave fewer than 3 corners.
pub fn simplified(ring: &[PixelPoint], tolerance: f64) -> Vec<PixelPoint> {
    let mut closed: Vec<geo::Coord<f64>> = ring.iter().map(|p| geo::coord! { x: p.x, y: p.y }).collect();
    closed.push(closed[0]);
    let line = geo::LineString::new(closed).simplify(tolerance);
    let out: Vec<PixelPoint> =
        line.0[..line.0.len().saturating_sub(1)].iter().map(|c| PixelPoint { x: c.x, y: c.y }).collect();
    if out.len() >= 3 {
        out
    } else {
        ring.to_vec()
    }
}

/// Each peak's outline: its watershed region's outer boundary, simplified
/// within `tolerance` pixels; `None` for a peak with no region.
pub fn region_outlines(
    foreground: Map<'_>,
    relief: Map<'_>,
    peaks: &[PixelPoint],
    threshold: f32,
    tolerance: f64,
) -> Vec<Option<Vec<PixelPoint>>> {
    let (w, h) = (foreground.width, foreground.height);
    let labels = regions(foreground, relief, peaks, threshold);
    peaks
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let (x, y) = (p.x.floor(), p.y.floor());
            if x < 0.0 || y < 0.0 || x >= w as f64 || y >= h as f64 {
                return None;
            }
            let ring = boundary(&labels, w, h, k as u32 + 1, y as usize * w + x as usize)?;
            Some(simplified(&ring, tolerance))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overlap::{polygon_area, polygon_iou};

    /// An ellipse's ring, 64 corners.
    fn ellipse(cx: f64, cy: f64, a: f64, b: f64, turn: f64) -> Vec<PixelPoint> {
        (0..64)
            .map(|k| {
                let t = k as f64 / 64.0 * std::f64::consts::TAU;
                let (x, y) = (a * t.cos(), b * t.sin());
                PixelPoint { x: cx + x * turn.cos() - y * turn.sin(), y: cy + x * turn.sin() + y * turn.cos() }
            })
            .collect()
    }

    fn inside_ellipse(px: f64, py: f64, cx: f64, cy: f64, a: f64, b: f64, turn: f64) -> f64 {
        let (dx, dy) = (px - cx, py - cy);
        let (u, v) = (dx * turn.cos() + dy * turn.sin(), -dx * turn.sin() + dy * turn.cos());
        (u / a).powi(2) + (v / b).powi(2)
    }

    #[test]
    fn a_square_region_traces_to_its_four_corners() {
        let (w, h) = (6, 5);
        let mut labels = vec![0u32; w * h];
        for y in 1..4 {
            for x in 2..5 {
                labels[y * w + x] = 7;
            }
        }
        let ring = boundary(&labels, w, h, 7, 2 * w + 3).unwrap();
        let corners: Vec<(f64, f64)> = ring.iter().map(|p| (p.x, p.y)).collect();
        assert_eq!(corners, vec![(2.0, 1.0), (5.0, 1.0), (5.0, 4.0), (2.0, 4.0)]);
        assert_eq!(polygon_area(&ring), 9.0);
        assert!(boundary(&labels, w, h, 7, 0).is_none());
    }

    #[test]
    fn an_l_keeps_its_notch_and_a_hole_is_left_out() {
        let (w, h) = (8, 8);
        let mut labels = vec![0u32; w * h];
        for y in 1..7 {
            for x in 1..7 {
                // An L: the top-right 3x3 quarter missing; a one-pixel hole at (2, 5).
                if !(x >= 4 && y < 4) && (x, y) != (2, 5) {
                    labels[y * w + x] = 1;
                }
            }
        }
        let ring = boundary(&labels, w, h, 1, 5 * w + 5).unwrap();
        assert_eq!(ring.len(), 6, "{ring:?}");
        assert_eq!(polygon_area(&ring), 36.0 - 9.0);
    }

    #[test]
    fn touching_ellipses_part_along_the_valley_and_fit_their_shapes() {
        let (w, h) = (96, 64);
        let shapes = [(30.0, 32.0, 18.0, 11.0, 0.3), (62.0, 30.0, 14.0, 12.0, -0.5)];
        let mut fg = vec![0f32; w * h];
        let mut relief = vec![0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                for &(cx, cy, a, b, t) in &shapes {
                    let r = inside_ellipse(px, py, cx, cy, a, b, t);
                    if r <= 1.0 {
                        fg[y * w + x] = 1.0;
                    }
                    relief[y * w + x] = relief[y * w + x].max((1.0 - r).max(0.0) as f32);
                }
            }
        }
        let peaks: Vec<PixelPoint> = shapes.iter().map(|&(x, y, ..)| PixelPoint { x, y }).collect();
        let fgm = Map { values: &fg, width: w, height: h };
        let rm = Map { values: &relief, width: w, height: h };
        let outlines = region_outlines(fgm, rm, &peaks, FOREGROUND_THRESHOLD, OUTLINE_TOLERANCE_PX);
        for (o, &(cx, cy, a, b, t)) in outlines.iter().zip(&shapes) {
            let o = o.as_ref().expect("an outline");
            let truth = ellipse(cx, cy, a, b, t);
            let iou = polygon_iou(o, &truth);
            assert!(iou >= 0.9, "IoU {iou}");
            let area = polygon_area(o) / polygon_area(&truth);
            assert!((area - 1.0).abs() < 0.08, "area ratio {area}");
            assert!(o.len() < 60, "{} corners", o.len());
        }
        // A peak on background has none.
        let off =
            region_outlines(fgm, rm, &[PixelPoint { x: 2.0, y: 2.0 }], FOREGROUND_THRESHOLD, OUTLINE_TOLERANCE_PX);
        assert!(off[0].is_none());
    }
}
