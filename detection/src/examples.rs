//! What networks learn from, as plain values: patches with their classes
//! (patch classifiers) and chips of imagery with the object centres in
//! each (heatmap networks). The pipeline cuts them from rasters; the
//! models crate turns them into tensors.

use crate::coords::PixelPoint;
use crate::outline::RAYS;

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

/// An object in a chip: its centre and, where its label had an extent (a
/// box or a polygon), its outline's radii (see [`crate::outline::Outline`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChipObject {
    /// Centre, in the chip's pixels.
    pub centre: PixelPoint,
    /// The label's outline's radii in the chip's pixels, when it has one.
    pub radii: Option<[f32; RAYS]>,
}

/// Square chips of imagery and the objects in each, for heatmap networks:
/// what a network scoring every pixel learns from.
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
    /// Where the labels' objects lie, pixel by pixel: 0 background, 1 an
    /// object, 255 unknown (a box's corners, around a point label).
    pub foreground: Vec<u8>,
    /// The objects of each chip, in its pixels.
    pub objects: Vec<Vec<ChipObject>>,
}

impl Chips {
    /// Number of chips.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Appends another set of the same shape.
    pub fn extend(&mut self, other: Chips) {
        if self.objects.is_empty() {
            self.bands = other.bands;
            self.size = other.size;
        }
        self.data.extend(other.data);
        self.valid.extend(other.valid);
        self.foreground.extend(other.foreground);
        self.objects.extend(other.objects);
    }
}
