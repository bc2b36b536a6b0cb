//! Losses and figures on validation data: a patch classifier's loss and
//! accuracy, a heatmap network's loss and its peaks on each chip.

use super::data::{Chips, Data};
use crate::extent::{extent_loss, extent_target_tensors};
use crate::focal::centre_focal_loss;
use crate::forward::{heatmap_scores, normalise};
use crate::model_file::Model;
use detection::objects::ScoredPoint;
use tch::{Device, Kind, Tensor};

pub(super) fn loss_and_logits(model: &Model, x: &Tensor, y: &Tensor, train: bool) -> (Tensor, Tensor) {
    model.net.loss_and_logits(x, y, train)
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

/// Peaks of a heatmap network's scores on each chip, where there is data:
/// pixel centres in chip pixels and scores, above
/// [`crate::peaks::PEAK_FLOOR`].
pub fn chip_peaks(model: &Model, chips: &Chips) -> Vec<Vec<ScoredPoint>> {
    let dev = model.vs.device();
    tch::no_grad(|| {
        (0..chips.len() as i64)
            .map(|i| {
                let x = normalise(model, &chips.x.narrow(0, i, 1).to_device(dev));
                let Some(scores) = heatmap_scores(model, &x, model.meta.positive) else { return Vec::new() };
                let scores = scores.get(0).to_device(Device::Cpu) * chips.valid.get(i).get(0);
                crate::peaks::local_maxima(&scores, 1, crate::peaks::PEAK_FLOOR)
                    .into_iter()
                    .map(crate::peaks::pixel_centre)
                    .collect()
            })
            .collect()
    })
}

/// Focal loss of `chips` in evaluation mode, per object, plus the extent
/// loss where the network learns extents.
pub(super) fn evaluate_heatmap(model: &Model, chips: &Chips, targets: &Tensor, batch: usize) -> f64 {
    let dev = model.vs.device();
    let (mut loss, mut seen) = (0.0, 0usize);
    let size = chips.size();
    tch::no_grad(|| {
        for start in (0..chips.len()).step_by(batch) {
            let len = batch.min(chips.len() - start) as i64;
            let x = normalise(model, &chips.x.narrow(0, start as i64, len).to_device(dev));
            let t = targets.narrow(0, start as i64, len).to_device(dev);
            let v = chips.valid.narrow(0, start as i64, len).to_device(dev);
            let Some((logits, radii)) = model.net.heatmap_with_extent(&x, false) else { return };
            let mut l = f64::try_from(centre_focal_loss(&logits, &t, &v)).unwrap_or(f64::NAN);
            if let Some(radii) = radii {
                let (r, w) = extent_target_tensors(&chips.objects[start..start + len as usize], size, dev);
                l += f64::try_from(extent_loss(&radii, &r, &w, &v)).unwrap_or(f64::NAN);
            }
            loss += l * len as f64;
            seen += len as usize;
        }
    });
    loss / seen.max(1) as f64
}
