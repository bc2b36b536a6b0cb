//! What a foreground head learns, pixel by pixel: where labels say (a
//! polygon's pixels, a box's inscribed ellipse, background outside every
//! object) by binary cross-entropy, and where they do not (a box's
//! corners) from the imagery: neighbouring pixels of like colour take the
//! same side (the pairwise term of BoxInst, Tian et al. 2021), so an
//! object's edge follows what the image shows, not its box.

use crate::focal::pixel_bce;
use tch::{Kind, Tensor};

/// Colour distance (in normalised units, squared, summed over bands) under
/// which two neighbours count as alike.
const ALIKE: f64 = 0.5;

/// Mean binary cross-entropy of foreground logits (N x 1 x H x W) against
/// `foreground` (0, 1, or 255 unknown) over known pixels where `valid`,
/// plus the pairwise term over the unknown ones.
pub fn foreground_loss(logits: &Tensor, foreground: &Tensor, valid: &Tensor, image: &Tensor) -> Tensor {
    let known = foreground.ne(255.0).to_kind(Kind::Float) * valid;
    let object = foreground.eq(1.0).to_kind(Kind::Float);
    let bce = pixel_bce(logits, &object, &known);
    let unknown = foreground.eq(255.0).to_kind(Kind::Float) * valid;
    bce + dice(logits, &object, &known) + 0.3 * pairwise(logits, image, &unknown)
}

/// One minus the Dice overlap of the head's map with the object pixels,
/// over known pixels: objects are a few percent of a scene, so
/// cross-entropy alone keeps an object's inside under even odds long after
/// the background is learned; the overlap counts object pixels as much as
/// all the rest.
fn dice(logits: &Tensor, object: &Tensor, known: &Tensor) -> Tensor {
    let p = logits.sigmoid() * known;
    let t = object * known;
    let overlap = (&p * &t).sum(Kind::Float);
    1.0 - (overlap * 2.0 + 1.0) / (p.sum(Kind::Float) + t.sum(Kind::Float) + 1.0)
}

/// Neighbours (right, down, and both diagonals, two pixels apart) of like
/// colour where either lies in `mask`: minus the log of the chance the
/// head puts them on the same side, averaged.
fn pairwise(logits: &Tensor, image: &Tensor, mask: &Tensor) -> Tensor {
    let (h, w) = (logits.size()[2], logits.size()[3]);
    let p = logits.sigmoid();
    let mut sum = Tensor::zeros([], (Kind::Float, logits.device()));
    let mut count = Tensor::zeros([], (Kind::Float, logits.device()));
    for (dy, dx) in [(0i64, 2i64), (2, 0), (2, 2), (2, -2)] {
        let cut = |t: &Tensor, y: i64, x: i64| t.narrow(2, y, h - dy).narrow(3, x, w - dx.abs());
        let (ax, bx) = if dx >= 0 { (0, dx) } else { (-dx, 0) };
        let (pa, pb) = (cut(&p, 0, ax), cut(&p, dy, bx));
        let alike = (cut(image, 0, ax) - cut(image, dy, bx)).square().sum_dim_intlist(1, true, Kind::Float).le(ALIKE);
        let either = (cut(mask, 0, ax) + cut(mask, dy, bx)).gt(0.0);
        let weight = (alike.logical_and(&either)).to_kind(Kind::Float);
        let same: Tensor = &pa * &pb + (pa.ones_like() - &pa) * (pb.ones_like() - &pb);
        sum += -(same.clamp_min(1e-6).log() * &weight).sum(Kind::Float);
        count += weight.sum(Kind::Float);
    }
    sum / count.clamp_min(1.0)
}
