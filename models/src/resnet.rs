//! ResNet (He et al. 2015) as torchvision builds it, with torchvision's
//! parameter names (`conv1`, `bn1`, `layer1.0.conv1`, `fc`, ...) so its
//! weights load without renaming. Width, depth and the stem are
//! configurable: objects of 5-25 px want a narrow network that keeps
//! resolution (the `small` stem: a 3x3 stride-1 convolution, no max-pool).

use crate::fpn::{fpn, Fpn, HeatmapMaps};
use tch::nn::{self, ConvConfig, FuncT};

pub use detection::arch::{Block, Head, ResNetConfig, Stem};

fn conv(p: nn::Path, c_in: i64, c_out: i64, k: i64, padding: i64, stride: i64) -> nn::Conv2D {
    nn::conv2d(p, c_in, c_out, k, ConvConfig { stride, padding, bias: false, ..Default::default() })
}

fn bn(p: nn::Path, c: i64) -> nn::BatchNorm {
    nn::batch_norm2d(p, c, Default::default())
}

fn downsample(p: nn::Path, c_in: i64, c_out: i64, stride: i64) -> Option<nn::SequentialT> {
    (stride != 1 || c_in != c_out)
        .then(|| nn::seq_t().add(conv(&p / "0", c_in, c_out, 1, 0, stride)).add(bn(&p / "1", c_out)))
}

/// The identity, or the downsampling projection where shapes change.
fn shortcut(xs: &tch::Tensor, down: &Option<nn::SequentialT>, train: bool) -> tch::Tensor {
    match down {
        Some(d) => xs.apply_t(d, train),
        None => xs.shallow_clone(),
    }
}

fn basic(p: nn::Path, c_in: i64, planes: i64, stride: i64) -> FuncT<'static> {
    let conv1 = conv(&p / "conv1", c_in, planes, 3, 1, stride);
    let bn1 = bn(&p / "bn1", planes);
    let conv2 = conv(&p / "conv2", planes, planes, 3, 1, 1);
    let bn2 = bn(&p / "bn2", planes);
    let down = downsample(&p / "downsample", c_in, planes, stride);
    nn::func_t(move |xs, train| {
        let ys = xs.apply(&conv1).apply_t(&bn1, train).relu().apply(&conv2).apply_t(&bn2, train);
        (shortcut(xs, &down, train) + ys).relu()
    })
}

fn bottleneck(p: nn::Path, c_in: i64, planes: i64, stride: i64) -> FuncT<'static> {
    let out = planes * 4;
    let conv1 = conv(&p / "conv1", c_in, planes, 1, 0, 1);
    let bn1 = bn(&p / "bn1", planes);
    let conv2 = conv(&p / "conv2", planes, planes, 3, 1, stride);
    let bn2 = bn(&p / "bn2", planes);
    let conv3 = conv(&p / "conv3", planes, out, 1, 0, 1);
    let bn3 = bn(&p / "bn3", out);
    let down = downsample(&p / "downsample", c_in, out, stride);
    nn::func_t(move |xs, train| {
        let ys = xs
            .apply(&conv1)
            .apply_t(&bn1, train)
            .relu()
            .apply(&conv2)
            .apply_t(&bn2, train)
            .relu()
            .apply(&conv3)
            .apply_t(&bn3, train);
        (shortcut(xs, &down, train) + ys).relu()
    })
}

/// The first layers and the stages of residual blocks.
pub struct Trunk {
    stem: FuncT<'static>,
    stages: Vec<nn::SequentialT>,
}

impl Trunk {
    /// Every stage's output, shallowest first.
    pub fn stages(&self, xs: &tch::Tensor, train: bool) -> Vec<tch::Tensor> {
        let mut ys = xs.apply_t(&self.stem, train);
        let mut out = Vec::with_capacity(self.stages.len());
        for stage in &self.stages {
            ys = ys.apply_t(stage, train);
            out.push(ys.shallow_clone());
        }
        out
    }

    /// The deepest stage's output.
    pub fn forward(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
        self.stages.iter().fold(xs.apply_t(&self.stem, train), |ys, stage| ys.apply_t(stage, train))
    }

    /// Number of stages.
    pub fn depth(&self) -> usize {
        self.stages.len()
    }

    /// The output of stage `last` (0-based): the stem and stages up to it.
    pub fn through(&self, xs: &tch::Tensor, last: usize, train: bool) -> tch::Tensor {
        self.stages[..=last].iter().fold(xs.apply_t(&self.stem, train), |ys, stage| ys.apply_t(stage, train))
    }

    /// The deepest stage's output from stage `last`'s: the stages after it.
    pub fn after(&self, ys: &tch::Tensor, last: usize, train: bool) -> tch::Tensor {
        self.stages[last + 1..].iter().fold(ys.shallow_clone(), |ys, stage| ys.apply_t(stage, train))
    }
}

