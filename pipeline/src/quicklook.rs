//! A picture to check detections at a glance: the raster scaled down, its
//! contrast stretched (and its mid-tones brought to the middle, so bright
//! scenes such as desert sand are not washed out), with each detection's
//! outline (or box) drawn on it as a bright line with a dark edge, wide
//! enough to see at any size.

use crate::error::{Error, Result};
use crate::export::write_atomic;
use crate::raster::{Raster, WindowData};
use detection::objects::Detection;
use image::{Rgb, RgbImage};
use imageproc::drawing::draw_filled_circle_mut;
use std::path::Path;

/// Longest side of a quicklook, in pixels.
pub const MAX_SIDE: usize = 1600;

/// Quicklooks of smaller rasters are enlarged (whole multiples, nearest
/// neighbour) to at least this side, so outlines and the legend read.
pub const MIN_SIDE: usize = 512;

/// The outlines' colour: magenta, rare in vegetation, soil and water alike.
pub const OUTLINE: Rgb<u8> = Rgb([255, 0, 200]);

/// The dark edge around each outline, so it reads on bright ground too.
const HALO: Rgb<u8> = Rgb([0, 0, 0]);

/// Where the median brightness of a stretched image is brought to.
const MID_GREY: f32 = 0.45;

/// Three bands read as an RGB image, each stretched between its 2nd and
/// 98th percentiles, then one gamma for all three bringing the median
/// brightness to mid-grey (within 0.33..5), so a bright scene keeps its
/// contrast in the mid-tones.
pub(crate) fn stretched(data: &WindowData<f32>) -> RgbImage {
    let (w, h) = (data.window.width, data.window.height);
    let mut unit = vec![0f32; w * h * 3];
    for b in 0..3 {
        let values = data.band(b);
        let mut sorted: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f32::total_cmp);
        let pick = |q: f64| sorted.get(((sorted.len().saturating_sub(1)) as f64 * q) as usize).copied().unwrap_or(0.0);
        let (lo, hi) = (pick(0.02), pick(0.98));
        let scale = if hi > lo { 1.0 / (hi - lo) } else { 1.0 / 255.0 };
        for (i, v) in values.iter().enumerate() {
            unit[i * 3 + b] = ((v - lo) * scale).clamp(0.0, 1.0);
        }
    }
    let mut brightness: Vec<f32> = unit.chunks_exact(3).map(|p| (p[0] + p[1] + p[2]) / 3.0).collect();
    let median = if brightness.is_empty() {
        MID_GREY
    } else {
        let mid = brightness.len() / 2;
        *brightness.select_nth_unstable_by(mid, f32::total_cmp).1
    };
    let gamma = if median > 0.01 && median < 0.99 { (MID_GREY.ln() / median.ln()).clamp(0.33, 5.0) } else { 1.0 };
    let mut img = RgbImage::new(w as u32, h as u32);
    for (px, v) in img.pixels_mut().zip(unit.chunks_exact(3)) {
        px.0 = [0, 1, 2].map(|b| (v[b].powf(gamma) * 255.0).round() as u8);
    }
    img
}

/// The half-width of outlines on an image whose longest side is `side`
/// pixels: 1 up to 600 px, then one more per 600.
fn line_radius(side: u32) -> i32 {
    (side / 600).max(1) as i32
}

/// Draws closed `rings` as lines of half-width `radius` in `colour`, with a
/// dark edge one pixel wider under all of them.
fn draw_rings(img: &mut RgbImage, rings: &[Vec<(f64, f64)>], radius: i32) {
    for (r, colour) in [(radius + 1, HALO), (radius, OUTLINE)] {
        for ring in rings {
            for (k, &(x0, y0)) in ring.iter().enumerate() {
                let (x1, y1) = ring[(k + 1) % ring.len()];
                let steps = ((x1 - x0).hypot(y1 - y0) * 2.0).ceil().max(1.0) as usize;
                for i in 0..=steps {
                    let t = i as f64 / steps as f64;
                    let at = ((x0 + (x1 - x0) * t).round() as i32, (y0 + (y1 - y0) * t).round() as i32);
                    draw_filled_circle_mut(img, at, r, colour);
                }
            }
        }
    }
}

/// Writes `png`: bands 1-3 of the raster (band 1 alone when it has fewer),
/// stretched, with `detections` (in the raster's pixels) outlined in
/// magenta at their size, and a legend: what the outlines are (`class`, how
/// many) and a scale bar.
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
    let rings: Vec<Vec<(f64, f64)>> = detections
        .iter()
        .map(|d| match &d.outline {
            Some(o) => o.vertices().iter().map(|p| (p.x * fx, p.y * fy)).collect(),
            None => {
                let b = &d.footprint;
                vec![(b.x0 * fx, b.y0 * fy), (b.x1 * fx, b.y0 * fy), (b.x1 * fx, b.y1 * fy), (b.x0 * fx, b.y1 * fy)]
            }
        })
        .collect();
    let radius = line_radius(img.width().max(img.height()));
    draw_rings(&mut img, &rings, radius);
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
    let [r, g, b] = OUTLINE.0;
    root.draw(&Circle::new((x0 + 14, y0 + 14), 8, BLACK.stroke_width(4))).map_err(fail)?;
    root.draw(&Circle::new((x0 + 14, y0 + 14), 8, RGBColor(r, g, b).stroke_width(2))).map_err(fail)?;
    root.draw(&Text::new(what.to_owned(), (x0 + 28, y0 + 6), font.clone())).map_err(fail)?;
    let by = y0 + 32;
    root.draw(&Rectangle::new([(x0 + 8, by), (x0 + 8 + bar_px, by + 5)], BLACK.filled())).map_err(fail)?;
    root.draw(&Text::new(format!("{bar_m} {unit}"), (x0 + 14 + bar_px, by - 5), font)).map_err(fail)?;
    root.present().map_err(fail)
}
