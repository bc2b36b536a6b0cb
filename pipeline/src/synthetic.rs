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
/// Smallest and largest round shrub radius in pixels.
const RADII: (f64, f64) = (3.0, 9.0);
/// Smallest and largest semi-major axis of an elongated shrub in pixels:
/// large enough that an outline's fit is not a matter of single pixels.
const ELONGATED_RADII: (f64, f64) = (6.0, 16.0);

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
    /// The crowns' shapes.
    pub shapes: Shapes,
}

/// What shapes a scene's crowns take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shapes {
    /// Round crowns, one a cell at most, rarely touching.
    Round,
    /// Ellipses turned every way (minor axis 45-80% of the major), and in
    /// about a third of the cells a pair of them leaning on each other:
    /// shapes a star of rays from the centre cannot follow, and neighbours
    /// an outline must part.
    Elongated,
}

impl Shapes {
    /// The smallest and largest crown radius (semi-major axis), pixels.
    fn radii(self) -> (f64, f64) {
        match self {
            Shapes::Round => RADII,
            Shapes::Elongated => ELONGATED_RADII,
        }
    }
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
            shapes: Shapes::Round,
        }
    }
}

/// One shrub: centre in pixels, radius in pixels; an ellipse when
/// `minor` < `radius`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shrub {
    /// Column of the centre.
    pub x: f64,
    /// Row of the centre.
    pub y: f64,
    /// Crown radius (the semi-major axis).
    pub radius: f64,
    /// The semi-minor axis (`radius` for a round crown).
    pub minor: f64,
    /// The major axis's angle from the columns' direction, radians.
    pub turn: f64,
    /// Whether it leans on another crown (one of a pair).
    pub touching: bool,
}

impl Shrub {
    /// A round crown.
    pub fn round(x: f64, y: f64, radius: f64) -> Shrub {
        Shrub { x, y, radius, minor: radius, turn: 0.0, touching: false }
    }

    /// The crown's edge as a ring of `n` corners, in pixels (corners at
    /// whole coordinates are pixel corners, as everywhere in rsdetect).
    pub fn ring(&self, n: usize) -> Vec<(f64, f64)> {
        let (c, s) = (self.turn.cos(), self.turn.sin());
        (0..n)
            .map(|k| {
                let t = k as f64 / n as f64 * std::f64::consts::TAU;
                let (u, v) = (self.radius * t.cos(), self.minor * t.sin());
                (self.x + u * c - v * s, self.y + u * s + v * c)
            })
            .collect()
    }

