//! The facts of a raster that say whether a model fits it (ground sample
//! distance, band statistics over a sample of windows), judged by
//! [`detection::applicability::assess`].

use crate::raster::Raster;
use crate::Result;
use detection::applicability::{assess, Applicability, BandStats, RasterFacts};
use detection::{PatchSpec, PixelWindow};

/// Windows sampled along each axis, and their side: 9 windows of at most
/// 256 px read a few blocks of even the largest raster.
const SAMPLES_PER_AXIS: usize = 3;
const SAMPLE_SIDE: usize = 256;

/// Judges `raster` against the model `spec` describes, named `model` in
/// the fix the warnings give (`raster` opened with what the user declared,
/// so a stated ground sample distance counts).
pub fn check(raster: &Raster, spec: &PatchSpec, model: &str) -> Result<Applicability> {
    let gsd_m = raster.info().metres_per_pixel();
    let (stats, sampled_pixels) = match spec.training_stats {
        Some(_) => {
            let (stats, n) = sample_stats(raster, &spec.bands)?;
            (Some(stats), n)
        }
        None => (None, 0),
    };
    let facts = RasterFacts { gsd_m, bands: &spec.bands, stats: stats.as_ref(), sampled_pixels };
    let model_gsd_m = spec.gsd_m.unwrap_or(gsd_m.unwrap_or(1.0));
    // What fixes a misfit: the command that adapts the model to this imagery.
    let fine_tune = format!("fine-tune on a few labelled tiles of this imagery with rsdetect train --init {model}");
    Ok(assess(&facts, model_gsd_m, spec.learned_gsd_m, spec.training_stats.as_ref(), &fine_tune))
}

/// Mean and standard deviation of `bands` over the pixels with data of a
/// grid of windows spread over the raster (all of it when small).
fn sample_stats(raster: &Raster, bands: &[usize]) -> Result<(BandStats, usize)> {
    let (w, h) = raster.size();
    let starts = |n: usize| -> Vec<usize> {
        let side = n.min(SAMPLE_SIDE);
        if n <= SAMPLE_SIDE * SAMPLES_PER_AXIS {
            (0..n.div_ceil(side)).map(|i| (i * side).min(n - side)).collect()
        } else {
            (0..SAMPLES_PER_AXIS).map(|i| (n - side) * (2 * i + 1) / (2 * SAMPLES_PER_AXIS)).collect()
        }
    };
    let (sw, sh) = (w.min(SAMPLE_SIDE), h.min(SAMPLE_SIDE));
    let mut sum = vec![0f64; bands.len()];
    let mut sum_sq = vec![0f64; bands.len()];
    let mut n = 0usize;
    for &y in &starts(h) {
        for &x in &starts(w) {
            let data = raster.read_window::<f32>(PixelWindow::new(x, y, sw, sh), bands)?;
            for (i, (s, q)) in sum.iter_mut().zip(&mut sum_sq).enumerate() {
                for (&v, _) in data.band(i).iter().zip(&data.valid).filter(|(_, &ok)| ok) {
                    *s += v as f64;
                    *q += (v as f64) * (v as f64);
                }
            }
            n += data.valid_count();
        }
    }
    let count = n.max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
    let sd = sum_sq.iter().zip(&mean).map(|(q, m)| (q / count - m * m).max(0.0).sqrt()).collect();
    Ok((BandStats { mean, sd }, n))
}
