//! What networks learn from, as plain values: patches with their classes
//! (patch classifiers) and chips of imagery with the object centres in
//! each (heatmap networks). The pipeline cuts them from rasters; the
//! models crate turns them into tensors.

use crate::coords::PixelPoint;

/// Patches and their classes (1: object, 0: background).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patches {
    /// Bands per patch.
    pub bands: usize,
    /// Patch side.
    pub patch: usize,
    /// Raw values, channels first, patch after patch.
    pub data: Vec<f32>,
    /// One class per patch.
    pub labels: Vec<u8>,
}

impl Patches {
    /// Number of patches.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Appends another set of the same shape.
    pub fn extend(&mut self, other: Patches) {
        if self.labels.is_empty() {
            self.bands = other.bands;
            self.patch = other.patch;
        }
        self.data.extend(other.data);
        self.labels.extend(other.labels);
    }
}

/// Square chips of imagery and the object centres in each, for heatmap
/// networks: what a network scoring every pixel learns from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chips {
    /// Bands per chip.
    pub bands: usize,
    /// Chip side, pixels.
    pub size: usize,
    /// Raw values, channels first, chip after chip (0 outside the raster).
    pub data: Vec<f32>,
    /// 1 where a pixel holds data, 0 for nodata and beyond the raster.
    pub valid: Vec<u8>,
    /// Object centres of each chip, in its pixels.
    pub centres: Vec<Vec<PixelPoint>>,
}

impl Chips {
    /// Number of chips.
    pub fn len(&self) -> usize {
        self.centres.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.centres.is_empty()
    }

    /// Appends another set of the same shape.
    pub fn extend(&mut self, other: Chips) {
        if self.centres.is_empty() {
            self.bands = other.bands;
            self.size = other.size;
        }
        self.data.extend(other.data);
        self.valid.extend(other.valid);
        self.centres.extend(other.centres);
    }
}
