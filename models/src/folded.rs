//! A heatmap ResNet prepared for inference: each batch norm folded into the
//! convolution before it (a scale on the weights and a bias, computed once
//! at load), activations rectified and summed in place. The same function
//! as the trainable network in evaluation mode, with a third fewer passes
//! over memory and a smaller working set: batch norms in evaluation mode
//! are one read and one write of a whole activation each, out-of-place
//! ReLUs and sums allocate a fresh one each, and on a large tile every
//! fresh activation is memory the process has to get from the kernel.
//! Built from the model's variables by their torchvision names, so it
//! follows the checkpoint, not the training code's closures.

use crate::resnet::{Block, ResNetConfig, Stem};
use std::collections::HashMap;
use tch::{Kind, Tensor};

/// libtorch's default batch-norm epsilon, the one training used.
const BN_EPS: f64 = 1e-5;

/// A convolution with its batch norm folded in.
#[derive(Debug)]
struct Conv {
    weight: Tensor,
    bias: Tensor,
    stride: i64,
    padding: i64,
}

impl Conv {
    fn apply(&self, x: &Tensor) -> Tensor {
        x.conv2d(&self.weight, Some(&self.bias), [self.stride; 2], [self.padding; 2], [1, 1], 1)
    }
}

/// One residual block: the main path's convolutions (ReLU between them)
/// and the projection on the shortcut, if any.
#[derive(Debug)]
struct Residual {
    path: Vec<Conv>,
    down: Option<Conv>,
}

/// The inference form of a heatmap ResNet (see the module's notes).
#[derive(Debug)]
pub struct FoldedHeatmap {
    stem: Conv,
    stages: Vec<Vec<Residual>>,
    lateral: Vec<Conv>,
    smooth: Vec<Conv>,
    head: (Conv, Conv),
    extent: Option<(Conv, Conv)>,
    kind: Kind,
}

/// Why a network could not be folded: a variable its architecture names is
/// missing (a checkpoint of another shape), or a stem heatmap networks do
/// not have.
#[derive(Debug, thiserror::Error)]
#[error("cannot fold the network for inference: {0}")]
pub struct FoldError(String);

/// Reads variables by name and folds batch norms into convolutions.
struct Folder<'a> {
    vars: &'a HashMap<String, Tensor>,
    channels_last: bool,
    kind: Kind,
}

impl Folder<'_> {
    fn var(&self, name: &str) -> Result<Tensor, FoldError> {
        self.vars
            .get(name)
            .map(|t| t.detach().to_kind(Kind::Float))
            .ok_or_else(|| FoldError(format!("no variable {name}")))
    }

    /// The weights in the layout the activations have, so libtorch does not
    /// reorder them on every call.
    fn laid_out(&self, w: Tensor) -> Tensor {
        if self.channels_last {
            w.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
        } else {
            w.contiguous()
        }
    }

    /// The convolution `conv` followed by batch norm `bn` (or, with `bn`
    /// `None`, the convolution's own bias).
    fn conv(&self, conv: &str, bn: Option<&str>, stride: i64, padding: i64) -> Result<Conv, FoldError> {
        let weight = self.var(&format!("{conv}.weight"))?;
        let out = weight.size()[0];
        let (weight, bias) = match bn {
            Some(bn) => {
                let gamma = self.var(&format!("{bn}.weight"))?;
                let scale = gamma / (self.var(&format!("{bn}.running_var"))? + BN_EPS).sqrt();
                let bias = self.var(&format!("{bn}.bias"))? - self.var(&format!("{bn}.running_mean"))? * &scale;
                (weight * scale.view([out, 1, 1, 1]), bias)
            }
            None => {
                let bias = self.var(&format!("{conv}.bias"))?;
                (weight, bias)
            }
        };
        // Folded in f32, then stored at the precision it runs at.
        let (weight, bias) = (weight.to_kind(self.kind), bias.to_kind(self.kind));
        Ok(Conv { weight: self.laid_out(weight), bias: bias.contiguous(), stride, padding })
    }
}

