//! A picture to check detections at a glance: the raster scaled down, its
//! contrast stretched, with each detection's outline (or box) drawn on it.

use crate::error::{Error, Result};
use crate::export::write_atomic;
use crate::raster::Raster;
use detection::objects::Detection;
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_hollow_polygon_mut, draw_hollow_rect_mut};
use imageproc::point::Point;
use imageproc::rect::Rect;
use std::path::Path;

/// Longest side of a quicklook, in pixels.
pub const MAX_SIDE: usize = 1600;

/// Writes `png`: bands 1-3 of the raster (band 1 alone when it has fewer)
/// stretched between the 2nd and 98th percentiles, with `detections` (in the
/// raster's pixels) outlined in yellow.
pub fn quicklook(raster: &Raster, detections: &[Detection], png: &Path) -> Result<()> {
    let bands: Vec<usize> = if raster.band_count() >= 3 { vec![1, 2, 3] } else { vec![1, 1, 1] };
    let over = raster.read_overview(&bands, MAX_SIDE)?;
    let (w, h) = (over.window.width, over.window.height);
    let mut img = RgbImage::new(w as u32, h as u32);
    for b in 0..3 {
        let values = over.band(b);
        let mut sorted: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f32::total_cmp);
        let pick = |q: f64| sorted.get(((sorted.len().saturating_sub(1)) as f64 * q) as usize).copied().unwrap_or(0.0);
        let (lo, hi) = (pick(0.02), pick(0.98));
        let scale = if hi > lo { 255.0 / (hi - lo) } else { 1.0 };
        for (i, v) in values.iter().enumerate() {
            img.get_pixel_mut((i % w) as u32, (i / w) as u32).0[b] = ((v - lo) * scale).clamp(0.0, 255.0) as u8;
        }
    }
    let (rw, rh) = raster.size();
    let (fx, fy) = (w as f64 / rw as f64, h as f64 / rh as f64);
    for d in detections {
        if let Some(o) = &d.outline {
            let ring: Vec<Point<f32>> =
                o.vertices().iter().map(|p| Point::new((p.x * fx) as f32, (p.y * fy) as f32)).collect();
            draw_hollow_polygon_mut(&mut img, &ring, Rgb([255, 230, 0]));
            continue;
        }
        let b = &d.footprint;
        let (x0, y0) = ((b.x0 * fx).floor() as i32, (b.y0 * fy).floor() as i32);
        let (x1, y1) = ((b.x1 * fx).ceil() as i32, (b.y1 * fy).ceil() as i32);
        let rect = Rect::at(x0, y0).of_size((x1 - x0).max(2) as u32, (y1 - y0).max(2) as u32);
        draw_hollow_rect_mut(&mut img, rect, Rgb([255, 230, 0]));
    }
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| Error::Output { path: png.to_owned(), reason: e.to_string() })?;
    write_atomic(png, &bytes)
}
