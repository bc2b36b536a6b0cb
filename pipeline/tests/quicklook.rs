//! Quicklooks are read at a glance: outlines drawn wide enough to see on a
//! small and on a large raster, and a bright scene not washed out.

use detection::coords::PixelPoint;
use detection::objects::Detection;
use detection::outline::Outline;
use pipeline::memory_raster::{ArrayGeoref, ArrayShape, MemoryRaster};
use pipeline::quicklook::{quicklook, OUTLINE};
use pipeline::Raster;

/// Bright sand (values 200..250 in a gentle ramp) with a darker disc under
/// each of `discs` (centre x, y and radius, pixels).
fn sand(width: usize, height: usize, discs: &[(f64, f64, f64)]) -> Vec<u8> {
    let mut v = vec![0u8; 3 * width * height];
    for y in 0..height {
        for x in 0..width {
            let shrub = discs.iter().any(|&(cx, cy, r)| (x as f64 - cx).hypot(y as f64 - cy) <= r);
            for b in 0..3 {
                let base = 200 + ((x + y) * 50 / (width + height)) as u8;
                v[(b * height + y) * width + x] = if shrub { 90 + 20 * b as u8 } else { base - 10 * b as u8 };
            }
        }
    }
    v
}

/// The quicklook of a `width` x `height` scene with three outlined shrubs:
/// the image, and the shrubs' centres and radii in its pixels.
fn look(width: usize, height: usize) -> (image::RgbImage, Vec<(f64, f64, f64)>) {
    let discs: Vec<(f64, f64, f64)> = [(0.25, 0.3), (0.6, 0.5), (0.8, 0.8)]
        .iter()
        .map(|&(fx, fy)| (fx * width as f64, fy * height as f64, width as f64 / 20.0))
        .collect();
    let shape = ArrayShape { bands: 3, rows: height, cols: width, bands_last: false };
    let georef = ArrayGeoref {
        transform: Some([500_000.0, 0.5, 0.0, 4_000_000.0, 0.0, -0.5]),
        crs: Some("EPSG:32630".into()),
        nodata: None,
    };
    let memory = MemoryRaster::new("sand", &sand(width, height, &discs), shape, &georef).unwrap();
    let raster = Raster::open(memory.path()).unwrap();
    let detections: Vec<Detection> = discs
        .iter()
        .map(|&(x, y, r)| {
            let centre = PixelPoint { x, y };
            let outline = Outline::circle(centre, r as f32);
            Detection { footprint: outline.bbox(), outline: Some(outline.into()), ..Detection::at(centre, 0.9) }
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("look.png");
    quicklook(&raster, &detections, "shrub", &png).unwrap();
    let img = image::open(&png).unwrap().to_rgb8();
    let f = img.width() as f64 / width as f64;
    (img, discs.iter().map(|&(x, y, r)| (x * f, y * f, r * f)).collect())
}

/// The widest run of outline-coloured pixels crossing each outline's right
/// edge, along its centre row.
fn line_widths(img: &image::RgbImage, shrubs: &[(f64, f64, f64)]) -> Vec<u32> {
    shrubs
        .iter()
        .map(|&(x, y, r)| {
            let row = y.round() as u32;
            let from = (x + r * 0.7) as u32;
            let to = ((x + r * 1.3) as u32).min(img.width() - 1);
            let mut best = 0;
            let mut run = 0;
            for px in from..=to {
                run = if img.get_pixel(px, row) == &OUTLINE { run + 1 } else { 0 };
                best = best.max(run);
            }
            best
        })
        .collect()
}

#[test]
fn outlines_stand_out_on_a_small_and_on_a_large_raster() {
    let (small, shrubs) = look(200, 160);
    assert_eq!(small.width(), 600, "a small raster is enlarged");
    assert!(line_widths(&small, &shrubs).iter().all(|&w| w >= 3), "{:?}", line_widths(&small, &shrubs));
    let (large, shrubs) = look(4000, 3000);
    assert_eq!((large.width(), large.height()), (1600, 1200));
    assert!(line_widths(&large, &shrubs).iter().all(|&w| w >= 5), "{:?}", line_widths(&large, &shrubs));
    // Each outline has a dark edge: black pixels just outside the line.
    let (x, y, r) = shrubs[0];
    let ring: Vec<u32> =
        ((x + r) as u32..(x + r + 12.0) as u32).map(|px| large.get_pixel(px, y as u32).0[0] as u32).collect();
    assert!(ring.contains(&0), "{ring:?}");
}

#[test]
fn a_bright_scene_is_not_washed_out() {
    let (img, _) = look(400, 400);
    let mut brightness: Vec<u32> = img.pixels().map(|p| p.0.iter().map(|&v| v as u32).sum::<u32>() / 3).collect();
    brightness.sort_unstable();
    let median = brightness[brightness.len() / 2];
    assert!((95..=135).contains(&median), "median brightness {median} of 255");
}
