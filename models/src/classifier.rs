//! Batched inference: raw pixel patches in, object scores out, on the CPU or
//! a CUDA device (with mixed precision there).

use crate::device::{resolve, DeviceChoice, DeviceError};
use crate::extent::{change, Change};
use crate::folded::FoldedHeatmap;
use crate::forward::{heatmap_scores_and_radii, pad_to_stride, scores_and_radii};
use crate::model_file::{Arch, Model, ModelError, Net};
use crate::normalise::Normalisation;
use crate::peaks::local_maxima;
use crate::peaks::PEAK_FLOOR;
use crate::resnet::Head;
use crate::resnet::ResNetHead;
use detection::classify::{ClassifyError, DenseScores, ObjectMaps};
use detection::coords::PixelPoint;
use detection::objects::ScoredPoint;
use detection::outline::RAYS;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// A loaded model ready to score patches.
pub struct Classifier {
    model: Model,
    device: Device,
    norm: Normalisation,
    mixed_precision: bool,
    tta: bool,
    channels_last: bool,
    /// A heatmap ResNet's inference form; `None` for other networks.
    folded: Option<FoldedHeatmap>,
}

/// Why a classifier could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    /// The model file.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The device.
    #[error(transparent)]
    Device(#[from] DeviceError),
}

impl Classifier {
    /// Loads a model file onto the chosen device.
    pub fn load(path: &Path, choice: DeviceChoice) -> Result<Classifier, ClassifierError> {
        let device = resolve(choice)?;
        let model = Model::load(path, device)?;
        Ok(Self::from_model(model))
    }

    /// Wraps a model already in memory (for validation during training).
    pub fn from_model(model: Model) -> Classifier {
        let device = model.vs.device();
        let norm = Normalisation::new(&model.meta, device);
        let tta = model.meta.tta;
        let channels_last = device == Device::Cpu && model.meta.arch.prefers_channels_last();
        crate::allocator::keep_freed_memory();
        // Networks of another shape than their architecture says fail to
        // fold and keep running as trained.
        let folded = fold(&model, channels_last, Kind::Float);
        Classifier { mixed_precision: device.is_cuda(), model, device, norm, tta, channels_last, folded }
    }

    /// Normalised network input from raw values (N x C x H x W), laid out
    /// as the network runs fastest: same shape, channels-last strides where
    /// [`Arch::prefers_channels_last`](crate::Arch::prefers_channels_last).
    fn input(&self, raw: &[f32], n: usize, c: usize, height: usize, width: usize) -> Tensor {
        let (n64, c64, h64, w64) = (n as i64, c as i64, height as i64, width as i64);
        if self.channels_last && self.device == Device::Cpu {
            // Normalised and interleaved in one pass; libtorch picks its
            // channels-last kernels from the strides.
            let x = self.norm.interleaved(raw, height, width);
            return Tensor::from_slice(&x).view([n64, h64, w64, c64]).permute([0, 3, 1, 2]);
        }
        let x = self.norm.apply(&Tensor::from_slice(raw).view([n64, c64, h64, w64]).to_device(self.device));
        if self.channels_last {
            x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
        } else {
            x
        }
    }

    /// Averages scores over the 8 flips and rotations of each tile (a
    /// heatmap network) or patch (a patch classifier, in candidates and
    /// sliding modes): 8 times the work. Each detection gets the scores'
    /// standard deviation over them as its uncertainty. The model's own
    /// setting otherwise.
    pub fn set_tta(&mut self, on: bool) {
        self.tta = on;
    }

    /// Reduced precision: mixed precision on CUDA (the default there); on
    /// the CPU, a heatmap network computes in bf16 (fast on processors with
    /// AVX-512 BF16 or AMX, see [`cpu_has_bf16`]; emulated and slow
    /// elsewhere), other networks stay in f32.
    pub fn set_mixed_precision(&mut self, on: bool) {
        if self.device.is_cuda() {
            self.mixed_precision = on;
        } else if self.is_heatmap() {
            let kind = if on { Kind::BFloat16 } else { Kind::Float };
            if self.folded.as_ref().is_some_and(|f| f.kind() != kind) {
                self.folded = fold(&self.model, self.channels_last, kind);
            }
        }
    }

