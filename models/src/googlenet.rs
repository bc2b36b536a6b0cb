//! GoogLeNet (Inception v1, Szegedy et al. 2014) as torchvision builds it:
//! BasicConv2d (convolution without bias, batch norm with eps 0.001, ReLU),
//! ceil-mode max-pools, the 3x3 convolution torchvision uses in the "5x5"
//! branch, optional auxiliary heads, and torchvision's parameter names.
//! `width` scales every channel count, for small objects and small models.

use tch::nn::{self, ConvConfig, FuncT, ModuleT};
use tch::Tensor;

pub use detection::arch::GoogLeNetConfig;

/// Outputs in training mode: main logits and, when built, auxiliary ones.
pub struct GoogLeNetOutput {
    /// Main classifier.
    pub logits: Tensor,
    /// The two auxiliary classifiers.
    pub aux: Option<(Tensor, Tensor)>,
}

fn basic_conv(p: nn::Path, c_in: i64, c_out: i64, k: i64, stride: i64, padding: i64) -> FuncT<'static> {
    let conv =
        nn::conv2d(&p / "conv", c_in, c_out, k, ConvConfig { stride, padding, bias: false, ..Default::default() });
    let bn = nn::batch_norm2d(&p / "bn", c_out, nn::BatchNormConfig { eps: 0.001, ..Default::default() });
    nn::func_t(move |xs, train| xs.apply(&conv).apply_t(&bn, train).relu())
}

fn pool(xs: &Tensor, k: i64, s: i64, pad: i64) -> Tensor {
    xs.max_pool2d([k, k], [s, s], [pad, pad], [1, 1], true)
}

/// Channel counts of one inception block: 1x1, 3x3 reduce, 3x3, "5x5"
/// reduce, "5x5", pool projection.
type Widths = [i64; 6];

fn inception(p: nn::Path, c_in: i64, w: Widths) -> (FuncT<'static>, i64) {
    let b1 = basic_conv(&p / "branch1", c_in, w[0], 1, 1, 0);
    let b2a = basic_conv(&p / "branch2" / "0", c_in, w[1], 1, 1, 0);
    let b2b = basic_conv(&p / "branch2" / "1", w[1], w[2], 3, 1, 1);
    let b3a = basic_conv(&p / "branch3" / "0", c_in, w[3], 1, 1, 0);
    let b3b = basic_conv(&p / "branch3" / "1", w[3], w[4], 3, 1, 1);
    let b4 = basic_conv(&p / "branch4" / "1", c_in, w[5], 1, 1, 0);
    let out = w[0] + w[2] + w[4] + w[5];
    let f = nn::func_t(move |xs, train| {
        Tensor::cat(
            &[
                xs.apply_t(&b1, train),
                xs.apply_t(&b2a, train).apply_t(&b2b, train),
                xs.apply_t(&b3a, train).apply_t(&b3b, train),
                pool(xs, 3, 1, 1).apply_t(&b4, train),
            ],
            1,
        )
    });
    (f, out)
}

fn aux_head(p: nn::Path, c_in: i64, classes: i64, width: f64) -> FuncT<'static> {
    let c = ((128.0 * width).round() as i64).max(1);
    let hidden = ((1024.0 * width).round() as i64).max(1);
    let conv = basic_conv(&p / "conv", c_in, c, 1, 1, 0);
    let fc1 = nn::linear(&p / "fc1", c * 16, hidden, Default::default());
    let fc2 = nn::linear(&p / "fc2", hidden, classes, Default::default());
    nn::func_t(move |xs, train| {
        xs.adaptive_avg_pool2d([4, 4])
            .apply_t(&conv, train)
            .flatten(1, -1)
            .apply(&fc1)
            .relu()
            .dropout(0.7, train)
            .apply(&fc2)
    })
}

