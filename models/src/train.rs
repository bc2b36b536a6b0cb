//! Training a patch classifier: seeded mini-batch training with
//! augmentation on the device, SGD or AdamW with a cosine schedule, and a
//! callback after each epoch (for checkpoints and logs).

use crate::model_file::{Model, Net};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// The optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// SGD with Nesterov momentum.
    Sgd,
    /// Adam with decoupled weight decay.
    Adam,
}

/// Augmentation applied to each training batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Augment {
    /// Random horizontal and vertical flips.
    pub flips: bool,
    /// Random 90° rotations.
    pub rot90: bool,
    /// Brightness shift, as a fraction of a band's standard deviation.
    pub brightness: f64,
    /// Contrast factor range: 1 ± this.
    pub contrast: f64,
    /// Scale factor range: 1 ± this (per batch).
    pub scale: f64,
}

impl Default for Augment {
    fn default() -> Self {
        Augment { flips: true, rot90: true, brightness: 0.2, contrast: 0.2, scale: 0.1 }
    }
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the training patches.
    pub epochs: usize,
    /// Patches per step.
    pub batch_size: usize,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Peak learning rate.
    pub lr: f64,
    /// Momentum (SGD).
    pub momentum: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Augmentation.
    pub augment: Augment,
    /// Seed of initialisation, shuffling and augmentation.
    pub seed: u64,
    /// Train only the classifier head (transfer learning).
    pub freeze_backbone: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 30,
            batch_size: 128,
            optimizer: Optimizer::Adam,
            lr: 2e-3,
            momentum: 0.9,
            weight_decay: 1e-4,
            augment: Augment::default(),
            seed: 1,
            freeze_backbone: false,
        }
    }
}

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

    /// Number of patches.
    pub fn len(&self) -> usize {
        self.y.size()[0] as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One epoch's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy (on augmented patches).
    pub train_acc: f64,
    /// Validation loss.
    pub val_loss: f64,
    /// Validation accuracy.
    pub val_acc: f64,
    /// Learning rate at the epoch's end.
    pub lr: f64,
    /// Wall seconds.
    pub seconds: f64,
}

/// Per-band mean and standard deviation of raw values, for the model file.
pub fn band_stats(x: &Tensor) -> (Vec<f32>, Vec<f32>) {
    let mean = x.mean_dim([0i64, 2, 3].as_slice(), false, Kind::Float);
    let std = x.std_dim([0i64, 2, 3].as_slice(), true, false).clamp_min(1e-3);
    (Vec::<f32>::try_from(mean).unwrap_or_default(), Vec::<f32>::try_from(std).unwrap_or_default())
}

fn normalise(model: &Model, x: &Tensor) -> Tensor {
    let n = model.meta.bands.len() as i64;
    let d = x.device();
    let mean = Tensor::from_slice(&model.meta.mean).view([1, n, 1, 1]).to_device(d);
    let std = Tensor::from_slice(&model.meta.std).view([1, n, 1, 1]).to_device(d);
    (x - mean) / std
}

fn augment(x: &Tensor, a: &Augment) -> Tensor {
    let n = x.size()[0];
    let p = x.size()[2];
    let dev = x.device();
    let coin = || Tensor::rand([n, 1, 1, 1], (Kind::Float, dev)).lt(0.5);
    let mut x = x.shallow_clone();
    if a.flips {
        x = x.flip([3]).where_self(&coin(), &x);
        x = x.flip([2]).where_self(&coin(), &x);
    }
    if a.rot90 {
        let k = Tensor::randint(4, [n, 1, 1, 1], (Kind::Int64, dev));
        for r in 1..4 {
            x = x.rot90(r, [2, 3]).where_self(&k.eq(r), &x);
        }
    }
    if a.contrast > 0.0 || a.brightness > 0.0 {
        let c = Tensor::rand([n, 1, 1, 1], (Kind::Float, dev)) * (2.0 * a.contrast) + (1.0 - a.contrast);
        let b = (Tensor::rand([n, 1, 1, 1], (Kind::Float, dev)) * 2.0 - 1.0) * a.brightness;
        let m = x.mean_dim([1i64, 2, 3].as_slice(), true, Kind::Float);
        x = (&x - &m) * c + m + b;
    }
    if a.scale > 0.0 {
        let s =
            1.0 + (f64::try_from(Tensor::rand([1], (Kind::Double, Device::Cpu))).unwrap_or(0.5) * 2.0 - 1.0) * a.scale;
        let q = ((p as f64 * s).round() as i64).max(4);
        if q != p {
            let y = x.upsample_bilinear2d([q, q], false, None, None);
            x = if q > p {
                let o = (q - p) / 2;
                y.narrow(2, o, p).narrow(3, o, p)
            } else {
                let (l, r) = ((p - q) / 2, p - q - (p - q) / 2);
                y.constant_pad_nd([l, r, l, r])
            };
        }
    }
    x
}