    /// The crown's area in square pixels.
    pub fn area(&self) -> f64 {
        std::f64::consts::PI * self.radius * self.minor
    }
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

/// The shrubs of cell (`cx`, `cy`): none, one, or a touching pair.
fn shrubs_in_cell(spec: &SceneSpec, cx: usize, cy: usize) -> Vec<Shrub> {
    let (a, b) = (cx as u64, cy as u64);
    if unit(spec.seed, a, b, 0) >= spec.density {
        return Vec::new();
    }
    let (r0, r1) = spec.shapes.radii();
    let radius = r0 + (r1 - r0) * unit(spec.seed, a, b, 1);
    // Keep crowns apart from the cell edge so neighbours rarely touch.
    let margin = radius + 2.0;
    let span = CELL as f64 - 2.0 * margin;
    let x = (cx * CELL) as f64 + margin + span * unit(spec.seed, a, b, 2);
    let y = (cy * CELL) as f64 + margin + span * unit(spec.seed, a, b, 3);
    let inside = |s: &Shrub| s.x < spec.width as f64 && s.y < spec.height as f64;
    if spec.shapes == Shapes::Round {
        return Some(Shrub::round(x, y, radius)).into_iter().filter(inside).collect();
    }
    let minor = radius * (0.45 + 0.35 * unit(spec.seed, a, b, 4));
    let turn = std::f64::consts::PI * unit(spec.seed, a, b, 5);
    let one = Shrub { x, y, radius, minor, turn, touching: false };
    if unit(spec.seed, a, b, 6) >= 1.0 / 3.0 {
        return vec![one].into_iter().filter(inside).collect();
    }
    // A pair: two smaller crowns side by side across their minor axes,
    // overlapping by a tenth of their width, centred in the cell.
    let (r, m) = (radius * 0.75, minor * 0.75);
    let (dx, dy) = (-turn.sin() * m * 0.9, turn.cos() * m * 0.9);
    let centre = ((cx * CELL) as f64 + CELL as f64 / 2.0, (cy * CELL) as f64 + CELL as f64 / 2.0);
    let second = 0.8 + 0.2 * unit(spec.seed, a, b, 8);
    vec![
        Shrub { x: centre.0 - dx, y: centre.1 - dy, radius: r, minor: m, turn, touching: true },
        Shrub {
            x: centre.0 + dx * second,
            y: centre.1 + dy * second,
            radius: r * second,
            minor: m * second,
            turn,
            touching: true,
        },
    ]
    .into_iter()
    .filter(inside)
    .collect()
}

/// Every shrub of the scene, row of cells by row of cells.
pub fn shrubs(spec: &SceneSpec) -> Vec<Shrub> {
    let (cols, rows) = (spec.width.div_ceil(CELL), spec.height.div_ceil(CELL));
    (0..rows).flat_map(|cy| (0..cols).flat_map(move |cx| shrubs_in_cell(spec, cx, cy))).collect()
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
    let reach = spec.shapes.radii().1.ceil() as usize + 2;
    let cx0 = w.x.saturating_sub(reach) / CELL;
    let cy0 = w.y.saturating_sub(reach) / CELL;
    let cx1 = ((w.x_end() + reach) / CELL).min(spec.width.div_ceil(CELL) - 1);
    let cy1 = ((w.y_end() + reach) / CELL).min(spec.height.div_ceil(CELL) - 1);
    for cy in cy0..=cy1 {
        for cx in cx0..=cx1 {
            for s in shrubs_in_cell(spec, cx, cy) {
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
    let (c, sn) = (s.turn.cos(), s.turn.sin());
    let stretch = s.radius / s.minor;
    for y in y0..y1 {
        for x in x0..x1 {
            let (dx, dy) = (x as f64 + 0.5 - s.x, y as f64 + 0.5 - s.y);
            // Along the major axis and across it, the minor axis stretched
            // to the major's length: a round crown's distance from its centre.
            let (u, v) = (dx * c + dy * sn, -dx * sn + dy * c);
            let d = (u.powi(2) + (v * stretch).powi(2)).sqrt();
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

/// How [`write_labels`] labels each shrub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelShape {
    /// Its centre, a point, with its radius in metres (`radius_m`).
    Centre,
    /// Its crown, a polygon of 48 corners, with its area (`area_m2`).
    Crown,
    /// The box a user would draw round its crown.
    Box,
}

/// Writes `shrubs` of the scene `spec` as a GeoJSON file of labels in the
/// scene's CRS.
pub fn write_labels(path: &Path, spec: &SceneSpec, shrubs: &[Shrub], shape: LabelShape) -> std::io::Result<()> {
    use std::io::Write;
    let to_map = |(x, y): (f64, f64)| (spec.origin.0 + x * spec.gsd_m, spec.origin.1 - y * spec.gsd_m);
    let ring = |corners: Vec<(f64, f64)>| {
        let mut c: Vec<String> = corners.into_iter().map(to_map).map(|(x, y)| format!("[{x:.3},{y:.3}]")).collect();
        c.push(c[0].clone());
        format!("{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}", c.join(","))
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let epsg = spec.epsg;
    writeln!(f, "{{\"type\":\"FeatureCollection\",\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:EPSG::{epsg}\"}}}},\"features\":[")?;
    for (i, s) in shrubs.iter().enumerate() {
        let (properties, geometry) = match shape {
            LabelShape::Centre => {
                let (x, y) = to_map((s.x, s.y));
                (
                    format!("\"radius_m\":{:.3}", s.radius * spec.gsd_m),
                    format!("{{\"type\":\"Point\",\"coordinates\":[{x:.3},{y:.3}]}}"),
                )
            }
            LabelShape::Crown => (format!("\"area_m2\":{:.3}", s.area() * spec.gsd_m * spec.gsd_m), ring(s.ring(48))),
            LabelShape::Box => {
                let edge = s.ring(360);
                let (x0, x1) = edge.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
                let (y0, y1) = edge.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
                (String::new(), ring(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))
            }
        };
        let sep = if i + 1 < shrubs.len() { "," } else { "" };
        writeln!(f, "{{\"type\":\"Feature\",\"properties\":{{{properties}}},\"geometry\":{geometry}}}{sep}")?;
    }
    writeln!(f, "]}}")?;
    f.flush()
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