/// The convolutional trunk: image in, feature maps out.
pub fn trunk(p: &nn::Path, c: &ResNetConfig, in_channels: i64) -> Trunk {
    let (k, pad, stride) = match c.stem {
        Stem::Imagenet => (7, 3, 2),
        Stem::Small => (3, 1, 1),
    };
    let conv1 = conv(p / "conv1", in_channels, c.width, k, pad, stride);
    let bn1 = bn(p / "bn1", c.width);
    let mut stages = Vec::new();
    let mut c_in = c.width;
    for (i, &n) in c.layers.iter().enumerate() {
        let planes = c.width << i;
        let lp = p / format!("layer{}", i + 1);
        let mut stage = nn::seq_t();
        for b in 0..n {
            let stride = if i > 0 && b == 0 { 2 } else { 1 };
            let block = match c.block {
                Block::Basic => basic(&lp / b.to_string(), c_in, planes, stride),
                Block::Bottleneck => bottleneck(&lp / b.to_string(), c_in, planes, stride),
            };
            stage = stage.add(block);
            c_in = planes * c.expansion();
        }
        stages.push(stage);
    }
    let pool = c.stem == Stem::Imagenet;
    let stem = nn::func_t(move |xs, train| {
        let ys = xs.apply(&conv1).apply_t(&bn1, train).relu();
        if pool {
            ys.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false)
        } else {
            ys
        }
    });
    Trunk { stem, stages }
}

/// What turns trunk features into scores.
pub enum ResNetHead {
    /// Global average pool and a linear layer.
    Pool(nn::Linear),
    /// Per-pixel logits through a feature-pyramid decoder.
    Heatmap(Box<Fpn>),
}

/// A ResNet: trunk and head. Its parts stay reachable for dense scoring.
pub struct ResNet {
    /// The convolutional trunk.
    pub trunk: Trunk,
    /// The head.
    pub head: ResNetHead,
    /// Input pixels per cell of the deepest stage, along each axis.
    pub stride: i64,
}

impl ResNet {
    /// Grad-CAM's split of a patch classifier (`None` for a heatmap head):
    /// the features of `x` at the deepest stage with at least `min_cells`
    /// cells across the patch, and the rest of the network from them to the
    /// logits.
    pub fn cam_split<'a>(
        &'a self,
        x: &tch::Tensor,
        min_cells: i64,
    ) -> Option<(tch::Tensor, crate::model_file::Rest<'a>)> {
        let ResNetHead::Pool(fc) = &self.head else { return None };
        let p = x.size()[3];
        let depth = self.trunk.depth();
        // Stage i's stride is the whole trunk's over 2^(depth - 1 - i).
        let layer = (0..depth).rev().find(|&i| p / (self.stride >> (depth - 1 - i)) >= min_cells).unwrap_or(0);
        let f = self.trunk.through(x, layer, false);
        let rest =
            move |f: &tch::Tensor| self.trunk.after(f, layer, false).adaptive_avg_pool2d([1, 1]).flat_view().apply(fc);
        Some((f, Box::new(rest)))
    }

    /// Logits of whole patches: pooled for a classifier, the centre pixel's
    /// for a heatmap (preceded by a zero logit for the background, so a
    /// softmax gives each class its sigmoid).
    pub fn forward(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
        match &self.head {
            ResNetHead::Pool(fc) => self.trunk.forward(xs, train).adaptive_avg_pool2d([1, 1]).flat_view().apply(fc),
            ResNetHead::Heatmap(_) => {
                let (h, w) = (xs.size()[2], xs.size()[3]);
                let maps = self.heatmap(xs, train).expect("a heatmap head");
                let centre = maps.select(2, h / 2).select(2, w / 2);
                tch::Tensor::cat(&[centre.zeros_like().narrow(1, 0, 1), centre], 1)
            }
        }
    }

    /// Per-pixel logits (N x objects x H x W) of a heatmap model, for input
    /// whose sides are multiples of `stride`; `None` for a classifier.
    pub fn heatmap(&self, xs: &tch::Tensor, train: bool) -> Option<tch::Tensor> {
        match &self.head {
            ResNetHead::Pool(_) => None,
            ResNetHead::Heatmap(fpn) => Some(fpn.forward(&self.trunk.stages(xs, train), train)),
        }
    }

    /// Every head's maps (see [`HeatmapMaps`]), the foreground head's when
    /// asked for; `None` for a classifier.
    pub fn heatmap_maps(&self, xs: &tch::Tensor, train: bool, foreground: bool) -> Option<HeatmapMaps> {
        match &self.head {
            ResNetHead::Pool(_) => None,
            ResNetHead::Heatmap(fpn) => Some(fpn.forward_maps(&self.trunk.stages(xs, train), train, foreground)),
        }
    }

    /// The per-pixel logits and, when the network has an extent head, the
    /// log-radius maps (N x RAYS x H x W); `None` for a classifier.
    pub fn heatmap_with_extent(&self, xs: &tch::Tensor, train: bool) -> Option<(tch::Tensor, Option<tch::Tensor>)> {
        match &self.head {
            ResNetHead::Pool(_) => None,
            ResNetHead::Heatmap(fpn) => Some(fpn.forward_with_extent(&self.trunk.stages(xs, train), train)),
        }
    }
}

