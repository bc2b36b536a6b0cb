//! Panchromatic values to a mask of object pixels: a fixed threshold (the
//! paper's "darker than 100") or Otsu's, chosen once per raster so every tile
//! uses the same cut.

use image::GrayImage;

pub use detection::options::{Threshold, ThresholdMethod};

/// Otsu's threshold of panchromatic values, quantised to 256 levels between
/// `lo` and `hi` and mapped back to the value scale, as a "darker than" cut:
/// imageproc's level is the last value of the dark class.
pub fn otsu(values: &[f32], lo: f32, hi: f32) -> f32 {
    let scale = if hi > lo { 255.0 / (hi - lo) } else { 1.0 };
    let quantised: Vec<u8> = values.iter().map(|v| ((v - lo) * scale).clamp(0.0, 255.0) as u8).collect();
    let len = quantised.len() as u32;
    let img = GrayImage::from_raw(len.max(1), 1, if quantised.is_empty() { vec![0] } else { quantised })
        .expect("sized buffer");
    lo + (imageproc::contrast::otsu_level(&img) as f32 + 1.0) / scale
}

/// The object mask: 255 where the pixel is valid and on the object side of
/// `cut` (below it when `darker`), else 0.
pub fn mask(pan: &[f32], valid: &[bool], width: usize, height: usize, cut: f32, darker: bool) -> GrayImage {
    let data = pan
        .iter()
        .zip(valid)
        .map(|(&v, &ok)| if ok && ((darker && v < cut) || (!darker && v > cut)) { 255 } else { 0 })
        .collect();
    GrayImage::from_raw(width as u32, height as u32, data).expect("one value per pixel")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_threshold_keeps_dark_valid_pixels() {
        let m = mask(&[50.0, 99.9, 100.0, 20.0], &[true, true, true, false], 2, 2, 100.0, true);
        assert_eq!(m.as_raw(), &[255, 255, 0, 0]);
        let m = mask(&[50.0, 150.0], &[true, true], 2, 1, 100.0, false);
        assert_eq!(m.as_raw(), &[0, 255]);
    }

    #[test]
    fn otsu_splits_two_populations() {
        let mut v = vec![40.0f32; 300];
        v.extend(std::iter::repeat_n(200.0f32, 700));
        let t = otsu(&v, 0.0, 255.0);
        assert!(t > 40.0 && t < 200.0, "{t}");
    }

    #[test]
    fn config_reads_a_number_or_otsu() {
        #[derive(serde::Deserialize)]
        struct C {
            t: Threshold,
        }
        assert_eq!(toml::from_str::<C>("t = 90").unwrap().t, Threshold::Fixed(90.0));
        assert_eq!(toml::from_str::<C>("t = \"otsu\"").unwrap().t, Threshold::Method(ThresholdMethod::Otsu));
        assert!(toml::from_str::<C>("t = \"median\"").is_err());
    }
}