/// torchvision's inception blocks, in order.
const BLOCKS: [(&str, Widths); 9] = [
    ("inception3a", [64, 96, 128, 16, 32, 32]),
    ("inception3b", [128, 128, 192, 32, 96, 64]),
    ("inception4a", [192, 96, 208, 16, 48, 64]),
    ("inception4b", [160, 112, 224, 24, 64, 64]),
    ("inception4c", [128, 128, 256, 24, 64, 64]),
    ("inception4d", [112, 144, 288, 32, 64, 64]),
    ("inception4e", [256, 160, 320, 32, 128, 128]),
    ("inception5a", [256, 160, 320, 32, 128, 128]),
    ("inception5b", [384, 192, 384, 48, 128, 128]),
];

/// A GoogLeNet classifier. In training mode with auxiliary heads, use
/// [`googlenet_train`] to get their logits too.
pub struct GoogLeNet {
    stem: FuncT<'static>,
    blocks: Vec<FuncT<'static>>,
    fc: nn::Linear,
    aux: Option<(FuncT<'static>, FuncT<'static>)>,
}

/// Builds a GoogLeNet with `in_channels` bands and `classes` outputs.
pub fn googlenet(p: &nn::Path, c: &GoogLeNetConfig, in_channels: i64, classes: i64) -> GoogLeNet {
    let s = |n: i64| ((n as f64 * c.width).round() as i64).max(1);
    let conv1 = basic_conv(p / "conv1", in_channels, s(64), 7, 2, 3);
    let conv2 = basic_conv(p / "conv2", s(64), s(64), 1, 1, 0);
    let conv3 = basic_conv(p / "conv3", s(64), s(192), 3, 1, 1);
    let stem = nn::func_t(move |xs, train| {
        let ys = pool(&xs.apply_t(&conv1, train), 3, 2, 0);
        pool(&ys.apply_t(&conv2, train).apply_t(&conv3, train), 3, 2, 0)
    });
    let mut c_in = s(192);
    let mut blocks = Vec::new();
    for (name, w) in BLOCKS {
        let (f, out) = inception(p / name, c_in, w.map(s));
        blocks.push(f);
        c_in = out;
    }
    // aux1 reads the output of 4a (input of 4b), aux2 that of 4d.
    let aux1_in = s(192) + s(208) + s(48) + s(64);
    let aux2_in = s(112) + s(288) + s(64) + s(64);
    let aux = c
        .aux_logits
        .then(|| (aux_head(p / "aux1", aux1_in, classes, c.width), aux_head(p / "aux2", aux2_in, classes, c.width)));
    let fc = nn::linear(p / "fc", c_in, classes, Default::default());
    GoogLeNet { stem, blocks, fc, aux }
}

impl GoogLeNet {
    /// Number of inception blocks.
    pub fn depth(&self) -> usize {
        self.blocks.len()
    }

    /// Input pixels per cell of block `i`'s output (0-based): the stem
    /// divides by 8, the pools after blocks 1 and 6 by 2 each.
    pub fn block_stride(i: usize) -> i64 {
        8 << ((i > 1) as i64 + (i > 6) as i64)
    }

    /// The output of block `last`: the stem and blocks up to it, with the
    /// pools between them but not the one after it.
    pub fn through(&self, xs: &Tensor, last: usize, train: bool) -> Tensor {
        let mut ys = xs.apply_t(&self.stem, train);
        for i in 0..=last {
            if i == 2 {
                ys = pool(&ys, 3, 2, 0);
            }
            if i == 7 {
                ys = pool(&ys, 2, 2, 0);
            }
            ys = ys.apply_t(&self.blocks[i], train);
        }
        ys
    }

    /// Logits from block `last`'s output: the blocks after it and the head.
    pub fn logits_after(&self, ys: &Tensor, last: usize, train: bool) -> Tensor {
        let mut ys = ys.shallow_clone();
        for i in last + 1..self.blocks.len() {
            if i == 2 {
                ys = pool(&ys, 3, 2, 0);
            }
            if i == 7 {
                ys = pool(&ys, 2, 2, 0);
            }
            ys = ys.apply_t(&self.blocks[i], train);
        }
        ys.adaptive_avg_pool2d([1, 1]).flatten(1, -1).dropout(0.2, train).apply(&self.fc)
    }

