//! A feature-pyramid decoder (Lin et al. 2017) that turns a ResNet trunk's
//! stages back into a full-resolution map: the deepest stage is upsampled
//! step by step, each step adding a 1x1 projection of the stage at that
//! resolution and smoothing with a 3x3 convolution, then a small head gives
//! one logit per pixel and object class. Each output pixel is the score of
//! the window centred on it, so the map is the trunk's patch classifier run
//! at every pixel at once; trunk weights keep torchvision's names, the
//! decoder's live under `decoder.` and `head.`. An optional second head
//! (`extent.`) reads the same decoder features and gives, at each pixel,
//! the log of the outline radius along each ray (see `detection::outline`)
//! of an object centred there, learned where labels have an extent; an
//! optional third (`foreground.`), at each pixel, the logit that the pixel
//! belongs to an object.

use tch::nn::{self, ConvConfig};
use tch::Tensor;

/// The decoder and head.
#[derive(Debug)]
pub struct Fpn {
    lateral: Vec<nn::Conv2D>,
    smooth: Vec<(nn::Conv2D, nn::BatchNorm)>,
    head: (nn::Conv2D, nn::Conv2D),
    extent: Option<(nn::Conv2D, nn::Conv2D)>,
    foreground: Option<(nn::Conv2D, nn::Conv2D)>,
}

/// What the decoder's heads give for a batch: N x C x H x W logit maps, and
/// with those heads the log-radius maps (N x RAYS x H x W) and the
/// foreground logits (N x 1 x H x W).
#[derive(Debug)]
pub struct HeatmapMaps {
    /// The score logits.
    pub logits: Tensor,
    /// The extent head's log radii.
    pub radii: Option<Tensor>,
    /// The foreground head's logits.
    pub foreground: Option<Tensor>,
}

/// Log-odds of the prior an untrained head starts from (objects are rare
/// pixels: about one in ten near an object), so early training is stable.
const PRIOR_LOGIT: f64 = -2.19;

/// The log-radius (pixels) an untrained extent head starts from: objects
/// about 10 px across, the middle of what the shipped models know.
const PRIOR_LOG_RADIUS: f64 = 1.6;

/// Log-odds an untrained foreground head starts from: a pixel is an
/// object's about one time in four.
const PRIOR_FOREGROUND_LOGIT: f64 = -1.1;

/// Builds the decoder for trunk stages of `stages` channels (shallowest
/// first, each at half the resolution of the one before), `width` channels
/// inside, `outputs` maps out, and with `extent` and `foreground` those heads.
pub fn fpn(p: &nn::Path, stages: &[i64], width: i64, outputs: i64, extent: bool, foreground: bool) -> Fpn {
    let d = p / "decoder";
    let lateral = stages
        .iter()
        .enumerate()
        .map(|(i, &c)| nn::conv2d(&d / "lateral" / i, c, width, 1, Default::default()))
        .collect();
    let smooth = (0..stages.len().saturating_sub(1))
        .map(|i| {
            let s = &d / "smooth" / i;
            let conv =
                nn::conv2d(&s / "0", width, width, 3, ConvConfig { padding: 1, bias: false, ..Default::default() });
            (conv, nn::batch_norm2d(&s / "1", width, Default::default()))
        })
        .collect();
    let h = p / "head";
    let first = nn::conv2d(&h / "0", width, width, 3, ConvConfig { padding: 1, ..Default::default() });
    let last = nn::conv2d(
        &h / "2",
        width,
        outputs,
        1,
        ConvConfig { bs_init: nn::Init::Const(PRIOR_LOGIT), ..Default::default() },
    );
    let extent = extent.then(|| {
        let e = p / "extent";
        let conv = nn::conv2d(&e / "0", width, width, 3, ConvConfig { padding: 1, ..Default::default() });
        let rays = detection::outline::RAYS as i64;
        let out = nn::conv2d(
            &e / "2",
            width,
            rays,
            1,
            ConvConfig { bs_init: nn::Init::Const(PRIOR_LOG_RADIUS), ..Default::default() },
        );
        (conv, out)
    });
    let foreground = foreground.then(|| {
        let f = p / "foreground";
        let conv = nn::conv2d(&f / "0", width, width, 3, ConvConfig { padding: 1, ..Default::default() });
        let out = nn::conv2d(
            &f / "2",
            width,
            1,
            1,
            ConvConfig { bs_init: nn::Init::Const(PRIOR_FOREGROUND_LOGIT), ..Default::default() },
        );
        (conv, out)
    });
    Fpn { lateral, smooth, head: (first, last), extent, foreground }
}

impl Fpn {
    /// Logit maps at the resolution of the first stage, from every stage's
    /// output (shallowest first).
    pub fn forward(&self, stages: &[Tensor], train: bool) -> Tensor {
        self.features(stages, train).apply(&self.head.0).relu().apply(&self.head.1)
    }

    /// The logit maps and, with an extent head, the log-radius maps (N x
    /// RAYS x H x W), from the same decoder features.
    pub fn forward_with_extent(&self, stages: &[Tensor], train: bool) -> (Tensor, Option<Tensor>) {
        let maps = self.forward_maps(stages, train, false);
        (maps.logits, maps.radii)
    }

    /// Every head's maps from the same decoder features (the foreground
    /// head's only when `foreground` is asked for).
    pub fn forward_maps(&self, stages: &[Tensor], train: bool, foreground: bool) -> HeatmapMaps {
        let y = self.features(stages, train);
        let head = |h: &Option<(nn::Conv2D, nn::Conv2D)>| h.as_ref().map(|(conv, out)| y.apply(conv).relu().apply(out));
        HeatmapMaps {
            logits: y.apply(&self.head.0).relu().apply(&self.head.1),
            radii: head(&self.extent),
            foreground: if foreground { head(&self.foreground) } else { None },
        }
    }

    /// The decoder's features at the resolution of the first stage.
    fn features(&self, stages: &[Tensor], train: bool) -> Tensor {
        let last = stages.len() - 1;
        let mut y = stages[last].apply(&self.lateral[last]);
        for i in (0..last).rev() {
            let skip = stages[i].apply(&self.lateral[i]);
            let (h, w) = (skip.size()[2], skip.size()[3]);
            y = y.upsample_nearest2d([h, w], None, None) + skip;
            let (conv, bn) = &self.smooth[i];
            y = y.apply(conv).apply_t(bn, train).relu();
        }
        y
    }
}