/// Builds a ResNet: a classifier of `classes` classes, or with a heatmap
/// head, one map per object class (all but the first, the background).
pub fn resnet(p: &nn::Path, c: &ResNetConfig, in_channels: i64, classes: i64) -> ResNet {
    let head = match c.head {
        Head::Pool => ResNetHead::Pool(nn::linear(p / "fc", c.features(), classes, Default::default())),
        Head::Heatmap { width, extent, foreground } => {
            ResNetHead::Heatmap(Box::new(fpn(p, &c.stage_channels(), width, (classes - 1).max(1), extent, foreground)))
        }
    };
    ResNet { trunk: trunk(p, c, in_channels), head, stride: c.stride() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind, Tensor};

    fn params(vs: &nn::VarStore) -> i64 {
        vs.trainable_variables().iter().map(|t| t.numel() as i64).sum()
    }

    #[test]
    fn torchvision_parameter_counts() {
        let _rng = crate::rng_lock();
        for (c, expected) in [
            (ResNetConfig::resnet18(), 11_689_512),
            (ResNetConfig::resnet34(), 21_797_672),
            (ResNetConfig::resnet50(), 25_557_032),
        ] {
            let vs = nn::VarStore::new(Device::Cpu);
            let _ = resnet(&vs.root(), &c, 3, 1000);
            assert_eq!(params(&vs), expected, "{c:?}");
        }
    }

    #[test]
    fn torchvision_names() {
        let _rng = crate::rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = resnet(&vs.root(), &ResNetConfig::resnet18(), 3, 1000);
        let names = vs.variables();
        for key in [
            "conv1.weight",
            "bn1.running_var",
            "layer1.0.conv1.weight",
            "layer2.0.downsample.0.weight",
            "layer4.1.bn2.bias",
            "fc.weight",
        ] {
            assert!(names.contains_key(key), "{key}");
        }
    }

    #[test]
    fn small_networks_take_any_bands_and_sizes() {
        let _rng = crate::rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let c =
            ResNetConfig { block: Block::Basic, layers: vec![1, 1, 1], width: 16, stem: Stem::Small, head: Head::Pool };
        let net = resnet(&vs.root(), &c, 4, 2);
        let out = net.forward(&Tensor::zeros([5, 4, 32, 32], (Kind::Float, Device::Cpu)), false);
        assert_eq!(net.stride, 4);
        assert_eq!(out.size(), [5, 2]);
        assert!(params(&vs) < 200_000);
    }

    #[test]
    fn heatmap_networks_score_every_pixel() {
        let _rng = crate::rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let c = ResNetConfig {
            block: Block::Basic,
            layers: vec![1, 1, 1],
            width: 8,
            stem: Stem::Small,
            head: Head::Heatmap { width: 8, extent: false, foreground: false },
        };
        let net = resnet(&vs.root(), &c, 3, 2);
        let x = Tensor::randn([2, 3, 32, 48], (Kind::Float, Device::Cpu));
        let maps = net.heatmap(&x, false).unwrap();
        assert_eq!(maps.size(), [2, 1, 32, 48]);
        // A patch's logits are its centre pixel's, after a zero background logit.
        let patch = x.narrow(2, 0, 32).narrow(3, 8, 32);
        let logits = net.forward(&patch, false);
        assert_eq!(logits.size(), [2, 2]);
        let centre = net.heatmap(&patch, false).unwrap().select(2, 16).select(2, 16).squeeze_dim(1);
        assert_eq!(f64::try_from((logits.select(1, 1) - centre).abs().max()).unwrap(), 0.0);
        assert_eq!(f64::try_from(logits.select(1, 0).abs().max()).unwrap(), 0.0);
        // The decoder's names sit beside torchvision's.
        let names = vs.variables();
        for key in
            ["layer3.0.conv1.weight", "decoder.lateral.2.weight", "decoder.smooth.0.1.running_mean", "head.2.bias"]
        {
            assert!(names.contains_key(key), "{key}");
        }
        assert!(!names.contains_key("fc.weight"));
        let imagenet = ResNetConfig {
            head: Head::Heatmap { width: 8, extent: false, foreground: false },
            ..ResNetConfig::resnet18()
        };
        assert!(imagenet.validate().is_err());
    }
}