    /// Whether it computes in reduced precision.
    pub fn mixed_precision(&self) -> bool {
        self.mixed_precision || self.folded.as_ref().is_some_and(|f| f.kind() == Kind::BFloat16)
    }

    /// Whether scores are averaged over flips and rotations (a patch
    /// classifier's in candidates and sliding modes; dense scoring runs one
    /// pass).
    pub fn tta(&self) -> bool {
        self.tta
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The device it runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Probability of the positive class for `n` patches of raw values,
    /// channels first (averaged over flips and rotations when they are on).
    pub fn scores(&self, data: &[f32], n: usize) -> Result<Vec<f32>, ClassifyError> {
        Ok(self.scores_and_spread(data, n)?.0)
    }

    /// [`Classifier::scores`], and with flips and rotations on, each
    /// patch's standard deviation of the score over the 8 of them.
    pub fn scores_and_spread(&self, data: &[f32], n: usize) -> Result<(Vec<f32>, Option<Vec<f32>>), ClassifyError> {
        let m = &self.model.meta;
        let (c, p) = (m.bands.len() as i64, m.patch as i64);
        if data.len() != n * (c * p * p) as usize {
            return Err(ClassifyError::Shape(format!(
                "expected {n} patches of {c}x{p}x{p} values, got {} values",
                data.len()
            )));
        }
        let probs = |x: &Tensor| {
            let logits = tch::autocast(self.mixed_precision, || self.model.net.forward(x, false));
            logits.to_kind(Kind::Float).softmax(-1, Kind::Float).select(1, m.positive as i64)
        };
        let (mean, sd) = tch::no_grad(|| {
            let x = self.input(data, n, c as usize, p as usize, p as usize);
            if !self.tta || self.is_heatmap() {
                return (probs(&x).to_device(Device::Cpu), None);
            }
            let mut passes = Vec::with_capacity(8);
            for k in 0..4 {
                for mirror in [false, true] {
                    let t = x.rot90(k, [2, 3]);
                    passes.push(probs(&if mirror { t.flip([3]) } else { t }));
                }
            }
            let all = Tensor::stack(&passes, 0);
            let mean = all.mean_dim([0i64].as_slice(), false, Kind::Float);
            (mean.to_device(Device::Cpu), Some(all.std_dim([0i64].as_slice(), false, false).to_device(Device::Cpu)))
        });
        let sd = sd.map(Vec::<f32>::try_from).transpose().map_err(runtime)?;
        Ok((Vec::<f32>::try_from(mean).map_err(runtime)?, sd))
    }

    /// Where the evidence for the object class lies in `tile` (raw values,
    /// channels first, `height` x `width`), one value per pixel, row-major,
    /// scaled to a maximum of 1 (all zeros where there is none): for a
    /// patch classifier (`tile` one patch) its Grad-CAM map, for a heatmap
    /// network the gradient of its score at pixel `at` (column, row).
    pub fn explain(
        &self,
        tile: &[f32],
        height: usize,
        width: usize,
        at: (usize, usize),
    ) -> Result<Vec<f32>, ClassifyError> {
        let c = self.model.meta.bands.len();
        if tile.len() != c * height * width {
            return Err(ClassifyError::Shape(format!("expected {c}x{height}x{width} values, got {}", tile.len())));
        }
        // The network as trained (not its folded inference form), in f32
        // and contiguous: autograd runs through it.
        let x = self
            .norm
            .apply(&Tensor::from_slice(tile).view([1, c as i64, height as i64, width as i64]).to_device(self.device));
        let positive = self.model.meta.positive;
        let map = if self.is_heatmap() {
            crate::peak_gradient::peak_gradient(&self.model, &x, positive, at.1 as i64, at.0 as i64)
        } else if height == width && height == self.model.meta.patch {
            crate::grad_cam::grad_cam(&self.model, &x, positive)
        } else {
            return Err(ClassifyError::Shape(format!("Grad-CAM explains one {0}x{0} patch", self.model.meta.patch)));
        }
        .ok_or(ClassifyError::NoDenseForm)?;
        let top = map.max().double_value(&[]);
        let map = if top > 0.0 { map / top } else { map };
        Vec::<f32>::try_from(map.to_device(Device::Cpu).contiguous().view([-1])).map_err(runtime)
    }

    /// The lattice dense scoring runs on: windows every this many pixels
    /// per trunk pass (`None`: this network has no dense form). For a
    /// heatmap network, the alignment its tiles need (every pixel is scored).
    pub fn dense_stride(&self) -> Option<usize> {
        match &self.model.net {
            Net::Resnet(r) if self.is_heatmap() || self.model.meta.patch as i64 % r.stride == 0 => {
                Some(r.stride as usize)
            }
            _ => None,
        }
    }

    /// Whether the network scores every pixel at once (a heatmap head), so
    /// dense scoring is its natural mode and equals per-window scoring.
    pub fn is_heatmap(&self) -> bool {
        self.model.meta.arch.is_heatmap()
    }

    /// Scores of every window of the model's patch size whose top-left
    /// corner lies on a `step`-pixel lattice of a `height` x `width` tile of
    /// raw values (channels first), computed convolutionally: the trunk runs
    /// once per lattice shift, a sliding average pool stands for the global
    /// pool, and `fc` is applied at every position. Returns window centres
    /// (x, y) in tile pixels with their scores. Windows see their real
    /// surroundings where a separate window would see zero padding, so
    /// scores agree closely but not exactly with [`Classifier::scores`].
    pub fn dense_scores(
        &self,
        tile: &[f32],
        height: usize,
        width: usize,
        step: usize,
    ) -> Result<DenseScores, ClassifyError> {
        if self.is_heatmap() {
            return self.heatmap_peaks(tile, height, width);
        }
        let Net::Resnet(r) = &self.model.net else { return Err(ClassifyError::NoDenseForm) };
        let ResNetHead::Pool(fc) = &r.head else { return Err(ClassifyError::NoDenseForm) };
        let m = &self.model.meta;
        let (c, p, s) = (m.bands.len(), m.patch, r.stride as usize);
        if step == 0 || s % step != 0 || p % s != 0 {
            return Err(ClassifyError::Shape(format!(
                "dense scoring needs a step dividing {s} and a patch divisible by it"
            )));
        }
        if tile.len() != c * height * width {
            return Err(ClassifyError::Shape(format!("expected {c}x{height}x{width} values, got {}", tile.len())));
        }
        let k = (p / s) as i64;
        let mut out = Vec::new();
        tch::no_grad(|| -> Result<(), ClassifyError> {
            let x = self.input(tile, 1, c, height, width);
            for dy in (0..s).step_by(step) {
                for dx in (0..s).step_by(step) {
                    if height < dy + p || width < dx + p {
                        continue;
                    }
                    let xs = x.narrow(2, dy as i64, (height - dy) as i64).narrow(3, dx as i64, (width - dx) as i64);
                    let probs = tch::autocast(self.mixed_precision, || {
                        let f = r.trunk.forward(&xs, false);
                        let pooled = f.avg_pool2d([k, k], [1, 1], [0, 0], false, true, None::<i64>);
                        pooled.permute([0, 2, 3, 1]).apply(fc)
                    });
                    let probs = probs
                        .to_kind(Kind::Float)
                        .softmax(-1, Kind::Float)
                        .select(3, m.positive as i64)
                        .squeeze_dim(0)
                        .to_device(Device::Cpu);
                    let (nh, nw) = (probs.size()[0] as usize, probs.size()[1] as usize);
                    let values = Vec::<f32>::try_from(probs.contiguous().view([-1])).map_err(runtime)?;
                    // Only windows wholly inside the tile.
                    let rows = ((height - dy - p) / s + 1).min(nh);
                    let cols = ((width - dx - p) / s + 1).min(nw);
                    for i in 0..rows {
                        for j in 0..cols {
                            let (x0, y0) = (dx + j * s, dy + i * s);
                            let at = PixelPoint { x: (x0 + p / 2) as f64, y: (y0 + p / 2) as f64 };
                            out.push(ScoredPoint { at, score: values[i * nw + j], radii: None, uncertainty: None });
                        }
                    }
                }
            }
            Ok(())
        })?;
        Ok(out.into())
    }
}

impl Classifier {
    /// The peaks of a heatmap network's scores over a tile of raw values
    /// (channels first): pixel centres (x, y) in tile pixels with their
    /// scores, and outline radii where the network has an extent head; the
    /// score and foreground maps where it has a foreground head.
    /// Peaks under [`PEAK_FLOOR`] are not reported.
    fn heatmap_peaks(&self, tile: &[f32], height: usize, width: usize) -> Result<DenseScores, ClassifyError> {
        let HeatmapMaps { scores, radii, spread, foreground } = self.heatmap_tensors(tile, height, width)?;
        let maps = match foreground {
            Some(fg) => Some(ObjectMaps {
                scores: Vec::<f32>::try_from(scores.contiguous().view([-1])).map_err(runtime)?,
                foreground: Vec::<f32>::try_from(fg.contiguous().view([-1])).map_err(runtime)?,
                height,
                width,
            }),
            None => None,
        };
        let peaks = local_maxima(&scores, 1, PEAK_FLOOR);
        let mut points: Vec<ScoredPoint> = peaks.iter().map(|&p| crate::peaks::pixel_centre(p)).collect();
        if let (Some(spread), false) = (spread, peaks.is_empty()) {
            let cols = spread.size()[1];
            let flat: Vec<i64> = peaks.iter().map(|p| p.1 as i64 * cols + p.0 as i64).collect();
            let at = spread.contiguous().view([-1]).index_select(0, &Tensor::from_slice(&flat));
            let values = Vec::<f32>::try_from(at).map_err(runtime)?;
            for (p, u) in points.iter_mut().zip(values) {
                p.uncertainty = Some(u);
            }
        }
        if let (Some(radii), false) = (radii, peaks.is_empty()) {
            // One gather for all peaks: RAYS values each.
            let rows = Tensor::from_slice(&peaks.iter().map(|p| p.1 as i64).collect::<Vec<_>>());
            let cols = Tensor::from_slice(&peaks.iter().map(|p| p.0 as i64).collect::<Vec<_>>());
            let at = radii.index(&[None, Some(rows), Some(cols)]).transpose(0, 1).contiguous();
            let values = Vec::<f32>::try_from(at.view([-1])).map_err(runtime)?;
            for (p, r) in points.iter_mut().zip(values.chunks_exact(RAYS)) {
                p.radii = Some(std::array::from_fn(|k| r[k]));
            }
        }
        Ok(DenseScores { points, maps })
    }