    /// Grad-CAM's split: the features of `x` at the deepest block with at
    /// least `min_cells` cells across the patch, and the rest of the network
    /// from them to the logits.
    pub fn cam_split<'a>(&'a self, x: &Tensor, min_cells: i64) -> (Tensor, crate::model_file::Rest<'a>) {
        let p = x.size()[3];
        let layer = (0..self.depth()).rev().find(|&i| p / GoogLeNet::block_stride(i) >= min_cells).unwrap_or(0);
        let f = self.through(x, layer, false);
        (f, Box::new(move |f: &Tensor| self.logits_after(f, layer, false)))
    }

    /// The training loss of a batch and its logits: cross-entropy, with the
    /// auxiliary heads' (weighted 0.3, as the paper) while training.
    pub fn loss_and_logits(&self, x: &Tensor, y: &Tensor, train: bool) -> (Tensor, Tensor) {
        let out = self.forward_all(x, train);
        let mut loss = out.logits.cross_entropy_for_logits(y);
        if let Some((a1, a2)) = &out.aux {
            loss += 0.3 * (a1.cross_entropy_for_logits(y) + a2.cross_entropy_for_logits(y));
        }
        (loss, out.logits)
    }

    /// Logits, and auxiliary logits when training with auxiliary heads.
    pub fn forward_all(&self, xs: &Tensor, train: bool) -> GoogLeNetOutput {
        let mut ys = xs.apply_t(&self.stem, train);
        let mut aux_out = (None, None);
        for (i, block) in self.blocks.iter().enumerate() {
            // Max-pools between stages 3 and 4 (after block 1) and 4 and 5 (after block 6).
            ys = ys.apply_t(block, train);
            if i == 1 {
                ys = pool(&ys, 3, 2, 0);
            }
            if i == 6 {
                ys = pool(&ys, 2, 2, 0);
            }
            if let (true, Some((a1, a2))) = (train, &self.aux) {
                if i == 2 {
                    aux_out.0 = Some(ys.apply_t(a1, train));
                }
                if i == 5 {
                    aux_out.1 = Some(ys.apply_t(a2, train));
                }
            }
        }
        let logits = ys.adaptive_avg_pool2d([1, 1]).flatten(1, -1).dropout(0.2, train).apply(&self.fc);
        let aux = match aux_out {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        GoogLeNetOutput { logits, aux }
    }
}

impl std::fmt::Debug for GoogLeNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GoogLeNet({} inception blocks)", self.blocks.len())
    }
}

impl ModuleT for GoogLeNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.forward_all(xs, train).logits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn torchvision_parameter_count_and_names() {
        let _rng = crate::rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = googlenet(&vs.root(), &GoogLeNetConfig::standard(false), 3, 1000);
        let n: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
        assert_eq!(n, 6_624_904);
        let names = vs.variables();
        for key in [
            "conv1.conv.weight",
            "conv3.bn.running_mean",
            "inception3a.branch2.1.conv.weight",
            "inception5b.branch4.1.bn.bias",
            "fc.weight",
        ] {
            assert!(names.contains_key(key), "{key}");
        }
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = googlenet(&vs.root(), &GoogLeNetConfig::standard(true), 3, 1000);
        let n: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
        assert_eq!(n, 13_004_888);
    }

    #[test]
    fn aux_heads_run_in_training_only() {
        let _rng = crate::rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let net = googlenet(&vs.root(), &GoogLeNetConfig { width: 0.25, aux_logits: true }, 4, 2);
        let x = Tensor::zeros([2, 4, 64, 64], (Kind::Float, Device::Cpu));
        let out = net.forward_all(&x, true);
        assert_eq!(out.logits.size(), [2, 2]);
        assert_eq!(out.aux.unwrap().0.size(), [2, 2]);
        assert!(net.forward_all(&x, false).aux.is_none());
    }
}
