//! ResNet (He et al. 2015) as torchvision builds it, with torchvision's
//! parameter names (`conv1`, `bn1`, `layer1.0.conv1`, `fc`, ...) so its
//! weights load without renaming. Width, depth and the stem are
//! configurable: objects of 5-25 px want a narrow network that keeps
//! resolution (the `small` stem: a 3x3 stride-1 convolution, no max-pool).

use serde::{Deserialize, Serialize};
use tch::nn::{self, ConvConfig, FuncT};

/// Residual block kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Block {
    /// Two 3x3 convolutions (ResNet-18/34).
    Basic,
    /// 1x1, 3x3, 1x1 with 4x expansion (ResNet-50 and deeper).
    Bottleneck,
}

/// The first layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stem {
    /// 7x7 stride-2 convolution and 3x3 stride-2 max-pool (ImageNet).
    Imagenet,
    /// 3x3 stride-1 convolution, no pool: for small patches.
    Small,
}

/// A ResNet's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResNetConfig {
    /// Block kind.
    pub block: Block,
    /// Blocks per stage; stage i has `width * 2^i` planes.
    pub layers: Vec<i64>,
    /// Planes of the first stage (64 in torchvision).
    pub width: i64,
    /// First layers.
    pub stem: Stem,
}

impl ResNetConfig {
    /// torchvision's ResNet-18.
    pub fn resnet18() -> Self {
        ResNetConfig { block: Block::Basic, layers: vec![2, 2, 2, 2], width: 64, stem: Stem::Imagenet }
    }
    /// torchvision's ResNet-34.
    pub fn resnet34() -> Self {
        ResNetConfig { block: Block::Basic, layers: vec![3, 4, 6, 3], width: 64, stem: Stem::Imagenet }
    }
    /// torchvision's ResNet-50.
    pub fn resnet50() -> Self {
        ResNetConfig { block: Block::Bottleneck, layers: vec![3, 4, 6, 3], width: 64, stem: Stem::Imagenet }
    }

    fn expansion(&self) -> i64 {
        match self.block {
            Block::Basic => 1,
            Block::Bottleneck => 4,
        }
    }

    /// Channels reaching the classifier.
    pub fn features(&self) -> i64 {
        self.width * (1 << (self.layers.len() as i64 - 1)) * self.expansion()
    }
}

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

/// The convolutional trunk: image in, feature map out (`features()` channels).
pub fn trunk(p: &nn::Path, c: &ResNetConfig, in_channels: i64) -> FuncT<'static> {
    let (k, pad, stride) = match c.stem {
        Stem::Imagenet => (7, 3, 2),
        Stem::Small => (3, 1, 1),
    };
    let conv1 = conv(p / "conv1", in_channels, c.width, k, pad, stride);
    let bn1 = bn(p / "bn1", c.width);
    let mut stages = nn::seq_t();
    let mut c_in = c.width;
    for (i, &n) in c.layers.iter().enumerate() {
        let planes = c.width << i;
        let lp = p / format!("layer{}", i + 1);
        for b in 0..n {
            let stride = if i > 0 && b == 0 { 2 } else { 1 };
            let block = match c.block {
                Block::Basic => basic(&lp / b.to_string(), c_in, planes, stride),
                Block::Bottleneck => bottleneck(&lp / b.to_string(), c_in, planes, stride),
            };
            stages = stages.add(block);
            c_in = planes * c.expansion();
        }
    }
    let pool = c.stem == Stem::Imagenet;
    nn::func_t(move |xs, train| {
        let ys = xs.apply(&conv1).apply_t(&bn1, train).relu();
        let ys = if pool { ys.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false) } else { ys };
        ys.apply_t(&stages, train)
    })
}

/// A ResNet classifier: trunk, global average pool, `fc`. Its parts stay
/// reachable for dense scoring.
pub struct ResNet {
    /// The convolutional trunk.
    pub trunk: FuncT<'static>,
    /// The classifier head.
    pub fc: nn::Linear,
    /// Input pixels per trunk output cell, along each axis.
    pub stride: i64,
}

impl ResNet {
    /// Logits of whole patches.
    pub fn forward(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
        xs.apply_t(&self.trunk, train).adaptive_avg_pool2d([1, 1]).flat_view().apply(&self.fc)
    }
}

/// Builds a ResNet classifier.
pub fn resnet(p: &nn::Path, c: &ResNetConfig, in_channels: i64, classes: i64) -> ResNet {
    let stem_stride = match c.stem {
        Stem::Imagenet => 4,
        Stem::Small => 1,
    };
    ResNet {
        trunk: trunk(p, c, in_channels),
        fc: nn::linear(p / "fc", c.features(), classes, Default::default()),
        stride: stem_stride << (c.layers.len() as i64 - 1),
    }
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
        let c = ResNetConfig { block: Block::Basic, layers: vec![1, 1, 1], width: 16, stem: Stem::Small };
        let net = resnet(&vs.root(), &c, 4, 2);
        let out = net.forward(&Tensor::zeros([5, 4, 32, 32], (Kind::Float, Device::Cpu)), false);
        assert_eq!(net.stride, 4);
        assert_eq!(out.size(), [5, 2]);
        assert!(params(&vs) < 200_000);
    }
}
