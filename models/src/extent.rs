//! What an extent head learns: at the pixels around each object centre
//! whose label had an extent (a box or polygon), the log of the label's
//! outline radius along each ray (see `detection::outline`), by smooth L1.
//! Log radii make a 2 px error on a small shrub cost as much as a 20 px one
//! on a large tree. Objects labelled by a point teach nothing here, so point
//! and box labels mix in one set. The ray channels point in directions, so
//! a flip or a quarter turn of the image reorders them ([`change`]).

use detection::examples::ChipObject;
use detection::outline::{mirrored_x, mirrored_y, turned, RAYS};
use tch::{Device, Kind, Reduction, Tensor};

/// Pixels from a centre (at most) that learn its outline: the peak a
/// detection is read at may sit a pixel or two off the labelled centre.
pub const REACH_PX: f32 = 3.0;

/// The log-radius targets (RAYS maps per chip) and their weights (one map
/// per chip: 1 where a pixel learns, else 0), each map `size` x `size`,
/// row-major, chip after chip. A pixel within [`REACH_PX`] of several
/// objects learns the nearest's.
pub fn extent_targets(objects: &[Vec<ChipObject>], size: usize) -> (Vec<f32>, Vec<f32>) {
    let plane = size * size;
    let mut values = vec![0f32; objects.len() * RAYS * plane];
    let mut weights = vec![0f32; objects.len() * plane];
    let reach = REACH_PX.ceil() as isize;
    for (c, chip) in objects.iter().enumerate() {
        let mut nearest = vec![f32::INFINITY; plane];
        for o in chip {
            let (cx, cy) = (o.centre.x as f32, o.centre.y as f32);
            let (px, py) = (cx.floor() as isize, cy.floor() as isize);
            for y in (py - reach).max(0)..(py + reach + 1).min(size as isize) {
                for x in (px - reach).max(0)..(px + reach + 1).min(size as isize) {
                    let d = (x as f32 + 0.5 - cx).hypot(y as f32 + 0.5 - cy);
                    let i = y as usize * size + x as usize;
                    if d > REACH_PX || d >= nearest[i] {
                        continue;
                    }
                    nearest[i] = d;
                    weights[c * plane + i] = f32::from(o.radii.is_some());
                    for k in 0..RAYS {
                        let r = o.radii.map_or(1.0, |r| r[k].max(0.5));
                        values[(c * RAYS + k) * plane + i] = r.ln();
                    }
                }
            }
        }
    }
    (values, weights)
}

/// [`extent_targets`] as tensors on `device`: the log radii (N x RAYS x S x
/// S) and the weights (N x 1 x S x S).
pub fn extent_target_tensors(objects: &[Vec<ChipObject>], size: usize, device: Device) -> (Tensor, Tensor) {
    let (v, w) = extent_targets(objects, size);
    let (n, s) = (objects.len() as i64, size as i64);
    (
        Tensor::from_slice(&v).view([n, RAYS as i64, s, s]).to_device(device),
        Tensor::from_slice(&w).view([n, 1, s, s]).to_device(device),
    )
}

/// Mean smooth-L1 error of predicted log radii (N x RAYS x H x W) over the
/// rays and the pixels that learn (`weights` times `valid`, N x 1 x H x W);
/// 0 when none do.
pub fn extent_loss(predicted: &Tensor, targets: &Tensor, weights: &Tensor, valid: &Tensor) -> Tensor {
    let w = weights * valid;
    let per_pixel = predicted.smooth_l1_loss(targets, Reduction::None, 0.1).mean_dim(1, true, Kind::Float);
    (per_pixel * &w).sum(Kind::Float) / w.sum(Kind::Float).clamp_min(1.0)
}

/// A change of an image's frame, applied to N x C x H x W maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Left to right (`flip` of the last axis).
    MirrorX,
    /// Top to bottom (`flip` of the rows).
    MirrorY,
    /// libtorch's `rot90(k, [2, 3])`: `k` quarter turns from +y towards +x
    /// in pixel terms (rows towards columns).
    Rot90(i64),
}

