//! Training targets of a heatmap network: a Gaussian bump on every object
//! centre, 1 exactly at the pixel holding the centre (CenterNet's targets,
//! Zhou et al. 2019). Where bumps overlap the larger value wins, so close
//! objects stay separate peaks.

use detection::examples::ChipObject;

/// One `size` x `size` map per chip, row-major, chip after chip: the
/// centres of each chip's objects (pixel coordinates, x then y, pixel `i`
/// spanning `[i, i + 1)`) drawn as Gaussians of `sigma` pixels.
pub fn gaussian_targets(objects: &[Vec<ChipObject>], size: usize, sigma: f32) -> Vec<f32> {
    let mut out = vec![0f32; objects.len() * size * size];
    let reach = (3.0 * sigma).ceil() as isize;
    for (chip, chip_objects) in out.chunks_mut(size * size).zip(objects) {
        for o in chip_objects {
            let (cx, cy) = (o.centre.x as f32, o.centre.y as f32);
            let (px, py) = (cx.floor() as isize, cy.floor() as isize);
            for y in (py - reach).max(0)..(py + reach + 1).min(size as isize) {
                for x in (px - reach).max(0)..(px + reach + 1).min(size as isize) {
                    let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                    let v = if (x, y) == (px, py) { 1.0 } else { (-(dx * dx + dy * dy) / (2.0 * sigma * sigma)).exp() };
                    let cell = &mut chip[y as usize * size + x as usize];
                    *cell = cell.max(v.min(if (x, y) == (px, py) { 1.0 } else { 0.999 }));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use detection::coords::PixelPoint;

    #[test]
    fn peaks_are_one_at_the_centre_pixel_only() {
        let at = |x, y| ChipObject { centre: PixelPoint { x, y }, radii: None };
        let t = gaussian_targets(&[vec![at(2.5, 3.2), at(30.0, 30.0)], vec![]], 8, 1.0);
        assert_eq!(t.len(), 2 * 64);
        assert_eq!(t[3 * 8 + 2], 1.0);
        assert_eq!(t.iter().filter(|&&v| v == 1.0).count(), 1, "the point outside the chip draws nothing");
        assert!((t[3 * 8 + 3] - (-0.5f32 * (1.0 + 0.09)).exp()).abs() < 1e-6);
        assert!(t[64..].iter().all(|&v| v == 0.0));
    }
}
