//! Object mask to candidates: a morphological opening removes specks, then
//! each 8-connected region of the mask (the area inside one outer contour) is
//! a blob, kept when its area in square metres is plausible and the tile's
//! core owns its centroid. Its outline is the blob seen from its centroid:
//! along each ray, the last pixel of the blob before the first that is not.

use super::Candidate;
use detection::coords::{PixelPoint, PixelWindow};
use detection::outline::{Outline, RAYS};
use image::{GrayImage, ImageBuffer, Luma};
use imageproc::distance_transform::Norm;
use imageproc::region_labelling::{connected_components, Connectivity};

/// Blob filters, in ground units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlobFilter {
    /// Radius of the opening, in pixels (0: none).
    pub open_radius: u8,
    /// Smallest blob kept, in m².
    pub min_area_m2: f64,
    /// Largest blob kept, in m².
    pub max_area_m2: f64,
    /// Area of one pixel, in m².
    pub pixel_area_m2: f64,
}

/// Sums are of absolute raster columns and rows, in integers, so a blob's
/// centroid is bit-for-bit the same whichever tile's window it was found in.
#[derive(Clone, Copy)]
struct Blob {
    label: u32,
    count: u64,
    sum_x: u64,
    sum_y: u64,
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

/// Blobs of `mask` (read from `window`) as candidates in raster pixels.
/// A blob is kept when its centroid lies in `core`, its area passes the
/// filter, and it does not touch an edge of the window that is not an edge
/// of the raster (such a blob is cut; the tile that owns it sees it whole).
pub fn blobs(
    mask: &GrayImage,
    window: PixelWindow,
    core: PixelWindow,
    raster: (usize, usize),
    f: &BlobFilter,
) -> Vec<Candidate> {
    let cleaned =
        if f.open_radius > 0 { imageproc::morphology::open(mask, Norm::LInf, f.open_radius) } else { mask.clone() };
    let labels = connected_components(&cleaned, Connectivity::Eight, Luma([0u8]));
    let (w, h) = (window.width, window.height);
    let mut blobs: Vec<Option<Blob>> = Vec::new();
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l.0[0] as usize;
        if l == 0 {
            continue;
        }
        if blobs.len() <= l {
            blobs.resize(l + 1, None);
        }
        let (x, y) = (x as usize, y as usize);
        let b =
            blobs[l].get_or_insert(Blob { label: l as u32, count: 0, sum_x: 0, sum_y: 0, x0: x, y0: y, x1: x, y1: y });
        b.count += 1;
        b.sum_x += (window.x + x) as u64;
        b.sum_y += (window.y + y) as u64;
        b.x0 = b.x0.min(x);
        b.y0 = b.y0.min(y);
        b.x1 = b.x1.max(x);
        b.y1 = b.y1.max(y);
    }
    let cut_left = window.x > 0;
    let cut_top = window.y > 0;
    let cut_right = window.x_end() < raster.0;
    let cut_bottom = window.y_end() < raster.1;
    blobs
        .into_iter()
        .flatten()
        .filter(|b| {
            let area = b.count as f64 * f.pixel_area_m2;
            let touches = (cut_left && b.x0 == 0)
                || (cut_top && b.y0 == 0)
                || (cut_right && b.x1 == w - 1)
                || (cut_bottom && b.y1 == h - 1);
            area >= f.min_area_m2 && area <= f.max_area_m2 && !touches
        })
        .filter_map(|b| {
            let n = b.count as f64;
            let centre = PixelPoint { x: b.sum_x as f64 / n + 0.5, y: b.sum_y as f64 / n + 0.5 };
            let footprint = PixelWindow::new(window.x + b.x0, window.y + b.y0, b.x1 - b.x0 + 1, b.y1 - b.y0 + 1);
            core.contains_point(centre).then(|| Candidate {
                centre,
                footprint,
                outline: Some(blob_outline(&labels, b.label, window, centre)),
            })
        })
        .collect()
}

