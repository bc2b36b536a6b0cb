//! Synthetic scenes of dark shrubs scattered on bright soil, written as tiled
//! GeoTIFFs tile by tile (so a 20000x20000 scene needs no more memory than a
//! tile) with the shrubs' true positions. They are the project's own
//! redistributable test imagery, and the scale benchmarks' input.

use crate::error::{Error, Result};
use detection::coords::PixelWindow;
use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use gdal::DriverManager;
use std::path::Path;

/// Shrubs are placed per cell of this many pixels, so any tile can find the
/// shrubs that touch it without a global list.
const CELL: usize = 64;
/// Largest shrub radius in pixels.
const MAX_RADIUS: f64 = 9.0;

/// What scene to make.
#[derive(Debug, Clone)]
pub struct SceneSpec {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Ground sample distance in metres.
    pub gsd_m: f64,
    /// EPSG code of a projected CRS in metres.
    pub epsg: u32,
    /// Map coordinates of the top-left corner.
    pub origin: (f64, f64),
    /// Seed: the same seed gives the same scene, byte for byte.
    pub seed: u64,
    /// Probability that a cell holds a shrub.
    pub density: f64,
    /// GeoTIFF tile size (and the size of each write).
    pub block: usize,
    /// GeoTIFF compression (NONE, DEFLATE, LZW, ...).
    pub compress: String,
}

impl Default for SceneSpec {
    /// A 512x512 scene at 0.5 m in UTM 30N, near Cabo de Gata (Almería),
    /// where Ziziphus lotus grows.
    fn default() -> Self {
        SceneSpec {
            width: 512,
            height: 512,
            gsd_m: 0.5,
            epsg: 32630,
            origin: (580_000.0, 4_080_000.0),
            seed: 1,
            density: 0.6,
            block: 256,
            compress: "DEFLATE".into(),
        }
    }
}

/// One shrub: centre in pixels, radius in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shrub {
    /// Column of the centre.
    pub x: f64,
    /// Row of the centre.
    pub y: f64,
    /// Crown radius.
    pub radius: f64,
}