impl FoldedHeatmap {
    /// Folds the variables of a heatmap ResNet of configuration `c`;
    /// `channels_last` lays the weights out for channels-last activations,
    /// `kind` is the precision it computes in (f32, or bf16 where the CPU
    /// has instructions for it).
    pub fn new(
        vars: &HashMap<String, Tensor>,
        c: &ResNetConfig,
        channels_last: bool,
        kind: Kind,
    ) -> Result<Self, FoldError> {
        let f = Folder { vars, channels_last, kind };
        if c.stem != Stem::Small {
            return Err(FoldError("heatmap networks have the small stem".into()));
        }
        let stem = f.conv("conv1", Some("bn1"), 1, 1)?;
        let mut stages = Vec::new();
        for (i, &n) in c.layers.iter().enumerate() {
            let mut blocks = Vec::new();
            for b in 0..n {
                let p = format!("layer{}.{b}", i + 1);
                let stride = if i > 0 && b == 0 { 2 } else { 1 };
                let path = match c.block {
                    Block::Basic => vec![
                        f.conv(&format!("{p}.conv1"), Some(&format!("{p}.bn1")), stride, 1)?,
                        f.conv(&format!("{p}.conv2"), Some(&format!("{p}.bn2")), 1, 1)?,
                    ],
                    Block::Bottleneck => vec![
                        f.conv(&format!("{p}.conv1"), Some(&format!("{p}.bn1")), 1, 0)?,
                        f.conv(&format!("{p}.conv2"), Some(&format!("{p}.bn2")), stride, 1)?,
                        f.conv(&format!("{p}.conv3"), Some(&format!("{p}.bn3")), 1, 0)?,
                    ],
                };
                let down_name = format!("{p}.downsample.0.weight");
                let down = vars
                    .contains_key(&down_name)
                    .then(|| f.conv(&format!("{p}.downsample.0"), Some(&format!("{p}.downsample.1")), stride, 0))
                    .transpose()?;
                blocks.push(Residual { path, down });
            }
            stages.push(blocks);
        }
        let lateral: Result<Vec<Conv>, FoldError> =
            (0..stages.len()).map(|i| f.conv(&format!("decoder.lateral.{i}"), None, 1, 0)).collect();
        let smooth: Result<Vec<Conv>, FoldError> = (0..stages.len().saturating_sub(1))
            .map(|i| f.conv(&format!("decoder.smooth.{i}.0"), Some(&format!("decoder.smooth.{i}.1")), 1, 1))
            .collect();
        let head = (f.conv("head.0", None, 1, 1)?, f.conv("head.2", None, 1, 0)?);
        let extent = vars
            .contains_key("extent.0.weight")
            .then(|| Ok::<_, FoldError>((f.conv("extent.0", None, 1, 1)?, f.conv("extent.2", None, 1, 0)?)))
            .transpose()?;
        Ok(FoldedHeatmap { stem, stages, lateral: lateral?, smooth: smooth?, head, extent, kind })
    }

    /// The precision it computes in.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The logit maps and, with an extent head, the log-radius maps, of
    /// normalised input whose sides are multiples of the trunk's stride:
    /// what [`ResNet::heatmap_with_extent`](crate::resnet::ResNet::heatmap_with_extent)
    /// gives in evaluation mode.
    /// In bf16 the maps come out in bf16.
    pub fn forward(&self, x: &Tensor) -> (Tensor, Option<Tensor>) {
        let mut y = self.stem.apply(&x.to_kind(self.kind));
        let _ = y.relu_();
        let mut skips = Vec::with_capacity(self.stages.len());
        let last = self.stages.len() - 1;
        for (i, blocks) in self.stages.iter().enumerate() {
            for block in blocks {
                y = residual(block, &y);
            }
            if i < last {
                // Only its projection is needed later: hold 32 channels
                // where the stage may have more, and nothing of its input.
                skips.push(self.lateral[i].apply(&y));
            }
        }
        let mut y = self.lateral[last].apply(&y);
        for i in (0..last).rev() {
            let mut skip = skips.pop().expect("one skip a stage");
            add_upsampled(&mut skip, &y);
            drop(y);
            y = self.smooth[i].apply(&skip);
            let _ = y.relu_();
        }
        let extent = self.extent.as_ref().map(|(conv, out)| {
            let mut e = conv.apply(&y);
            let _ = e.relu_();
            out.apply(&e)
        });
        let mut h = self.head.0.apply(&y);
        drop(y);
        let _ = h.relu_();
        (self.head.1.apply(&h), extent)
    }
}

/// Adds `y` upsampled twofold (nearest) to `skip` in place. Where both are
/// channels-last, each of `y`'s pixels is added to its 2x2 block of `skip`
/// through a broadcasting view, in one pass over `skip`, without the
/// upsampled map; otherwise through it.
fn add_upsampled(skip: &mut Tensor, y: &Tensor) {
    let (n, c, h, w) = skip.size4().expect("N x C x H x W");
    let (yh, yw) = (y.size()[2], y.size()[3]);
    if (yh * 2, yw * 2) == (h, w) {
        let blocks = skip.permute([0, 2, 3, 1]).f_view([n, yh, 2, yw, 2, c]);
        let pixels = y.permute([0, 2, 3, 1]).f_view([n, yh, 1, yw, 1, c]);
        if let (Ok(mut blocks), Ok(pixels)) = (blocks, pixels) {
            let _ = blocks.g_add_(&pixels);
            return;
        }
    }
    let _ = skip.g_add_(&y.upsample_nearest2d([h, w], None, None));
}

