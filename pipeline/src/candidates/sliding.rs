//! Sliding windows of a given size and stride over the whole raster; each
//! tile takes the windows whose centre its core owns.

use super::Candidate;
use detection::coords::{PixelPoint, PixelWindow};

pub use detection::options::EdgePolicy;

/// Left (or top) positions of windows along one axis of `len` pixels.
pub fn positions(len: usize, size: usize, stride: usize, edge: EdgePolicy) -> Vec<usize> {
    assert!(stride > 0 && size > 0);
    if len < size {
        return if edge == EdgePolicy::Cover { vec![0] } else { vec![] };
    }
    let last = len - size;
    let mut p: Vec<usize> = match edge {
        EdgePolicy::Guirado2017 => (0..last.saturating_sub(stride)).step_by(stride).collect(),
        _ => (0..=last).step_by(stride).collect(),
    };
    if edge == EdgePolicy::Cover && p.last() != Some(&last) {
        p.push(last);
    }
    p
}

/// The sliding-window grid of a raster.
#[derive(Debug, Clone, PartialEq)]
pub struct SlidingGrid {
    xs: Vec<usize>,
    ys: Vec<usize>,
    size: usize,
}

impl SlidingGrid {
    /// Windows of `size` pixels every `stride` pixels over `width` x `height`.
    pub fn new(width: usize, height: usize, size: usize, stride: usize, edge: EdgePolicy) -> Self {
        SlidingGrid { xs: positions(width, size, stride, edge), ys: positions(height, size, stride, edge), size }
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        self.xs.len() * self.ys.len()
    }

    /// Whether there are none (a raster smaller than one window, not covered).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every window, row by row.
    pub fn windows(&self) -> impl Iterator<Item = PixelWindow> + '_ {
        self.ys.iter().flat_map(move |&y| self.xs.iter().map(move |&x| PixelWindow::new(x, y, self.size, self.size)))
    }

    /// The windows whose centre lies in `core`, as candidates.
    pub fn in_core(&self, core: PixelWindow) -> Vec<Candidate> {
        let half = self.size as f64 / 2.0;
        let pick = |ps: &[usize], lo: usize, hi: usize| -> Vec<usize> {
            ps.iter().copied().filter(|&p| p as f64 + half >= lo as f64 && (p as f64 + half) < hi as f64).collect()
        };
        let xs = pick(&self.xs, core.x, core.x_end());
        let ys = pick(&self.ys, core.y, core.y_end());
        ys.iter()
            .flat_map(|&y| {
                xs.iter().map(move |&x| Candidate {
                    centre: PixelPoint { x: x as f64 + half, y: y as f64 + half },
                    footprint: PixelWindow::new(x, y, self.size, self.size),
                    outline: None,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;

    #[test]
    fn guirado_grid_on_the_ziziphus_scene_has_9506_windows() {
        let g = SlidingGrid::new(1945, 1924, 64, 19, EdgePolicy::Guirado2017);
        assert_eq!((g.xs.len(), g.ys.len()), (98, 97));
        assert_eq!(g.len(), 9506);
        // Full coverage adds the last column and row, flush with the edges.
        let c = SlidingGrid::new(1945, 1924, 64, 19, EdgePolicy::Cover);
        // 1881 = 99 x 19: along x the strides land on the edge already.
        assert_eq!((c.xs.len(), c.ys.len()), (100, 99));
        assert_eq!(*c.xs.last().unwrap(), 1945 - 64);
        assert_eq!(SlidingGrid::new(1945, 1924, 64, 19, EdgePolicy::Fit).len(), 100 * 98);
    }

    #[test]
    fn small_rasters() {
        assert_eq!(positions(10, 64, 19, EdgePolicy::Cover), [0]);
        assert!(positions(10, 64, 19, EdgePolicy::Fit).is_empty());
        assert_eq!(positions(64, 64, 19, EdgePolicy::Fit), [0]);
        assert!(positions(64, 64, 19, EdgePolicy::Guirado2017).is_empty());
        assert_eq!(positions(100, 64, 19, EdgePolicy::Cover), [0, 19, 36]);
    }

    #[test]
    fn tiles_share_out_every_window_once() {
        let g = SlidingGrid::new(1945, 1924, 64, 19, EdgePolicy::Guirado2017);
        let tiles = Grid::new(1945, 1924, 500, 64).unwrap();
        let mut all: Vec<PixelWindow> = tiles.tiles().flat_map(|t| g.in_core(t.core)).map(|c| c.footprint).collect();
        assert_eq!(all.len(), 9506);
        all.sort_by_key(|w| (w.y, w.x));
        all.dedup();
        assert_eq!(all.len(), 9506);
        // Each window lies inside the window its tile reads when the overlap is a window's size.
        for t in tiles.tiles() {
            for c in g.in_core(t.core) {
                assert!(t.window.contains_window(&c.footprint));
            }
        }
    }
}