/// A stateless hash to uniform [0, 1): the scene is a pure function of the
/// seed and the position, whatever order tiles are drawn in.
fn unit(seed: u64, a: u64, b: u64, k: u64) -> f64 {
    let mut z = seed
        ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ k.wrapping_mul(0x1656_67B1_9E37_79F9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The shrub of cell (`cx`, `cy`), if it has one.
fn shrub_in_cell(spec: &SceneSpec, cx: usize, cy: usize) -> Option<Shrub> {
    let (a, b) = (cx as u64, cy as u64);
    if unit(spec.seed, a, b, 0) >= spec.density {
        return None;
    }
    let radius = 3.0 + (MAX_RADIUS - 3.0) * unit(spec.seed, a, b, 1);
    // Keep crowns apart from the cell edge so neighbours rarely touch.
    let margin = radius + 2.0;
    let span = CELL as f64 - 2.0 * margin;
    let x = (cx * CELL) as f64 + margin + span * unit(spec.seed, a, b, 2);
    let y = (cy * CELL) as f64 + margin + span * unit(spec.seed, a, b, 3);
    (x < spec.width as f64 && y < spec.height as f64).then_some(Shrub { x, y, radius })
}

/// Every shrub of the scene, row of cells by row of cells.
pub fn shrubs(spec: &SceneSpec) -> Vec<Shrub> {
    let (cols, rows) = (spec.width.div_ceil(CELL), spec.height.div_ceil(CELL));
    (0..rows).flat_map(|cy| (0..cols).filter_map(move |cx| shrub_in_cell(spec, cx, cy))).collect()
}

/// RGB of the scene over one window, band after band.
pub fn render(spec: &SceneSpec, w: PixelWindow) -> [Vec<u8>; 3] {
    let n = w.area();
    let mut rgb = [vec![0u8; n], vec![0u8; n], vec![0u8; n]];
    let mut soil = vec![0f64; n];
    for y in 0..w.height {
        for x in 0..w.width {
            let (gx, gy) = ((w.x + x) as f64, (w.y + y) as f64);
            // Gentle patches of lighter and darker soil, plus grain.
            let patch = 12.0 * ((gx / 97.0).sin() * (gy / 131.0).cos() + 0.5 * ((gx + gy) / 53.0).sin());
            let grain = 16.0 * (unit(spec.seed, (w.x + x) as u64, (w.y + y) as u64, 7) - 0.5);
            soil[y * w.width + x] = patch + grain;
        }
    }
    for (i, s) in soil.iter().enumerate() {
        rgb[0][i] = (196.0 + s).clamp(0.0, 255.0) as u8;
        rgb[1][i] = (170.0 + s).clamp(0.0, 255.0) as u8;
        rgb[2][i] = (136.0 + s).clamp(0.0, 255.0) as u8;
    }
    let reach = MAX_RADIUS.ceil() as usize + 2;
    let cx0 = w.x.saturating_sub(reach) / CELL;
    let cy0 = w.y.saturating_sub(reach) / CELL;
    let cx1 = ((w.x_end() + reach) / CELL).min(spec.width.div_ceil(CELL) - 1);
    let cy1 = ((w.y_end() + reach) / CELL).min(spec.height.div_ceil(CELL) - 1);
    for cy in cy0..=cy1 {
        for cx in cx0..=cx1 {
            if let Some(s) = shrub_in_cell(spec, cx, cy) {
                paint(&mut rgb, w, s);
            }
        }
    }
    rgb
}

/// Draws a dark green crown with a soft edge and a darker core.
fn paint(rgb: &mut [Vec<u8>; 3], w: PixelWindow, s: Shrub) {
    let x0 = (s.x - s.radius - 1.0).floor().max(w.x as f64) as usize;
    let y0 = (s.y - s.radius - 1.0).floor().max(w.y as f64) as usize;
    let x1 = ((s.x + s.radius + 1.0).ceil() as usize).min(w.x_end());
    let y1 = ((s.y + s.radius + 1.0).ceil() as usize).min(w.y_end());
    for y in y0..y1 {
        for x in x0..x1 {
            let d = ((x as f64 + 0.5 - s.x).powi(2) + (y as f64 + 0.5 - s.y).powi(2)).sqrt();
            let cover = (s.radius + 0.5 - d).clamp(0.0, 1.0);
            if cover <= 0.0 {
                continue;
            }
            let shade = 1.0 - 0.35 * (1.0 - d / s.radius).clamp(0.0, 1.0);
            let crown = [62.0 * shade, 78.0 * shade, 46.0 * shade];
            let i = (y - w.y) * w.width + (x - w.x);
            for (band, c) in rgb.iter_mut().zip(crown) {
                band[i] = (band[i] as f64 * (1.0 - cover) + c * cover).round() as u8;
            }
        }
    }
}

/// Writes the scene as a tiled RGB GeoTIFF and returns its shrubs.
pub fn write_scene(path: &Path, spec: &SceneSpec) -> Result<Vec<Shrub>> {
    let fail = |e: gdal::errors::GdalError| Error::NotRaster {
        path: path.to_owned(),
        reason: format!("cannot write the scene: {e}"),
    };
    let driver = DriverManager::get_driver_by_name("GTiff").map_err(fail)?;
    let block = spec.block.to_string();
    let options = RasterCreationOptions::from_iter([
        "TILED=YES".to_string(),
        format!("BLOCKXSIZE={block}"),
        format!("BLOCKYSIZE={block}"),
        format!("COMPRESS={}", spec.compress),
        "PHOTOMETRIC=RGB".to_string(),
        "BIGTIFF=IF_SAFER".to_string(),
    ]);
    let mut ds =
        driver.create_with_band_type_with_options::<u8, _>(path, spec.width, spec.height, 3, &options).map_err(fail)?;
    ds.set_spatial_ref(&SpatialRef::from_epsg(spec.epsg).map_err(fail)?).map_err(fail)?;
    ds.set_geo_transform(&[spec.origin.0, spec.gsd_m, 0.0, spec.origin.1, 0.0, -spec.gsd_m]).map_err(fail)?;
    let grid = crate::grid::Grid::new(spec.width, spec.height, spec.block, 0)?;
    for tile in grid.tiles() {
        let w = tile.core;
        for (b, values) in render(spec, w).into_iter().enumerate() {
            let mut buf = Buffer::new((w.width, w.height), values);
            ds.rasterband(b + 1)
                .map_err(fail)?
                .write((w.x as isize, w.y as isize), (w.width, w.height), &mut buf)
                .map_err(fail)?;
        }
    }
    ds.close().map_err(fail)?;
    Ok(shrubs(spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_does_not_depend_on_the_window() {
        let spec = SceneSpec { width: 300, height: 200, ..SceneSpec::default() };
        let whole = render(&spec, PixelWindow::new(0, 0, 300, 200));
        let part = render(&spec, PixelWindow::new(100, 50, 70, 90));
        for b in 0..3 {
            for y in 0..90 {
                for x in 0..70 {
                    assert_eq!(part[b][y * 70 + x], whole[b][(50 + y) * 300 + 100 + x]);
                }
            }
        }
    }

    #[test]
    fn shrubs_are_dark_and_soil_is_bright() {
        let spec = SceneSpec::default();
        let all = shrubs(&spec);
        assert!(all.len() > 20, "{} shrubs", all.len());
        let rgb = render(&spec, PixelWindow::new(0, 0, spec.width, spec.height));
        for s in &all {
            let i = s.y as usize * spec.width + s.x as usize;
            assert!(rgb[0][i] < 100, "centre of {s:?} is {}", rgb[0][i]);
        }
        assert!(rgb[0].iter().filter(|&&v| v > 150).count() > spec.width * spec.height / 2);
    }
}