/// `t` changed by `c`; with `rays`, the RAYS channels from that index on
/// are outline radii, reordered so each still points its own way.
pub fn change(t: &Tensor, c: Change, rays: Option<i64>) -> Tensor {
    let (moved, source): (Tensor, fn(usize, i64) -> usize) = match c {
        Change::MirrorX => (t.flip([3]), |k, _| mirrored_x(k)),
        Change::MirrorY => (t.flip([2]), |k, _| mirrored_y(k)),
        // A turn of rows towards columns carries the ray at direction
        // (dx, dy) to (dy, -dx): ray k then holds what ray k + RAYS/4 held.
        Change::Rot90(k) => (t.rot90(k, [2, 3]), |j, k| turned(j, k)),
    };
    let Some(first) = rays else { return moved };
    let k = if let Change::Rot90(k) = c { k } else { 0 };
    let channels = t.size()[1];
    let order: Vec<i64> = (0..channels)
        .map(|ch| {
            let ray = ch - first;
            if (0..RAYS as i64).contains(&ray) {
                first + source(ray as usize, k) as i64
            } else {
                ch
            }
        })
        .collect();
    moved.index_select(1, &Tensor::from_slice(&order).to_device(t.device()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use detection::coords::{PixelBox, PixelPoint};
    use detection::outline::Outline;

    fn object(x: f64, y: f64, radii: Option<[f32; RAYS]>) -> ChipObject {
        ChipObject { centre: PixelPoint { x, y }, radii }
    }

    #[test]
    fn pixels_near_an_outlined_object_learn_its_log_radii() {
        let r: [f32; RAYS] = std::array::from_fn(|k| 2.0 + k as f32);
        let (v, w) = extent_targets(&[vec![object(4.5, 4.5, Some(r)), object(12.5, 4.5, None)]], 16);
        let at = |k: usize, x: usize, y: usize| (v[k * 256 + y * 16 + x], w[y * 16 + x]);
        assert_eq!(at(0, 4, 4), (2f32.ln(), 1.0));
        assert_eq!(at(5, 7, 4), (7f32.ln(), 1.0), "3 px away still learns");
        assert_eq!(at(0, 8, 4).1, 0.0, "beyond the reach");
        assert_eq!(at(0, 12, 4).1, 0.0, "a point label teaches no extent");
        assert_eq!(w.iter().filter(|&&w| w == 1.0).count(), 29, "the pixels within 3 px of the centre");
    }

    #[test]
    fn the_loss_counts_only_pixels_that_learn() {
        let t = Tensor::from_slice(&[1.0f32, 1.0, 0.0, 0.0]).view([1, 1, 2, 2]).repeat([1, RAYS as i64, 1, 1]);
        let w = Tensor::from_slice(&[1.0f32, 1.0, 0.0, 0.0]).view([1, 1, 2, 2]);
        let valid = Tensor::ones([1, 1, 2, 2], (Kind::Float, Device::Cpu));
        let right = Tensor::from_slice(&[1.0f32, 1.0, 9.0, 9.0]).view([1, 1, 2, 2]).repeat([1, RAYS as i64, 1, 1]);
        let wrong = Tensor::from_slice(&[3.0f32, 3.0, 0.0, 0.0]).view([1, 1, 2, 2]).repeat([1, RAYS as i64, 1, 1]);
        let l = |p: &Tensor| f64::try_from(extent_loss(p, &t, &w, &valid)).unwrap();
        assert_eq!(l(&right), 0.0);
        assert!((l(&wrong) - 1.95).abs() < 1e-6, "{}", l(&wrong));
    }

    /// The targets of a changed chip equal the changed targets of the chip:
    /// a wide box label seen after each flip and turn.
    #[test]
    fn changed_maps_keep_their_rays_pointing_the_right_way() {
        let size = 16usize;
        let targets = |b: PixelBox| {
            let o = Outline::of_box(b.centre(), b);
            let (v, _) = extent_targets(&[vec![object(b.centre().x, b.centre().y, Some(o.radii))]], size);
            Tensor::from_slice(&v).view([1, RAYS as i64, size as i64, size as i64])
        };
        // A 6 x 2 box centred at (5, 7): wide, off-centre, so every change shows.
        let b = PixelBox { x0: 2.0, y0: 6.0, x1: 8.0, y1: 8.0 };
        let s = size as f64;
        let cases = [
            (Change::MirrorX, PixelBox { x0: s - b.x1, y0: b.y0, x1: s - b.x0, y1: b.y1 }),
            (Change::MirrorY, PixelBox { x0: b.x0, y0: s - b.y1, x1: b.x1, y1: s - b.y0 }),
            // rot90(1): new (row, col) = (W - 1 - col, row) per pixel.
            (Change::Rot90(1), PixelBox { x0: b.y0, y0: s - b.x1, x1: b.y1, y1: s - b.x0 }),
            (Change::Rot90(2), PixelBox { x0: s - b.x1, y0: s - b.y1, x1: s - b.x0, y1: s - b.y0 }),
            (Change::Rot90(3), PixelBox { x0: s - b.y1, y0: b.x0, x1: s - b.y0, y1: b.x1 }),
        ];
        for (c, seen) in cases {
            let expected = targets(seen);
            let got = change(&targets(b), c, Some(0));
            let diff = f64::try_from((got - &expected).abs().max()).unwrap();
            assert!(diff < 1e-5, "{c:?}: off by {diff}");
        }
    }
}