    /// A heatmap network's score at every pixel of a tile of raw values
    /// (channels first), row-major.
    pub fn heatmap(&self, tile: &[f32], height: usize, width: usize) -> Result<Vec<f32>, ClassifyError> {
        let maps = self.heatmap_tensors(tile, height, width)?;
        Vec::<f32>::try_from(maps.scores.contiguous().view([-1])).map_err(runtime)
    }

    /// The scores, radii and spread of a tile, as tensors on the CPU.
    fn heatmap_tensors(&self, tile: &[f32], height: usize, width: usize) -> Result<HeatmapMaps, ClassifyError> {
        let c = self.model.meta.bands.len();
        if tile.len() != c * height * width {
            return Err(ClassifyError::Shape(format!("expected {c}x{height}x{width} values, got {}", tile.len())));
        }
        tch::no_grad(|| {
            let x = self.input(tile, 1, c, height, width);
            let positive = self.model.meta.positive;
            // Scores, then the radii and the foreground when the network has
            // those heads: N x (1 [+ RAYS] [+ 1]) x H x W.
            let foreground = self.model.meta.arch.has_foreground();
            let outputs = |x: &Tensor| {
                tch::autocast(self.mixed_precision, || match (&self.folded, &self.model.net) {
                    (Some(f), Net::Resnet(r)) => {
                        let (maps, log_radii) = f.forward(&pad_to_stride(x, r.stride));
                        Some((scores_and_radii(maps, log_radii, x, positive), None))
                    }
                    (None, Net::Resnet(r)) if foreground => {
                        let m = r.heatmap_maps(&pad_to_stride(x, r.stride), false, true)?;
                        let (h, w) = (x.size()[2], x.size()[3]);
                        let fg = m.foreground.map(|f| f.narrow(2, 0, h).narrow(3, 0, w).sigmoid());
                        Some((scores_and_radii(m.logits, m.radii, x, positive), fg))
                    }
                    _ => heatmap_scores_and_radii(&self.model, x, positive).map(|sr| (sr, None)),
                })
                .map(|((s, r), fg)| {
                    let mut channels = vec![s.unsqueeze(1).to_kind(Kind::Float)];
                    channels.extend(r.map(|r| r.to_kind(Kind::Float)));
                    channels.extend(fg.map(|f| f.to_kind(Kind::Float)));
                    Tensor::cat(&channels, 1)
                })
                .ok_or(ClassifyError::NoDenseForm)
            };
            let (maps, spread) = if self.tta {
                // The 8 symmetries of the square: rotate by k quarter turns,
                // optionally mirror; undo both on the maps, the radii's
                // rays reordered to point their own way again.
                let rays = self.model.meta.arch.has_extent().then_some(1);
                let mut sum: Option<Tensor> = None;
                let mut sum_sq: Option<Tensor> = None;
                for k in 0..4 {
                    for mirror in [false, true] {
                        let t = x.rot90(k, [2, 3]);
                        let t = if mirror { t.flip([3]) } else { t };
                        let m = outputs(&t)?;
                        let m = if mirror { change(&m, Change::MirrorX, rays) } else { m };
                        let m = change(&m, Change::Rot90(-k), rays);
                        let sq = m.narrow(1, 0, 1).square();
                        sum_sq = Some(match sum_sq {
                            Some(s) => s + sq,
                            None => sq,
                        });
                        sum = Some(match sum {
                            Some(s) => s + m,
                            None => m,
                        });
                    }
                }
                let mean = sum.expect("eight passes") / 8.0;
                // Population variance of the 8 scores: E[s^2] - E[s]^2.
                let var = sum_sq.expect("eight passes") / 8.0 - mean.narrow(1, 0, 1).square();
                (mean, Some(var.clamp_min(0.0).sqrt()))
            } else {
                (outputs(&x)?, None)
            };
            let maps = maps.get(0).to_device(Device::Cpu);
            let extent = self.model.meta.arch.has_extent();
            let radii = extent.then(|| maps.narrow(0, 1, RAYS as i64));
            let foreground = foreground.then(|| maps.get(maps.size()[0] - 1));
            Ok(HeatmapMaps {
                scores: maps.get(0),
                radii,
                spread: spread.map(|s| s.get(0).get(0).to_device(Device::Cpu)),
                foreground,
            })
        })
    }
}

/// A heatmap network's maps of one tile, on the CPU.
struct HeatmapMaps {
    /// The score at every pixel (H x W).
    scores: Tensor,
    /// With an extent head, the outline radii in pixels (RAYS x H x W).
    radii: Option<Tensor>,
    /// With flips and rotations, the scores' standard deviation over them
    /// (H x W).
    spread: Option<Tensor>,
    /// With a foreground head, the probability that each pixel belongs to
    /// an object (H x W).
    foreground: Option<Tensor>,
}

/// The inference form of a heatmap ResNet (`None` for other networks, and
/// for networks of another shape than their architecture says, which keep
/// running as trained).
fn fold(model: &Model, channels_last: bool, kind: Kind) -> Option<FoldedHeatmap> {
    match (&model.meta.arch, &model.net) {
        // The folded form has no foreground head: such a network runs as
        // trained.
        (Arch::Resnet(c), Net::Resnet(_)) if c.head != Head::Pool && !model.meta.arch.has_foreground() => {
            FoldedHeatmap::new(&model.vs.variables(), c, channels_last, kind).ok()
        }
        _ => None,
    }
}

/// Whether this CPU has bf16 instructions (AVX-512 BF16 or AMX), where
/// bf16 inference is faster than f32 rather than emulated.
pub fn cpu_has_bf16() -> bool {
    std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|info| {
        info.lines()
            .find(|l| l.starts_with("flags"))
            .is_some_and(|l| l.split_whitespace().any(|f| f == "avx512_bf16" || f == "amx_bf16"))
    })
}