fn loss_and_logits(model: &Model, x: &Tensor, y: &Tensor, train: bool) -> (Tensor, Tensor) {
    match (&model.net, train) {
        (Net::Googlenet(g), true) => {
            let out = g.forward_all(x, true);
            let mut loss = out.logits.cross_entropy_for_logits(y);
            if let Some((a1, a2)) = &out.aux {
                loss += 0.3 * (a1.cross_entropy_for_logits(y) + a2.cross_entropy_for_logits(y));
            }
            (loss, out.logits)
        }
        _ => {
            let logits = model.net.forward(x, train);
            (logits.cross_entropy_for_logits(y), logits)
        }
    }
}

/// Loss and accuracy of `data` in evaluation mode.
pub fn evaluate(model: &Model, data: &Data, batch: usize) -> (f64, f64) {
    if data.is_empty() {
        return (0.0, 0.0);
    }
    let dev = model.vs.device();
    let (mut loss, mut correct) = (0.0, 0.0);
    tch::no_grad(|| {
        for start in (0..data.len()).step_by(batch) {
            let len = batch.min(data.len() - start) as i64;
            let x = normalise(model, &data.x.narrow(0, start as i64, len).to_device(dev));
            let y = data.y.narrow(0, start as i64, len).to_device(dev);
            let (l, logits) = loss_and_logits(model, &x, &y, false);
            loss += f64::try_from(l).unwrap_or(f64::NAN) * len as f64;
            correct += f64::try_from(logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Float)).unwrap_or(0.0);
        }
    });
    (loss / data.len() as f64, correct / data.len() as f64)
}

