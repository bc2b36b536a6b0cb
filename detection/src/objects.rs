//! Objects in a raster's pixel grid: found (a scored detection), labelled
//! (a label moved to the raster's pixels), or a scored point as a network
//! reports it before it becomes a detection.

use crate::coords::{PixelBox, PixelPoint};
use crate::outline::Outline;
use crate::ring::Ring;
use std::cmp::Ordering;

/// A scored detection in a raster's pixel grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The object's centre.
    pub centre: PixelPoint,
    /// Its extent.
    pub footprint: PixelBox,
    /// The classifier's score for the object class.
    pub score: f32,
    /// Its outline, when one was traced or measured (`footprint` is then
    /// its box).
    pub outline: Option<Ring>,
    /// How unsure the network was of it: the standard deviation of its
    /// score over the 8 flips and rotations of the imagery, when detect
    /// scored all 8 (`--tta`); `None` otherwise.
    pub uncertainty: Option<f32>,
}

impl Detection {
    /// A detection at a point, with no extent (a box of zero size).
    pub fn at(centre: PixelPoint, score: f32) -> Detection {
        let PixelPoint { x, y } = centre;
        Detection {
            centre,
            footprint: PixelBox { x0: x, y0: y, x1: x, y1: y },
            score,
            outline: None,
            uncertainty: None,
        }
    }
}

/// A labelled object in a raster's pixel grid.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelLabel {
    /// Centre.
    pub centre: PixelPoint,
    /// Extent, for boxes and polygons.
    pub bbox: Option<PixelBox>,
    /// Shape, for boxes and polygons: the label as an outline (see
    /// [`Outline::of_box`], [`Outline::of_polygon`]).
    pub outline: Option<Outline>,
    /// A polygon label's own ring (open), for measuring an outline against
    /// it exactly; `None` for points and boxes.
    pub polygon: Option<std::sync::Arc<[PixelPoint]>>,
}

/// A position a network scored, in the pixels of the tile or chip it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPoint {
    /// Where (a window's centre, or a pixel's centre).
    pub at: PixelPoint,
    /// The score of the object class, in [0, 1].
    pub score: f32,
    /// The object's outline's radii (see [`Outline`]) in the same pixels,
    /// from a network that learned extents (an extent head); `None` from
    /// others.
    pub radii: Option<[f32; crate::outline::RAYS]>,
    /// The score's standard deviation over the flips and rotations it was
    /// averaged over (see [`Detection::uncertainty`]).
    pub uncertainty: Option<f32>,
}

/// Highest score first; ties by position, so the order (and so the merged
/// output) does not depend on the order tiles finished in.
pub fn rank(a: &Detection, b: &Detection) -> Ordering {
    b.score.total_cmp(&a.score).then(a.centre.y.total_cmp(&b.centre.y)).then(a.centre.x.total_cmp(&b.centre.x))
}