/// libtorch's error as the classifier trait reports it.
fn runtime(e: tch::TchError) -> ClassifyError {
    ClassifyError::Runtime(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_scores_cover_the_lattice() {
        let _rng = crate::rng_lock();
        tch::manual_seed(3);
        let meta = crate::test_meta("resnet-small", 32, 0.6, "tree");
        let c = Classifier::from_model(Model::new(meta, Device::Cpu).unwrap());
        assert_eq!(c.dense_stride(), Some(4));
        let (h, w) = (64usize, 80usize);
        let tile: Vec<f32> = (0..3 * h * w).map(|i| ((i * 37) % 251) as f32).collect();
        let dense = c.dense_scores(&tile, h, w, 2).unwrap();
        // Windows every 2 px whose 32 px extent fits: 17 x 25.
        assert_eq!(dense.points.len(), 17 * 25);
        // The window at (24, 16): per-window scoring sees only its own pixels.
        let (x0, y0) = (24usize, 16usize);
        let mut patch = Vec::new();
        for b in 0..3 {
            for y in 0..32 {
                for x in 0..32 {
                    patch.push(tile[b * h * w + (y0 + y) * w + x0 + x]);
                }
            }
        }
        let single = c.scores(&patch, 1).unwrap()[0];
        let d = dense.points.iter().find(|p| p.at.x == 40.0 && p.at.y == 32.0).unwrap().score;
        assert!(d.is_finite() && (0.0..=1.0).contains(&d) && single.is_finite());
    }

    /// The channels-last layout is a matter of speed only: the same scores.
    #[test]
    fn channels_last_gives_the_same_scores() {
        let _rng = crate::rng_lock();
        tch::manual_seed(5);
        for (arch, patch) in [("googlenet-small", 64), ("resnet-small-heatmap", 32)] {
            let meta = crate::test_meta(arch, patch, 0.6, "tree");
            let mut c = Classifier::from_model(Model::new(meta, Device::Cpu).unwrap());
            assert!(c.channels_last, "{arch} runs channels-last on the CPU");
            let n = 3;
            let data: Vec<f32> = (0..n * 3 * 64 * 64).map(|i| ((i * 7919) % 251) as f32).collect();
            let score = |c: &Classifier| {
                if c.is_heatmap() {
                    c.heatmap(&data[..3 * 64 * 64], 64, 64).unwrap()
                } else {
                    c.scores(&data, n).unwrap()
                }
            };
            let fast = score(&c);
            c.channels_last = false;
            let plain = score(&c);
            assert_eq!(fast.len(), plain.len());
            let worst = fast.iter().zip(&plain).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(worst < 1e-4, "{arch}: scores differ by {worst}");
        }
    }
}
