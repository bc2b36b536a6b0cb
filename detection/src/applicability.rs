//! Whether a model fits a raster: its ground sample distance and band
//! statistics against the model card's, judged before a run, with one
//! warning line per fact that is off.

use serde::{Deserialize, Serialize};

/// Per-band mean and standard deviation of some imagery, in raw values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandStats {
    /// Mean of each band, in the model's band order.
    pub mean: Vec<f64>,
    /// Standard deviation of each band, in the same order.
    pub sd: Vec<f64>,
}

/// The imagery a model learned from, when the network saw it resampled:
/// its own ground sample distance and band statistics. A raster is judged
/// against these (a model tuned on 0.1 m imagery seen at 0.6 m fits 0.1 m
/// imagery), not against the scale the network runs at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Imagery {
    /// The finest and coarsest ground sample distance of the training
    /// rasters, metres.
    pub gsd_m: [f64; 2],
    /// Their band statistics, in the model's band order.
    pub stats: BandStats,
}

/// One band of a raster against the training imagery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandFit {
    /// The raster's band, 1-based.
    pub band: usize,
    /// Its mean over the pixels sampled.
    pub mean: f64,
    /// Its standard deviation over the pixels sampled.
    pub sd: f64,
    /// How far its mean lies from the training imagery's, in the training
    /// imagery's standard deviations.
    pub mean_offset_sd: f64,
    /// Its standard deviation over the training imagery's.
    pub contrast_ratio: f64,
}

/// What `run.json` records of a raster's fit to the model, and the
/// warnings drawn from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicability {
    /// The raster's own ground sample distance (or the one the user
    /// stated), metres; none when unknown.
    pub gsd_m: Option<f64>,
    /// The model's ground sample distance, metres.
    pub model_gsd_m: f64,
    /// Raster metres per pixel over the model's: above 1 the raster is
    /// coarser and is upsampled, below 1 it is finer and averaged down.
    pub resampling_factor: Option<f64>,
    /// The model's bands, in its order, when the model card holds the
    /// training imagery's statistics.
    pub bands: Vec<BandFit>,
    /// Pixels sampled per band.
    pub sampled_pixels: usize,
    /// One line per fact that is off, each with the number and the fix.
    pub warnings: Vec<String>,
}

/// Resampling beyond this factor either way (raster over model metres per
/// pixel) warns: objects then look unlike anything trained on, blurred when
/// upsampled, smoothed of texture when averaged down.
pub const MAX_RESAMPLING: f64 = 2.0;

/// A band mean further than this from the training imagery's, in its
/// standard deviations, warns. The 256 px NAIP tiles of training and
/// validation reach 1.7 (whole tiles of roof or of lawn).
pub const MAX_MEAN_OFFSET_SD: f64 = 2.0;

/// A band's contrast (standard deviation) outside these multiples of the
/// training imagery's warns; NAIP tiles span 0.28 to 1.46.
pub const CONTRAST_RANGE: (f64, f64) = (0.2, 2.5);

/// The facts of one raster that [`assess`] judges.
#[derive(Debug, Clone, PartialEq)]
pub struct RasterFacts<'a> {
    /// Ground sample distance, metres (stated by the raster or the user).
    pub gsd_m: Option<f64>,
    /// The model's bands (1-based), in its order.
    pub bands: &'a [usize],
    /// Those bands' statistics over the pixels sampled.
    pub stats: Option<&'a BandStats>,
    /// Pixels sampled.
    pub sampled_pixels: usize,
}