/// The outline of the blob labelled `label` in `labels` (read from
/// `window`) from `centre` (raster pixels): each ray ends halfway between
/// its last sample inside the blob and its first outside.
fn blob_outline(
    labels: &ImageBuffer<Luma<u32>, Vec<u32>>,
    label: u32,
    window: PixelWindow,
    centre: PixelPoint,
) -> Outline {
    let step = 0.25;
    let (cx, cy) = (centre.x - window.x as f64, centre.y - window.y as f64);
    let inside = |x: f64, y: f64| {
        x >= 0.0
            && y >= 0.0
            && (x as u32) < labels.width()
            && (y as u32) < labels.height()
            && labels.get_pixel(x as u32, y as u32).0[0] == label
    };
    let mut outline = Outline::circle(centre, 0.5);
    for (k, radius) in outline.radii.iter_mut().enumerate() {
        let a = std::f64::consts::TAU * k as f64 / RAYS as f64;
        let mut r = 0.0;
        while inside(cx + (r + step) * a.cos(), cy + (r + step) * a.sin()) {
            r += step;
        }
        *radius = (r + step / 2.0).max(0.5) as f32;
    }
    outline
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square_mask(w: u32, h: u32, squares: &[(u32, u32, u32)]) -> GrayImage {
        let mut m = GrayImage::new(w, h);
        for &(x0, y0, s) in squares {
            for y in y0..y0 + s {
                for x in x0..x0 + s {
                    m.put_pixel(x, y, Luma([255]));
                }
            }
        }
        m
    }

    const ANY: BlobFilter = BlobFilter { open_radius: 0, min_area_m2: 0.0, max_area_m2: f64::MAX, pixel_area_m2: 1.0 };

    #[test]
    fn each_blob_gives_its_centroid_and_box() {
        let m = square_mask(40, 30, &[(2, 3, 4), (20, 10, 6)]);
        let w = PixelWindow::new(100, 200, 40, 30);
        let c = blobs(&m, w, w, (1000, 1000), &ANY);
        // Window edges here are inside a large raster, but no blob touches them.
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].centre, PixelPoint { x: 104.0, y: 205.0 });
        assert_eq!(c[0].footprint, PixelWindow::new(102, 203, 4, 4));
        assert_eq!(c[1].centre, PixelPoint { x: 123.0, y: 213.0 });
    }

    #[test]
    fn a_blob_is_outlined_at_its_own_size() {
        // A disc of radius 10 px: its outline holds the disc's area, within 10%.
        let mut m = GrayImage::new(40, 40);
        for (x, y, p) in m.enumerate_pixels_mut() {
            if (x as f64 + 0.5 - 20.0).hypot(y as f64 + 0.5 - 20.0) <= 10.0 {
                *p = Luma([255]);
            }
        }
        let w = PixelWindow::new(0, 0, 40, 40);
        let c = blobs(&m, w, w, (40, 40), &ANY);
        let o = c[0].outline.expect("blobs are outlined");
        let disc = std::f64::consts::PI * 100.0;
        assert!((o.area_px() / disc - 1.0).abs() < 0.1, "{} px² for a disc of {disc:.0}", o.area_px());
        let b = o.bbox();
        assert!((b.x0 - 10.0).abs() < 0.5 && (b.x1 - 30.0).abs() < 0.5, "{b:?}");
    }

    #[test]
    fn area_filter_and_opening_drop_specks() {
        let m = square_mask(40, 30, &[(2, 3, 1), (10, 10, 2), (20, 10, 6)]);
        let w = PixelWindow::new(0, 0, 40, 30);
        let f = BlobFilter { min_area_m2: 2.0, max_area_m2: 20.0, pixel_area_m2: 0.5, ..ANY };
        let c = blobs(&m, w, w, (40, 30), &f);
        // 1 px = 0.5 m² (too small), 4 px = 2 m² (kept), 36 px = 18 m² (kept).
        assert_eq!(c.len(), 2);
        let opened = blobs(&m, w, w, (40, 30), &BlobFilter { open_radius: 1, ..ANY });
        // An opening of radius 1 (3x3) removes the 1 px and 2 px squares.
        assert_eq!(opened.len(), 1);
    }

    #[test]
    fn blobs_cut_by_an_inner_window_edge_are_left_to_their_owner() {
        let m = square_mask(40, 30, &[(0, 10, 5), (35, 10, 5)]);
        let w = PixelWindow::new(50, 0, 40, 30);
        // Left edge at x=50 is inside the raster: the blob touching it is cut.
        // Right edge at x=90 is the raster's edge: that blob is whole.
        let c = blobs(&m, w, w, (90, 30), &ANY);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].centre.x, 50.0 + 37.5);
        // A core that does not own the centroid drops it.
        let core = PixelWindow::new(50, 0, 30, 30);
        assert!(blobs(&m, w, core, (90, 30), &ANY).is_empty());
    }
}
