//! Cutting classifier input out of a tile: a square of raster pixels, scaled
//! to the model's patch size when the window is another size, with zeros
//! wherever the square leaves the data that was read.

use crate::raster::WindowData;
use detection::coords::{PixelPoint, PixelWindow};

/// The `size`-pixel square centred on `centre`, moved inside the raster
/// when it would stick out and the raster is large enough.
pub fn centred_square(centre: PixelPoint, size: usize, raster: (usize, usize)) -> (isize, isize) {
    let place = |c: f64, len: usize| -> isize {
        let start = (c - size as f64 / 2.0).round() as isize;
        if len >= size {
            start.clamp(0, (len - size) as isize)
        } else {
            start
        }
    };
    (place(centre.x, raster.0), place(centre.y, raster.1))
}

/// Appends the square of `src_size` pixels at (`x0`, `y0`) (raster pixels)
/// of the bands at positions `bands` in `data`, resized to `patch`, channels
/// first, to `out`.
pub fn extract(
    data: &WindowData<f32>,
    bands: &[usize],
    x0: isize,
    y0: isize,
    src_size: usize,
    patch: usize,
    out: &mut Vec<f32>,
) {
    let w: &PixelWindow = &data.window;
    for &b in bands {
        let band = data.band(b);
        let mut square = vec![0f32; src_size * src_size];
        for sy in 0..src_size {
            let y = y0 + sy as isize - w.y as isize;
            if y < 0 || y >= w.height as isize {
                continue;
            }
            for sx in 0..src_size {
                let x = x0 + sx as isize - w.x as isize;
                if x >= 0 && x < w.width as isize {
                    square[sy * src_size + sx] = band[y as usize * w.width + x as usize];
                }
            }
        }
        if src_size == patch {
            out.extend_from_slice(&square);
        } else {
            bilinear(&square, src_size, patch, out);
        }
    }
}

/// Bilinear resize of a square, pixel centres aligned. Hand-written because
/// `image`'s resize clamps f32 pixels to [0, 1], and ours are raw values.
fn bilinear(src: &[f32], n: usize, m: usize, out: &mut Vec<f32>) {
    let scale = n as f64 / m as f64;
    let coord = |i: usize| -> (usize, usize, f32) {
        let c = ((i as f64 + 0.5) * scale - 0.5).clamp(0.0, (n - 1) as f64);
        let lo = c.floor() as usize;
        (lo, (lo + 1).min(n - 1), (c - lo as f64) as f32)
    };
    for i in 0..m {
        let (y0, y1, fy) = coord(i);
        for j in 0..m {
            let (x0, x1, fx) = coord(j);
            let top = src[y0 * n + x0] * (1.0 - fx) + src[y0 * n + x1] * fx;
            let bottom = src[y1 * n + x0] * (1.0 - fx) + src[y1 * n + x1] * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(window: PixelWindow) -> WindowData<f32> {
        let n = window.area();
        let data = (0..2 * n).map(|i| if i < n { (i % window.width + window.x) as f32 } else { 1000.0 }).collect();
        WindowData { window, bands: vec![1, 2], data, valid: vec![true; n] }
    }

    #[test]
    fn squares_stay_inside_the_raster() {
        assert_eq!(centred_square(PixelPoint { x: 50.0, y: 50.0 }, 32, (100, 100)), (34, 34));
        assert_eq!(centred_square(PixelPoint { x: 2.0, y: 99.0 }, 32, (100, 100)), (0, 68));
        assert_eq!(centred_square(PixelPoint { x: 5.0, y: 5.0 }, 32, (20, 20)), (-11, -11));
    }

    #[test]
    fn extraction_copies_bands_and_pads_with_zero() {
        let data = ramp(PixelWindow::new(10, 0, 20, 20));
        let mut out = Vec::new();
        extract(&data, &[0, 1], 8, 0, 4, 4, &mut out);
        assert_eq!(out.len(), 2 * 16);
        // Columns 8 and 9 lie left of the data read.
        assert_eq!(&out[0..4], &[0.0, 0.0, 10.0, 11.0]);
        assert_eq!(out[16 + 2], 1000.0);
    }

    #[test]
    fn other_sizes_are_resized_to_the_patch() {
        let data = ramp(PixelWindow::new(0, 0, 64, 64));
        let mut out = Vec::new();
        extract(&data, &[0, 1], 0, 0, 64, 32, &mut out);
        assert_eq!(out.len(), 2 * 32 * 32);
        assert!(out[0] < out[31]);
        assert!((out[32 * 32] - 1000.0).abs() < 1e-3);
    }
}
