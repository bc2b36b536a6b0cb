//! A map over the image it explains, as a PNG: the window of the raster
//! (contrast stretched), the map blended on it from transparent to red to
//! yellow, and the detection's outline in cyan.

use crate::error::{Error, Result};
use crate::export::write_atomic;
use crate::raster::Raster;
use detection::coords::{PixelPoint, PixelWindow};
use image::{imageops, Rgb};
use imageproc::drawing::draw_hollow_polygon_mut;
use imageproc::point::Point;
use std::path::Path;

/// Windows smaller than this are enlarged (nearest neighbour) to it, so a
/// 16 px patch is not a dot on the screen.
pub const MIN_SIDE: u32 = 256;

/// Writes `png`: `window` of `raster` with `map` (one value in [0, 1] per
/// pixel of the window, row-major) over it and `outline` (raster pixels).
pub fn overlay_png(
    raster: &Raster,
    window: PixelWindow,
    map: &[f32],
    outline: &[PixelPoint],
    png: &Path,
) -> Result<()> {
    let bands: Vec<usize> = if raster.band_count() >= 3 { vec![1, 2, 3] } else { vec![1, 1, 1] };
    let data = raster.read_window::<f32>(window, &bands)?;
    let (w, h) = (window.width as u32, window.height as u32);
    let mut img = crate::quicklook::stretched(&data);
    for (i, &m) in map.iter().enumerate() {
        let m = m.clamp(0.0, 1.0);
        // Red rising to yellow, as opaque as the map is strong.
        let colour = [255.0, 255.0 * m, 0.0];
        let px = img.get_pixel_mut(i as u32 % w, i as u32 / w);
        // The square root lifts the map's weaker parts into view.
        let alpha = 0.75 * m.sqrt();
        for (c, &v) in px.0.iter_mut().zip(&colour) {
            *c = (*c as f32 * (1.0 - alpha) + v * alpha).round() as u8;
        }
    }
    let k = (MIN_SIDE as f64 / w.max(h) as f64).ceil().max(1.0);
    let mut img =
        if k > 1.0 { imageops::resize(&img, w * k as u32, h * k as u32, imageops::FilterType::Nearest) } else { img };
    if outline.len() >= 3 {
        let ring: Vec<Point<f32>> = outline
            .iter()
            .map(|p| Point::new(((p.x - window.x as f64) * k) as f32, ((p.y - window.y as f64) * k) as f32))
            .collect();
        draw_hollow_polygon_mut(&mut img, &ring, Rgb([0, 230, 255]));
    }
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| Error::Output { path: png.to_owned(), reason: e.to_string() })?;
    write_atomic(png, &bytes)
}
