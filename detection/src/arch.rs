//! The shapes of the networks rsdetect builds, as plain data: what a model
//! file records and a training config names. The networks themselves (tch)
//! live in the models crate, built from these.

use serde::{Deserialize, Serialize};

/// A network and its shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Arch {
    /// A ResNet.
    Resnet(ResNetConfig),
    /// A GoogLeNet.
    Googlenet(GoogLeNetConfig),
}

impl Arch {
    /// A named architecture: resnet18, resnet34, resnet50, googlenet, the
    /// small variants resnet-small (3 basic stages of 16, 32, 64 planes, small
    /// stem) and googlenet-small (quarter width), and resnet-small-heatmap
    /// (resnet-small's trunk with a feature-pyramid decoder of 32 channels:
    /// a score at every pixel).
    pub fn named(name: &str) -> Option<Arch> {
        let small =
            |head| ResNetConfig { block: Block::Basic, layers: vec![2, 2, 2], width: 16, stem: Stem::Small, head };
        Some(match name {
            "resnet18" => Arch::Resnet(ResNetConfig::resnet18()),
            "resnet34" => Arch::Resnet(ResNetConfig::resnet34()),
            "resnet50" => Arch::Resnet(ResNetConfig::resnet50()),
            "resnet-small" => Arch::Resnet(small(Head::Pool)),
            "resnet-small-heatmap" => {
                Arch::Resnet(small(Head::Heatmap { width: 32, extent: false, foreground: false }))
            }
            "googlenet" => Arch::Googlenet(GoogLeNetConfig::standard(true)),
            "googlenet-small" => Arch::Googlenet(GoogLeNetConfig { width: 0.25, aux_logits: true }),
            _ => return None,
        })
    }

    /// The names [`Arch::named`] knows.
    pub const NAMES: [&'static str; 7] =
        ["resnet18", "resnet34", "resnet50", "resnet-small", "resnet-small-heatmap", "googlenet", "googlenet-small"];

    /// Whether the network scores every pixel (a heatmap head) rather than
    /// whole patches.
    pub fn is_heatmap(&self) -> bool {
        matches!(self, Arch::Resnet(c) if c.head != Head::Pool)
    }

    /// Whether the network has an extent head (see [`Head::Heatmap`]).
    pub fn has_extent(&self) -> bool {
        matches!(self, Arch::Resnet(ResNetConfig { head: Head::Heatmap { extent: true, .. }, .. }))
    }

    /// Whether the network has a foreground head (see [`Head::Heatmap`]).
    pub fn has_foreground(&self) -> bool {
        matches!(self, Arch::Resnet(ResNetConfig { head: Head::Heatmap { foreground: true, .. }, .. }))
    }

    /// The same network with a foreground head, for a heatmap network;
    /// others as they are.
    pub fn with_foreground(mut self) -> Arch {
        if let Arch::Resnet(ResNetConfig { head: Head::Heatmap { foreground, .. }, .. }) = &mut self {
            *foreground = true;
        }
        self
    }

    /// The same network with an extent head, for a heatmap network; others
    /// as they are.
    pub fn with_extent(mut self) -> Arch {
        if let Arch::Resnet(ResNetConfig { head: Head::Heatmap { extent, .. }, .. }) = &mut self {
            *extent = true;
        }
        self
    }

    /// Whether the network runs faster on the CPU with its activations laid
    /// out channels-last: GoogLeNet (libtorch's max-pool is far slower on
    /// channels-first tensors, 1.5 times overall on googlenet-small) and the
    /// heatmap networks (1.3 times); ResNet patch classifiers run about 10%
    /// slower that way (`throughput`, bench/README.md).
    pub fn prefers_channels_last(&self) -> bool {
        matches!(self, Arch::Googlenet(_)) || self.is_heatmap()
    }
}

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

/// What follows the trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Head {
    /// Global average pool and `fc`: one score per patch (torchvision's).
    #[default]
    Pool,
    /// A feature-pyramid decoder: one score per pixel, the score of the
    /// window centred there (see the models crate's `fpn`). Needs the small stem.
    Heatmap {
        /// Channels inside the decoder.
        width: i64,
        /// A second head learns each object's extent (the log of its
        /// radius in pixels) where training labels have one (boxes,
        /// polygons), so detections are outlined at the learned size.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        extent: bool,
        /// A third head learns, at each pixel, whether it belongs to an
        /// object (exactly from polygon labels, from the ellipse inscribed
        /// in box labels), so outlines follow each object's own shape.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        foreground: bool,
    },
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
    /// What follows the trunk.
    #[serde(default)]
    pub head: Head,
}

impl ResNetConfig {
    /// torchvision's ResNet-18.
    pub fn resnet18() -> Self {
        ResNetConfig {
            block: Block::Basic,
            layers: vec![2, 2, 2, 2],
            width: 64,
            stem: Stem::Imagenet,
            head: Head::Pool,
        }
    }
    /// torchvision's ResNet-34.
    pub fn resnet34() -> Self {
        ResNetConfig {
            block: Block::Basic,
            layers: vec![3, 4, 6, 3],
            width: 64,
            stem: Stem::Imagenet,
            head: Head::Pool,
        }
    }
    /// torchvision's ResNet-50.
    pub fn resnet50() -> Self {
        ResNetConfig {
            block: Block::Bottleneck,
            layers: vec![3, 4, 6, 3],
            width: 64,
            stem: Stem::Imagenet,
            head: Head::Pool,
        }
    }

    /// Output planes per plane of a block (4 for bottlenecks).
    pub fn expansion(&self) -> i64 {
        match self.block {
            Block::Basic => 1,
            Block::Bottleneck => 4,
        }
    }

    /// Channels reaching the classifier.
    pub fn features(&self) -> i64 {
        self.stage_channels().last().copied().unwrap_or(self.width)
    }

    /// Output channels of each stage.
    pub fn stage_channels(&self) -> Vec<i64> {
        (0..self.layers.len()).map(|i| (self.width << i) * self.expansion()).collect()
    }

    /// Input pixels per cell of the deepest stage, along each axis.
    pub fn stride(&self) -> i64 {
        let stem = match self.stem {
            Stem::Imagenet => 4,
            Stem::Small => 1,
        };
        stem << (self.layers.len() as i64 - 1).max(0)
    }

    /// Checks that the parts fit together.
    pub fn validate(&self) -> Result<(), String> {
        if self.layers.is_empty() || self.layers.len() > 6 || self.layers.iter().any(|&n| !(1..=64).contains(&n)) {
            return Err(format!("a ResNet needs 1 to 6 stages of 1 to 64 blocks, got {:?}", self.layers));
        }
        if !(1..=1024).contains(&self.width) {
            return Err(format!("a ResNet's width (planes of its first stage) lies in 1..=1024, got {}", self.width));
        }
        if let Head::Heatmap { width, .. } = self.head {
            if self.stem != Stem::Small || !(1..=1024).contains(&width) {
                return Err("a heatmap head needs the small stem and a decoder width in 1..=1024".into());
            }
        }
        Ok(())
    }
}

/// A GoogLeNet's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogLeNetConfig {
    /// Multiplier of every channel count (1.0: torchvision's).
    pub width: f64,
    /// Build the two auxiliary classifiers (used in training only).
    pub aux_logits: bool,
}

impl GoogLeNetConfig {
    /// torchvision's GoogLeNet.
    pub fn standard(aux_logits: bool) -> Self {
        GoogLeNetConfig { width: 1.0, aux_logits }
    }
}
