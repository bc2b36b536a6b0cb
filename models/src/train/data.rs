//! What training learns from, on the CPU: patches and classes, chips with
//! their objects and validity, and their band statistics.

use crate::targets::gaussian_targets;
use detection::examples::ChipObject;
use tch::{Kind, Tensor};

/// Patches and classes as tensors on the CPU: `x` is N x C x P x P raw
/// values, `y` N class indices.
pub struct Data {
    /// Patches.
    pub x: Tensor,
    /// Classes.
    pub y: Tensor,
}

impl Data {
    /// From raw values, channels first, and one class per patch.
    pub fn new(values: &[f32], classes: &[u8], bands: usize, patch: usize) -> Data {
        let n = classes.len() as i64;
        let (c, p) = (bands as i64, patch as i64);
        Data { x: Tensor::from_slice(values).view([n, c, p, p]), y: Tensor::from_slice(classes).to_kind(Kind::Int64) }
    }

    /// From patches as the pipeline cuts them.
    pub fn from_patches(p: &detection::examples::Patches, bands: usize, patch: usize) -> Data {
        Data::new(&p.data, &p.labels, bands, patch)
    }

    /// Number of patches.
    pub fn len(&self) -> usize {
        self.y.size()[0] as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Chips of imagery for a heatmap network, on the CPU: `x` is N x C x S x S
/// raw values, `valid` N x 1 x S x S (1 where there is data), `foreground`
/// N x 1 x S x S (where the labels' objects lie: 0, 1, or 255 unknown), and
/// the objects of each chip in its pixels.
pub struct Chips {
    /// Imagery.
    pub x: Tensor,
    /// Where there is data.
    pub valid: Tensor,
    /// Where the labels' objects lie (see `pipeline::foreground`).
    pub foreground: Tensor,
    /// Objects per chip, in its pixels.
    pub objects: Vec<Vec<ChipObject>>,
}

impl Chips {
    /// Indices of the chips with anything to learn (a valid pixel).
    pub fn with_data(&self) -> Vec<i64> {
        let any = self.valid.sum_dim_intlist([1i64, 2, 3].as_slice(), false, Kind::Float).gt(0.0);
        (0..self.len() as i64).filter(|&i| any.int64_value(&[i]) != 0).collect()
    }

    /// The chips at `indices`, in that order.
    pub fn select(&self, indices: &[i64]) -> Chips {
        let idx = Tensor::from_slice(indices);
        Chips {
            x: self.x.index_select(0, &idx),
            valid: self.valid.index_select(0, &idx),
            foreground: self.foreground.index_select(0, &idx),
            objects: indices.iter().map(|&i| self.objects[i as usize].clone()).collect(),
        }
    }

    /// From raw values (channels first, chip after chip), a validity mask
    /// per pixel, and the objects of each chip; no pixel's class known
    /// beyond them (see [`Chips::with_foreground`]).
    pub fn new(values: &[f32], valid: &[u8], objects: Vec<Vec<ChipObject>>, bands: usize, size: usize) -> Chips {
        let (n, c, s) = (objects.len() as i64, bands as i64, size as i64);
        Chips {
            x: Tensor::from_slice(values).view([n, c, s, s]),
            valid: Tensor::from_slice(valid).to_kind(Kind::Float).view([n, 1, s, s]),
            foreground: Tensor::full([n, 1, s, s], 255.0, (Kind::Float, tch::Device::Cpu)),
            objects,
        }
    }

    /// The same chips with where their objects lie, pixel by pixel (0, 1 or
    /// 255 unknown, chip after chip).
    pub fn with_foreground(mut self, foreground: &[u8]) -> Chips {
        if !foreground.is_empty() {
            self.foreground = Tensor::from_slice(foreground).to_kind(Kind::Float).view_as(&self.valid);
        }
        self
    }

    /// From chips as the pipeline cuts them.
    pub fn from_chips(c: &detection::examples::Chips, bands: usize, size: usize) -> Chips {
        Chips::new(&c.data, &c.valid, c.objects.clone(), bands, size).with_foreground(&c.foreground)
    }

    /// Number of chips.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Whether any object has a labelled extent (a box or polygon), for an
    /// extent head to learn.
    pub fn has_extents(&self) -> bool {
        self.objects.iter().flatten().any(|o| o.radii.is_some())
    }

    /// Side of a chip.
    pub fn size(&self) -> usize {
        self.x.size().last().copied().unwrap_or(0) as usize
    }

    /// The Gaussian targets (N x 1 x S x S).
    pub(super) fn targets(&self, sigma: f64) -> Tensor {
        let s = self.size();
        let t = gaussian_targets(&self.objects, s, sigma as f32);
        Tensor::from_slice(&t).view([self.len() as i64, 1, s as i64, s as i64])
    }
}

/// Per-band mean and standard deviation of raw values (N x C x H x W), for
/// the model file; with `valid` (N x 1 x H x W), of valid pixels only.
pub fn band_stats(x: &Tensor, valid: Option<&Tensor>) -> Result<(Vec<f32>, Vec<f32>), tch::TchError> {
    let dims = [0i64, 2, 3];
    let (mean, std) = match valid {
        None => (x.mean_dim(dims.as_slice(), false, Kind::Float), x.std_dim(dims.as_slice(), true, false)),
        Some(v) => {
            let n = v.sum(Kind::Float).clamp_min(2.0);
            let mean = (x * v).sum_dim_intlist(dims.as_slice(), false, Kind::Float) / &n;
            let dev = (x - mean.view([1, -1, 1, 1])).square() * v;
            let var = dev.sum_dim_intlist(dims.as_slice(), false, Kind::Float) / (n - 1.0);
            (mean, var.sqrt())
        }
    };
    let std = std.clamp_min(1e-3);
    Ok((Vec::<f32>::try_from(mean)?, Vec::<f32>::try_from(std)?))
}
