//! A tiling grid: tiles whose cores partition the raster (every pixel in
//! exactly one core), each read with an overlap margin so that objects cut by
//! a core's edge are seen whole by the tile that owns their centre.

use crate::error::{Error, Result};
use detection::coords::{PixelPoint, PixelWindow};

/// Square tiles of `tile` pixels over a `width` x `height` raster, each read
/// with `overlap` extra pixels on every side (clipped at the raster's edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    width: usize,
    height: usize,
    tile: usize,
    overlap: usize,
}

/// One tile: the window to read and the core it owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Column of the tile in the grid.
    pub col: usize,
    /// Row of the tile in the grid.
    pub row: usize,
    /// The pixels this tile owns; cores of all tiles partition the raster.
    pub core: PixelWindow,
    /// The core grown by the overlap and clipped to the raster: what to read.
    pub window: PixelWindow,
}

impl Grid {
    /// A grid of `tile`-pixel tiles with `overlap` pixels of margin.
    pub fn new(width: usize, height: usize, tile: usize, overlap: usize) -> Result<Grid> {
        if tile == 0 {
            return Err(Error::Grid("the tile size must be at least 1 pixel".into()));
        }
        if width == 0 || height == 0 {
            return Err(Error::Grid(format!("the raster is empty ({width}x{height})")));
        }
        Ok(Grid { width, height, tile, overlap })
    }

    /// Tiles across and down.
    pub fn shape(&self) -> (usize, usize) {
        (self.width.div_ceil(self.tile), self.height.div_ceil(self.tile))
    }

    /// Number of tiles.
    pub fn len(&self) -> usize {
        let (c, r) = self.shape();
        c * r
    }

    /// Always false: a grid has at least one tile.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The tile at grid column `col`, row `row`.
    pub fn tile(&self, col: usize, row: usize) -> Tile {
        let core = PixelWindow::new(col * self.tile, row * self.tile, self.tile, self.tile)
            .clip_to(self.width, self.height)
            .expect("tile inside the grid");
        let x0 = core.x.saturating_sub(self.overlap);
        let y0 = core.y.saturating_sub(self.overlap);
        let x1 = (core.x_end() + self.overlap).min(self.width);
        let y1 = (core.y_end() + self.overlap).min(self.height);
        Tile { col, row, core, window: PixelWindow::new(x0, y0, x1 - x0, y1 - y0) }
    }

    /// Tiles in row-major order, made as they are consumed.
    pub fn tiles(&self) -> impl ExactSizeIterator<Item = Tile> + '_ {
        let (cols, _) = self.shape();
        (0..self.len()).map(move |i| self.tile(i % cols, i / cols))
    }

    /// The tile whose core owns a (sub-pixel) point, if it is on the raster.
    pub fn owner(&self, p: PixelPoint) -> Option<Tile> {
        let inside = p.x >= 0.0 && p.y >= 0.0 && p.x < self.width as f64 && p.y < self.height as f64;
        inside.then(|| self.tile(p.x as usize / self.tile, p.y as usize / self.tile))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coverage(g: &Grid, w: usize, h: usize) -> Vec<u8> {
        let mut seen = vec![0u8; w * h];
        for t in g.tiles() {
            assert!(t.window.contains_window(&t.core));
            assert!(t.window.x_end() <= w && t.window.y_end() <= h);
            for y in t.core.y..t.core.y_end() {
                for x in t.core.x..t.core.x_end() {
                    seen[y * w + x] += 1;
                }
            }
        }
        seen
    }

    #[test]
    fn cores_cover_every_pixel_exactly_once() {
        for (w, h, tile, overlap) in
            [(100, 70, 32, 8), (64, 64, 64, 0), (1, 1, 16, 4), (257, 129, 128, 300), (1945, 1924, 512, 32)]
        {
            let g = Grid::new(w, h, tile, overlap).unwrap();
            assert!(coverage(&g, w, h).iter().all(|&c| c == 1), "{w}x{h} tile {tile}");
            assert_eq!(g.tiles().len(), g.len());
        }
    }

    #[test]
    fn edge_tiles_are_clipped_and_overlap_grows_windows() {
        let g = Grid::new(100, 70, 32, 8).unwrap();
        assert_eq!(g.shape(), (4, 3));
        let last = g.tile(3, 2);
        assert_eq!(last.core, PixelWindow::new(96, 64, 4, 6));
        assert_eq!(last.window, PixelWindow::new(88, 56, 12, 14));
        assert_eq!(g.tile(1, 0).window, PixelWindow::new(24, 0, 48, 40));
        assert_eq!(g.tile(1, 1).window, PixelWindow::new(24, 24, 48, 46));
    }

    #[test]
    fn every_point_has_one_owner() {
        let g = Grid::new(100, 70, 32, 8).unwrap();
        let t = g.owner(PixelPoint { x: 64.0, y: 31.99 }).unwrap();
        assert_eq!((t.col, t.row), (2, 0));
        assert!(g.owner(PixelPoint { x: 100.0, y: 0.0 }).is_none());
        assert!(Grid::new(10, 10, 0, 0).is_err());
    }
}