/// A residual block in place: main path, shortcut added, rectified (in one
/// pass in fp32 on the CPU, where libtorch has the fused kernel).
fn residual(block: &Residual, x: &Tensor) -> Tensor {
    let mut y = x.shallow_clone();
    let n = block.path.len();
    for (k, conv) in block.path.iter().enumerate() {
        y = conv.apply(&y);
        if k + 1 < n {
            let _ = y.relu_();
        }
    }
    let shortcut = match &block.down {
        Some(d) => d.apply(x),
        None => x.shallow_clone(),
    };
    if y.device() == tch::Device::Cpu && y.kind() == Kind::Float {
        let _ = y.internal_add_relu_(&shortcut);
    } else {
        let _ = y.g_add_(&shortcut);
        let _ = y.relu_();
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resnet::{resnet, Head};
    use tch::{nn, Device};

    /// Folded or not, the same logits and radii, for both block kinds, with
    /// batch norms whose statistics are far from the identity.
    #[test]
    fn folding_keeps_the_function() {
        let _rng = crate::rng_lock();
        tch::manual_seed(11);
        for block in [Block::Basic, Block::Bottleneck] {
            let c = ResNetConfig {
                block,
                layers: vec![2, 1, 1],
                width: 8,
                stem: Stem::Small,
                head: Head::Heatmap { width: 8, extent: true, foreground: false },
            };
            let mut vs = nn::VarStore::new(Device::Cpu);
            let net = resnet(&vs.root(), &c, 3, 2);
            tch::no_grad(|| {
                // In name order: a hash map's order would draw other values
                // each run, and the bf16 check would sit on a different edge.
                let mut vars = vs.variables_.lock().unwrap();
                let mut named: Vec<(&String, &mut Tensor)> = vars.named_variables.iter_mut().collect();
                named.sort_by(|a, b| a.0.cmp(b.0));
                for (name, t) in named {
                    if name.ends_with("running_var") {
                        t.copy_(&(Tensor::rand_like(t) * 3.0 + 0.2));
                    } else if name.ends_with("running_mean") || name.ends_with("bn1.bias") {
                        t.copy_(&(Tensor::randn_like(t) * 0.5));
                    }
                }
            });
            vs.freeze();
            let x = Tensor::randn([2, 3, 32, 48], (Kind::Float, Device::Cpu));
            let (maps, radii) = tch::no_grad(|| net.heatmap_with_extent(&x, false)).unwrap();
            for channels_last in [false, true] {
                let folded = FoldedHeatmap::new(&vs.variables(), &c, channels_last, Kind::Float).unwrap();
                let input = if channels_last {
                    x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
                } else {
                    x.shallow_clone()
                };
                let (fmaps, fradii) = tch::no_grad(|| folded.forward(&input));
                let worst = |a: &Tensor, b: &Tensor| f64::try_from((a - b).abs().max()).unwrap();
                assert_eq!(fmaps.size(), maps.size());
                assert!(worst(&fmaps, &maps) < 1e-4, "{block:?}: logits differ by {}", worst(&fmaps, &maps));
                let (r, fr) = (radii.as_ref().unwrap(), fradii.unwrap());
                assert!(worst(&fr, r) < 1e-4, "{block:?}: radii differ by {}", worst(&fr, r));
            }
            // In bf16: scores within a hundredth.
            let bf16 = FoldedHeatmap::new(&vs.variables(), &c, true, Kind::BFloat16).unwrap();
            let (bmaps, _) = tch::no_grad(|| bf16.forward(&x));
            assert_eq!(bmaps.kind(), Kind::BFloat16);
            let d = f64::try_from((bmaps.to_kind(Kind::Float).sigmoid() - maps.sigmoid()).abs().max()).unwrap();
            assert!(d < 0.01, "{block:?}: bf16 scores differ by {d}");
        }
    }

    #[test]
    fn a_missing_variable_is_named() {
        let vars = HashMap::new();
        let c = ResNetConfig {
            block: Block::Basic,
            layers: vec![1],
            width: 8,
            stem: Stem::Small,
            head: Head::Heatmap { width: 8, extent: false, foreground: false },
        };
        let e = FoldedHeatmap::new(&vars, &c, false, Kind::Float).unwrap_err();
        assert_eq!(e.to_string(), "cannot fold the network for inference: no variable conv1.weight");
    }
}