/// Judges a raster against a model trained at `model_gsd_m` on imagery
/// with `training` statistics, or, when it learned from resampled imagery,
/// against that imagery's own ground sample distances (`learned_gsd_m`,
/// finest and coarsest); `fine_tune` names the fix the warnings give.
pub fn assess(
    facts: &RasterFacts,
    model_gsd_m: f64,
    learned_gsd_m: Option<[f64; 2]>,
    training: Option<&BandStats>,
    fine_tune: &str,
) -> Applicability {
    let mut warnings = Vec::new();
    let resampling_factor = facts.gsd_m.map(|g| g / model_gsd_m);
    let fits_learned = |g: f64, [lo, hi]: [f64; 2]| (lo / MAX_RESAMPLING..=hi * MAX_RESAMPLING).contains(&g);
    match (facts.gsd_m, resampling_factor, learned_gsd_m) {
        (Some(g), _, Some(learned)) if !fits_learned(g, learned) => warnings.push(format!(
            "ground sample distance {g:.2} m against the {} m imagery the model learned from: beyond the {MAX_RESAMPLING}x it fits: expect lower accuracy; {fine_tune}",
            if learned[0] == learned[1] { format!("{:.2}", learned[0]) } else { format!("{:.2}-{:.2}", learned[0], learned[1]) },
        )),
        (Some(_), _, Some(_)) => {}
        (Some(g), Some(f), None) if !(1.0 / MAX_RESAMPLING..=MAX_RESAMPLING).contains(&f) => warnings.push(format!(
            "ground sample distance {g:.2} m against the model's {model_gsd_m:.2} m: resampled {}x {}, beyond the {MAX_RESAMPLING}x the model fits: expect lower accuracy; {fine_tune}",
            format_args!("{:.1}", f.max(1.0 / f)),
            if f < 1.0 { "coarser" } else { "finer" },
        )),
        (None, _, _) => warnings.push(format!(
            "ground sample distance unknown (no georeferencing): assumed to be the model's {model_gsd_m:.2} m, so objects may be at the wrong scale; state it with --input-gsd"
        )),
        _ => {}
    }
    let mut bands = Vec::new();
    if let (Some(stats), Some(train)) = (facts.stats, training) {
        for (i, &band) in facts.bands.iter().enumerate() {
            let (Some(&mean), Some(&sd), Some(&t_mean), Some(&t_sd)) =
                (stats.mean.get(i), stats.sd.get(i), train.mean.get(i), train.sd.get(i))
            else {
                continue;
            };
            let fit = BandFit { band, mean, sd, mean_offset_sd: (mean - t_mean) / t_sd, contrast_ratio: sd / t_sd };
            if fit.mean_offset_sd.abs() > MAX_MEAN_OFFSET_SD {
                warnings.push(format!(
                    "band {band} mean {:.1} sd from the training imagery: expect lower accuracy; {fine_tune}",
                    fit.mean_offset_sd
                ));
            } else if !(CONTRAST_RANGE.0..=CONTRAST_RANGE.1).contains(&fit.contrast_ratio) {
                warnings.push(format!(
                    "band {band} contrast {:.2}x the training imagery's: expect lower accuracy; {fine_tune}",
                    fit.contrast_ratio
                ));
            }
            bands.push(fit);
        }
    }
    Applicability {
        gsd_m: facts.gsd_m,
        model_gsd_m,
        resampling_factor,
        bands,
        sampled_pixels: facts.sampled_pixels,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn training() -> BandStats {
        BandStats { mean: vec![116.0, 117.0, 108.0], sd: vec![44.0, 38.0, 38.0] }
    }

    #[test]
    fn imagery_like_the_training_set_passes() {
        let stats = BandStats { mean: vec![120.0, 110.0, 100.0], sd: vec![40.0, 35.0, 30.0] };
        let facts = RasterFacts { gsd_m: Some(0.6), bands: &[1, 2, 3], stats: Some(&stats), sampled_pixels: 100 };
        let a = assess(&facts, 0.6, None, Some(&training()), "fine-tune");
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
        assert_eq!(a.bands.len(), 3);
        assert!((a.bands[0].mean_offset_sd - 4.0 / 44.0).abs() < 1e-12);
    }

    #[test]
    fn each_fact_that_is_off_warns_with_its_number() {
        let stats = BandStats { mean: vec![116.0, 117.0 + 3.4 * 38.0, 108.0], sd: vec![44.0, 38.0, 3.8] };
        let facts = RasterFacts { gsd_m: Some(0.1), bands: &[1, 2, 3], stats: Some(&stats), sampled_pixels: 100 };
        let a = assess(&facts, 0.6, None, Some(&training()), "fine-tune");
        assert_eq!(a.warnings.len(), 3, "{:?}", a.warnings);
        assert!(a.warnings[0].contains("0.10 m") && a.warnings[0].contains("6.0x"), "{}", a.warnings[0]);
        assert!(a.warnings[1].starts_with("band 2 mean 3.4 sd"), "{}", a.warnings[1]);
        assert!(a.warnings[2].starts_with("band 3 contrast 0.10x"), "{}", a.warnings[2]);
    }

    #[test]
    fn a_model_that_learned_from_resampled_imagery_fits_that_imagery() {
        // Tuned on 0.1 m imagery, seen at 0.6 m.
        let learned = Some([0.1, 0.1]);
        let at = |g: f64| RasterFacts { gsd_m: Some(g), bands: &[1, 2, 3], stats: None, sampled_pixels: 0 };
        assert!(assess(&at(0.1), 0.6, learned, None, "fine-tune").warnings.is_empty());
        assert!(assess(&at(0.18), 0.6, learned, None, "fine-tune").warnings.is_empty());
        let far = assess(&at(0.6), 0.6, learned, None, "fine-tune");
        assert!(far.warnings[0].contains("the 0.10 m imagery the model learned from"), "{:?}", far.warnings);
        assert_eq!(far.resampling_factor, Some(1.0));
    }

    #[test]
    fn an_unknown_ground_sample_distance_warns() {
        let facts = RasterFacts { gsd_m: None, bands: &[1, 2, 3], stats: None, sampled_pixels: 0 };
        let a = assess(&facts, 0.6, None, None, "fine-tune");
        assert_eq!(a.warnings.len(), 1);
        assert!(a.warnings[0].contains("--input-gsd"));
    }
}