/// Trains `model` from epoch `start` (0 for a fresh run, the checkpoint's
/// epoch when resuming) to `cfg.epochs`. `on_step(step, steps, loss)` runs
/// after every step; `on_epoch` after every epoch, and may stop training by
/// returning an error.
pub fn train<E>(
    model: &mut Model,
    train: &Data,
    val: &Data,
    cfg: &TrainConfig,
    start: usize,
    on_step: &mut dyn FnMut(usize, usize, f64),
    on_epoch: &mut dyn FnMut(&EpochLog, &Model) -> Result<(), E>,
) -> Result<Vec<EpochLog>, E> {
    tch::manual_seed(cfg.seed as i64);
    let dev = model.vs.device();
    if cfg.freeze_backbone {
        for (name, t) in model.vs.variables() {
            if !(name.starts_with("fc.") || name.starts_with("aux")) {
                let _ = t.set_requires_grad(false);
            }
        }
    }
    let steps_per_epoch = train.len().div_ceil(cfg.batch_size).max(1);
    let total = steps_per_epoch * cfg.epochs;
    let mut opt = match cfg.optimizer {
        Optimizer::Adam => nn::AdamW { wd: cfg.weight_decay, ..Default::default() }.build(&model.vs, cfg.lr),
        Optimizer::Sgd => {
            nn::Sgd { momentum: cfg.momentum, wd: cfg.weight_decay, nesterov: true, ..Default::default() }
                .build(&model.vs, cfg.lr)
        }
    }
    .expect("optimiser over the model's variables");
    let lr_at = |step: usize| cfg.lr * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / total.max(1) as f64).cos());
    let mut logs = Vec::new();
    for epoch in start..cfg.epochs {
        // Reseed per epoch, so a resumed run continues as an uninterrupted one would.
        tch::manual_seed(cfg.seed as i64 + epoch as i64);
        let t0 = Instant::now();
        let order = Tensor::randperm(train.len() as i64, (Kind::Int64, Device::Cpu));
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0.0, 0usize);
        for s in 0..steps_per_epoch {
            let step = epoch * steps_per_epoch + s;
            opt.set_lr(lr_at(step));
            let from = (s * cfg.batch_size) as i64;
            let len = (cfg.batch_size as i64).min(train.len() as i64 - from);
            if len <= 0 {
                break;
            }
            let idx = order.narrow(0, from, len);
            let x = train.x.index_select(0, &idx).to_device(dev);
            let y = train.y.index_select(0, &idx).to_device(dev);
            let x = augment(&normalise(model, &x), &cfg.augment);
            let (loss, logits) = loss_and_logits(model, &x, &y, true);
            opt.backward_step(&loss);
            let l = f64::try_from(&loss).unwrap_or(f64::NAN);
            loss_sum += l * len as f64;
            correct += f64::try_from(logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Float)).unwrap_or(0.0);
            seen += len as usize;
            on_step(s + 1, steps_per_epoch, l);
        }
        let (val_loss, val_acc) = evaluate(model, val, 512);
        let log = EpochLog {
            epoch: epoch + 1,
            train_loss: loss_sum / seen.max(1) as f64,
            train_acc: correct / seen.max(1) as f64,
            val_loss,
            val_acc,
            lr: lr_at((epoch + 1) * steps_per_epoch),
            seconds: t0.elapsed().as_secs_f64(),
        };
        on_epoch(&log, model)?;
        logs.push(log);
    }
    Ok(logs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_file::{Arch, ModelMeta};

    fn toy() -> (Model, Data) {
        tch::manual_seed(0);
        // Bright centre (class 1) against dark centre (class 0), 3 bands, 16 px.
        let (n, p) = (64usize, 16usize);
        let mut values = Vec::new();
        let mut classes = Vec::new();
        for i in 0..n {
            let class = (i % 2) as u8;
            for _ in 0..3 {
                for y in 0..p {
                    for x in 0..p {
                        let centre = (6..10).contains(&x) && (6..10).contains(&y);
                        values.push(if centre && class == 1 {
                            200.0
                        } else {
                            80.0 + ((x * 7 + y * 3 + i) % 11) as f32
                        });
                    }
                }
            }
            classes.push(class);
        }
        let data = Data::new(&values, &classes, 3, p);
        let (mean, std) = band_stats(&data.x);
        let mut meta = ModelMeta::new(
            Arch::named("resnet-small").unwrap(),
            vec![1, 2, 3],
            p,
            0.5,
            vec!["background".into(), "object".into()],
        );
        meta.mean = mean;
        meta.std = std;
        (Model::new(meta, Device::Cpu).unwrap(), data)
    }

    #[test]
    fn a_few_steps_lower_the_loss_reproducibly() {
        let _rng = crate::rng_lock();
        let cfg = TrainConfig { epochs: 4, batch_size: 16, lr: 1e-2, ..TrainConfig::default() };
        let run = || {
            let (mut model, data) = toy();
            let before = evaluate(&model, &data, 64).0;
            let logs = train::<()>(&mut model, &data, &data, &cfg, 0, &mut |_, _, _| {}, &mut |_, _| Ok(())).unwrap();
            (before, logs)
        };
        let (before, logs) = run();
        let after = logs.last().unwrap().val_loss;
        assert!(after < before * 0.7, "loss {before} -> {after}");
        let (_, again) = run();
        assert_eq!(
            logs.iter().map(|l| l.train_loss).collect::<Vec<_>>(),
            again.iter().map(|l| l.train_loss).collect::<Vec<_>>()
        );
    }

    #[test]
    fn augmentation_keeps_shapes() {
        let _rng = crate::rng_lock();
        let x = Tensor::randn([8, 4, 32, 32], (Kind::Float, Device::Cpu));
        for scale in [0.0, 0.3] {
            let a = Augment { scale, ..Augment::default() };
            for _ in 0..5 {
                assert_eq!(augment(&x, &a).size(), [8, 4, 32, 32]);
            }
        }
    }
}
