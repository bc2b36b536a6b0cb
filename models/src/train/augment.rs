//! Augmentation on the device: flips and quarter turns (outline rays
//! reordered with them), brightness and contrast, and what changes
//! between acquisitions of one place.

use crate::extent::{change, Change};
pub use detection::formats::training::Augment;
use tch::{Device, Kind, Tensor};

/// Random flips and 90° rotations per sample, the same for every channel
/// (so image, targets and mask stay aligned); with `rays`, the RAYS
/// channels from that index on are outline radii, reordered to keep
/// pointing their own way.
pub(super) fn flip_rotate(x: &Tensor, a: &Augment, rays: Option<i64>) -> Tensor {
    let n = x.size()[0];
    let dev = x.device();
    let coin = || Tensor::rand([n, 1, 1, 1], (Kind::Float, dev)).lt(0.5);
    let mut x = x.shallow_clone();
    if a.flips {
        x = change(&x, Change::MirrorX, rays).where_self(&coin(), &x);
        x = change(&x, Change::MirrorY, rays).where_self(&coin(), &x);
    }
    if a.rot90 && x.size()[2] == x.size()[3] {
        let k = Tensor::randint(4, [n, 1, 1, 1], (Kind::Int64, dev));
        for r in 1..4 {
            x = change(&x, Change::Rot90(r), rays).where_self(&k.eq(r), &x);
        }
    }
    x
}

/// Random brightness and contrast per sample, then the changes between
/// acquisitions that are switched on (see [`acquisition`]).
pub(super) fn photometric(x: &Tensor, a: &Augment) -> Tensor {
    let x = if a.contrast <= 0.0 && a.brightness <= 0.0 {
        x.shallow_clone()
    } else {
        let n = x.size()[0];
        let dev = x.device();
        let c = Tensor::rand([n, 1, 1, 1], (Kind::Float, dev)) * (2.0 * a.contrast) + (1.0 - a.contrast);
        let b = (Tensor::rand([n, 1, 1, 1], (Kind::Float, dev)) * 2.0 - 1.0) * a.brightness;
        let m = x.mean_dim([1i64, 2, 3].as_slice(), true, Kind::Float);
        (x - &m) * c + m + b
    };
    acquisition(&x, a)
}

/// A uniform draw in [-1, 1] of the given shape, on `x`'s device.
fn symmetric(x: &Tensor, shape: &[i64]) -> Tensor {
    Tensor::rand(shape, (Kind::Float, x.device())) * 2.0 - 1.0
}

/// What changes between acquisitions of the same place (sensor, season,
/// processing), on normalised N x C x H x W samples: per-band gain and
/// offset, gamma, saturation and hue (three bands), blur or sharpening,
/// noise. Each is drawn per sample, and only when switched on, so configs
/// without them draw the same random numbers as before they existed.
pub(super) fn acquisition(x: &Tensor, a: &Augment) -> Tensor {
    let (n, c) = (x.size()[0], x.size()[1]);
    let mut x = x.shallow_clone();
    if a.band_gain > 0.0 || a.band_offset > 0.0 {
        let gain = symmetric(&x, &[n, c, 1, 1]) * a.band_gain + 1.0;
        let offset = symmetric(&x, &[n, c, 1, 1]) * a.band_offset;
        x = x * gain + offset;
    }
    if a.gamma > 0.0 {
        // On each band's range within the sample, mapped to [0, 1] and back.
        let dims = [2i64, 3];
        let lo = x.amin(dims.as_slice(), true);
        let span = x.amax(dims.as_slice(), true) - &lo + 1e-6;
        let g = (symmetric(&x, &[n, 1, 1, 1]) * a.gamma).exp();
        x = ((&x - &lo) / &span).clamp(0.0, 1.0).pow(&g) * span + lo;
    }
    if c == 3 && (a.saturation > 0.0 || a.hue > 0.0) {
        let grey = x.mean_dim([1i64].as_slice(), true, Kind::Float);
        let mut chroma = &x - &grey;
        if a.hue > 0.0 {
            // Rodrigues' rotation about the grey axis (1, 1, 1) / sqrt 3,
            // one angle per sample: cos t * v + sin t * (k x v), k . v = 0.
            let t = symmetric(&x, &[n, 1, 1, 1]) * (a.hue * std::f64::consts::PI);
            let (r, g, b) = (chroma.narrow(1, 0, 1), chroma.narrow(1, 1, 1), chroma.narrow(1, 2, 1));
            let s3 = 1.0 / 3f64.sqrt();
            let cross = Tensor::cat(&[(&g * -1.0 + &b) * s3, (&r - &b) * s3, (&r * -1.0 + &g) * s3], 1);
            chroma = &chroma * t.cos() + cross * t.sin();
        }
        if a.saturation > 0.0 {
            chroma *= symmetric(&x, &[n, 1, 1, 1]) * a.saturation + 1.0;
        }
        x = grey + chroma;
    }
    if a.blur_sharpen > 0.0 {
        let k = Tensor::from_slice(&[1f32, 2., 1., 2., 4., 2., 1., 2., 1.]).to_device(x.device()) / 16.0;
        let kernel = k.view([1, 1, 3, 3]).repeat([c, 1, 1, 1]);
        let blurred = x.conv2d(&kernel, None::<Tensor>, [1, 1], [1, 1], [1, 1], c);
        let detail = symmetric(&x, &[n, 1, 1, 1]) * a.blur_sharpen + 1.0;
        x = &blurred + (&x - &blurred) * detail;
    }
    if a.noise > 0.0 {
        let sigma = Tensor::rand([n, 1, 1, 1], (Kind::Float, x.device())) * a.noise;
        x = &x + x.randn_like() * sigma;
    }
    x
}

pub(super) fn augment(x: &Tensor, a: &Augment) -> Tensor {
    let p = x.size()[2];
    let mut x = photometric(&flip_rotate(x, a, None), a);
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
