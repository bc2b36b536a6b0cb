//! Where to look: candidate patches from preprocessing (Guirado et al. 2017:
//! panchromatic, threshold, clean-up, connected regions) or from a sliding
//! window. Both work on one tile at a time and keep only what the tile's
//! core owns, so tiles can be processed in any order, in parallel.

pub mod components;
pub(crate) mod modes;
pub mod panchromatic;
pub mod sliding;
pub mod threshold;

use detection::coords::{PixelPoint, PixelWindow};
use detection::outline::Outline;

/// A place worth classifying, in the pixel grid of the raster being read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Where the patch is centred.
    pub centre: PixelPoint,
    /// The object's own extent: the blob's box, or the window.
    pub footprint: PixelWindow,
    /// A blob's outline, seen from its centroid (none for windows).
    pub outline: Option<Outline>,
}
