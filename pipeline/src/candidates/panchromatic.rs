//! RGB (or any bands) to one panchromatic band, as a weighted sum.

use crate::raster::WindowData;

pub use detection::options::LUMA_WEIGHTS;

/// The weighted sum of the window's bands, one value per pixel. `weights`
/// must have one entry per band read.
pub fn panchromatic(data: &WindowData<f32>, weights: &[f32]) -> Vec<f32> {
    assert_eq!(weights.len(), data.bands.len(), "one weight per band");
    let n = data.window.area();
    let mut pan = vec![0f32; n];
    for (i, &w) in weights.iter().enumerate() {
        for (p, &v) in pan.iter_mut().zip(data.band(i)) {
            *p += w * v;
        }
    }
    pan
}

#[cfg(test)]
mod tests {
    use super::*;
    use detection::coords::PixelWindow;

    #[test]
    fn weights_combine_bands() {
        let data = WindowData {
            window: PixelWindow::new(0, 0, 2, 1),
            bands: vec![1, 2, 3],
            data: vec![100.0, 0.0, 200.0, 0.0, 50.0, 255.0],
            valid: vec![true, true],
        };
        let pan = panchromatic(&data, &LUMA_WEIGHTS);
        assert!((pan[0] - (29.9 + 117.4 + 5.7)).abs() < 1e-3);
        assert!((pan[1] - 255.0 * 0.114).abs() < 1e-3);
    }
}
