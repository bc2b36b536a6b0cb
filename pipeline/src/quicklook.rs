//! A picture to check detections at a glance: the raster scaled down, its
//! contrast stretched, with each detection's outline (or box) drawn on it.

use crate::error::{Error, Result};
use crate::export::write_atomic;
use crate::raster::{Raster, WindowData};
use detection::objects::Detection;
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_hollow_polygon_mut, draw_hollow_rect_mut};
use imageproc::point::Point;
use imageproc::rect::Rect;
use std::path::Path;

/// Longest side of a quicklook, in pixels.
pub const MAX_SIDE: usize = 1600;

/// Quicklooks of smaller rasters are enlarged (whole multiples, nearest
/// neighbour) to at least this side, so outlines and the legend read.
pub const MIN_SIDE: usize = 512;

/// The outlines' colour.
const OUTLINE: Rgb<u8> = Rgb([255, 230, 0]);

/// Three bands read as an RGB image, each stretched between its 2nd and
/// 98th percentiles.
pub(crate) fn stretched(data: &WindowData<f32>) -> RgbImage {
    let (w, h) = (data.window.width, data.window.height);
    let mut img = RgbImage::new(w as u32, h as u32);
    for b in 0..3 {
        let values = data.band(b);
        let mut sorted: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f32::total_cmp);
        let pick = |q: f64| sorted.get(((sorted.len().saturating_sub(1)) as f64 * q) as usize).copied().unwrap_or(0.0);
        let (lo, hi) = (pick(0.02), pick(0.98));
        let scale = if hi > lo { 255.0 / (hi - lo) } else { 1.0 };
        for (i, v) in values.iter().enumerate() {
            img.get_pixel_mut((i % w) as u32, (i / w) as u32).0[b] = ((v - lo) * scale).clamp(0.0, 255.0) as u8;
        }
    }
    img
}

/// Writes `png`: bands 1-3 of the raster (band 1 alone when it has fewer)
/// stretched between the 2nd and 98th percentiles, with `detections` (in the
/// raster's pixels) outlined in yellow at their size, and a legend: what
/// the outlines are (`class`, how many) and a scale bar.
pub fn quicklook(raster: &Raster, detections: &[Detection], class: &str, png: &Path) -> Result<()> {
    let bands: Vec<usize> = if raster.band_count() >= 3 { vec![1, 2, 3] } else { vec![1, 1, 1] };
    let over = raster.read_overview(&bands, MAX_SIDE)?;
    let (w, h) = (over.window.width, over.window.height);
    let k = MIN_SIDE.div_ceil(w.max(h)).max(1);
    let mut img = stretched(&over);
    if k > 1 {
        img = image::imageops::resize(&img, (w * k) as u32, (h * k) as u32, image::imageops::FilterType::Nearest);
    }
    let (rw, rh) = raster.size();
    let (fx, fy) = ((w * k) as f64 / rw as f64, (h * k) as f64 / rh as f64);
    for d in detections {
        if let Some(o) = &d.outline {
            let ring: Vec<Point<f32>> =
                o.vertices().iter().map(|p| Point::new((p.x * fx) as f32, (p.y * fy) as f32)).collect();
            draw_hollow_polygon_mut(&mut img, &ring, OUTLINE);
            continue;
        }
        let b = &d.footprint;
        let (x0, y0) = ((b.x0 * fx).floor() as i32, (b.y0 * fy).floor() as i32);
        let (x1, y1) = ((b.x1 * fx).ceil() as i32, (b.y1 * fy).ceil() as i32);
        let rect = Rect::at(x0, y0).of_size((x1 - x0).max(2) as u32, (y1 - y0).max(2) as u32);
        draw_hollow_rect_mut(&mut img, rect, OUTLINE);
    }
    let outlined = detections.iter().any(|d| d.outline.is_some());
    let what = format!(
        "{} {class} detection(s), {}",
        detections.len(),
        if outlined { "outlined at their size" } else { "their windows" }
    );
    let metres_per_px = raster.info().metres_per_pixel().map(|m| m / fx);
    legend(&mut img, &what, metres_per_px).map_err(|e| Error::Output { path: png.to_owned(), reason: e })?;
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| Error::Output { path: png.to_owned(), reason: e.to_string() })?;
    write_atomic(png, &bytes)
}

/// A scale bar's length: 1, 2 or 5 times a power of ten, the longest that
/// fits `at_most`.
fn round_length(at_most: f64) -> f64 {
    let p = 10f64.powf(at_most.log10().floor());
    [5.0, 2.0, 1.0].into_iter().map(|m| m * p).find(|&l| l <= at_most).unwrap_or(p)
}

/// Draws the legend in the bottom-left corner: an outline and `what`, and
/// a scale bar (metres when the raster's are known, else pixels).
fn legend(img: &mut image::RgbImage, what: &str, metres_per_px: Option<f64>) -> std::result::Result<(), String> {
    use plotters::prelude::*;
    let (w, h) = img.dimensions();
    let (bar_m, bar_px, unit) = match metres_per_px {
        Some(m) => {
            let l = round_length(120.0 * m);
            (l, (l / m).round() as i32, "m")
        }
        None => (100.0, 100, "px"),
    };
    let root = BitMapBackend::with_buffer(img, (w, h)).into_drawing_area();
    let fail = |e: DrawingAreaErrorKind<_>| e.to_string();
    let font = ("sans-serif", 14).into_font().color(&BLACK);
    let (x0, y1) = (8, h as i32 - 8);
    let width = (what.len() as i32 * 7 + 40).max(bar_px + 80).min(w as i32 - 16);
    let y0 = y1 - 48;
    root.draw(&Rectangle::new([(x0, y0), (x0 + width, y1)], WHITE.mix(0.85).filled())).map_err(fail)?;
    root.draw(&Circle::new((x0 + 14, y0 + 14), 7, RGBColor(255, 230, 0).stroke_width(2))).map_err(fail)?;
    root.draw(&Circle::new((x0 + 14, y0 + 14), 8, BLACK.mix(0.5).stroke_width(1))).map_err(fail)?;
    root.draw(&Text::new(what.to_owned(), (x0 + 28, y0 + 6), font.clone())).map_err(fail)?;
    let by = y0 + 32;
    root.draw(&Rectangle::new([(x0 + 8, by), (x0 + 8 + bar_px, by + 5)], BLACK.filled())).map_err(fail)?;
    root.draw(&Text::new(format!("{bar_m} {unit}"), (x0 + 14 + bar_px, by - 5), font)).map_err(fail)?;
    root.present().map_err(fail)
}
