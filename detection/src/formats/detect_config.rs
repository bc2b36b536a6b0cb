//! The detect configuration: a TOML file (configs/*.toml) merged with flags,
//! validated once. Unknown keys are errors, and every default not given by
//! the file is derived here from the model, nowhere else.

use crate::classify::PatchSpec;
use crate::formats::ConfigError;
use crate::options::{
    CandidateSource, Declared, DetectOptions, EdgePolicy, Preprocess, Resampling, Sliding, Threshold, LUMA_WEIGHTS,
};
use serde::Deserialize;
use std::path::Path;

type Result<T> = std::result::Result<T, ConfigError>;

macro_rules! bail {
    ($($t:tt)*) => {
        return Err(ConfigError::Invalid(format!($($t)*)))
    };
}

/// The TOML file as written by the user.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How candidates are chosen.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// Tile core side in pixels at the model's resolution (default 1024;
    /// 640 for heatmap networks).
    #[serde(default)]
    pub tile: Option<usize>,
    /// Dense scoring: pixels of context around each tile's core (default:
    /// the model's measured halo, else its patch side).
    #[serde(default)]
    pub halo: Option<usize>,
    /// Patches per classifier call.
    #[serde(default)]
    pub batch: Option<usize>,
    /// Overrides the model's score threshold.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Overrides the model's suppression distance, metres.
    #[serde(default)]
    pub suppression_m: Option<f64>,
    /// How rasters are resampled to the model's resolution.
    #[serde(default)]
    pub resampling: Option<Resampling>,
    /// Heatmap networks: average scores over the 8 flips and rotations of
    /// each tile (default: as the model's operating point was chosen).
    #[serde(default)]
    pub tta: Option<bool>,
    /// Reduced precision: bf16 for heatmap networks on the CPU (fast on
    /// processors with AVX-512 BF16 or AMX, emulated and slow elsewhere),
    /// mixed precision on CUDA (default: on CUDA and on CPUs with bf16
    /// instructions; val_socal's F1 moved by +0.0008 in bf16).
    #[serde(default)]
    pub reduced_precision: Option<bool>,
    /// Preprocessing settings.
    #[serde(default)]
    pub candidates: CandidatesConfig,
    /// Sliding window settings.
    #[serde(default)]
    pub sliding: SlidingConfig,
}

/// `mode = "dense" | "sliding" | "candidates"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Score every window on a fine lattice at once per tile: fast, but
    /// windows see their surroundings, which patch-trained models did not
    /// (needs a ResNet model).
    Dense,
    /// Classify only blobs found by preprocessing (fast).
    Candidates,
    /// Classify every window of a grid (thorough).
    Sliding,
}

/// `[candidates]`: preprocessing as in Guirado et al. 2017.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CandidatesConfig {
    /// Bands making the panchromatic band (default 1, 2, 3).
    pub bands: Option<Vec<usize>>,
    /// Their weights (default luma: 0.299, 0.587, 0.114).
    pub weights: Option<Vec<f32>>,
    /// A number, or "otsu" (default 100).
    pub threshold: Option<Threshold>,
    /// Objects darker than the threshold (default true).
    pub darker: Option<bool>,
    /// Opening radius in pixels (default 1).
    pub open_radius: Option<u8>,
    /// Smallest blob in m² (default 1).
    pub min_area_m2: Option<f64>,
    /// Largest blob in m² (default 1000).
    pub max_area_m2: Option<f64>,
}

/// `[sliding]`: window size and stride, in pixels or metres.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlidingConfig {
    /// Window side in pixels (default: the model's patch).
    pub size_px: Option<usize>,
    /// Window side in metres.
    pub size_m: Option<f64>,
    /// Stride in pixels (default: half the suppression distance, at most a
    /// quarter window).
    pub stride_px: Option<usize>,
    /// Stride in metres.
    pub stride_m: Option<f64>,
    /// Edge rule: "cover" (default), "fit" or "guirado2017".
    pub edge: Option<EdgePolicy>,
}

impl Config {
    /// Reads and checks a TOML file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            what: "the config",
            reason: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            what: "config (see configs/default.toml for every key)",
            reason: e.to_string(),
        })
    }

    /// The validated options for a model, with every default filled in.
    pub fn resolve(&self, spec: &PatchSpec) -> Result<DetectOptions> {
        let model_m = spec.gsd_m.unwrap_or(1.0);
        let px = |m: f64| ((m / model_m).round() as usize).max(1);
        let suppression_m = self.suppression_m.unwrap_or(spec.suppression_m);
        if !(suppression_m.is_finite() && suppression_m >= 0.0) {
            bail!("suppression_m must be a distance of 0 metres or more, got {suppression_m}");
        }
        for (name, v) in [("[sliding] size_m", self.sliding.size_m), ("[sliding] stride_m", self.sliding.stride_m)] {
            if let Some(m) = v.filter(|m| !(m.is_finite() && *m > 0.0)) {
                bail!("{name} must be a positive number of metres, got {m}");
            }
        }
        // Windows at least twice as dense as the closest detections allowed.
        let fine = ((suppression_m / model_m / 2.0).floor() as usize).max(1);
        // Patch classifiers learn from isolated patches; per-window scoring
        // sees what training saw, dense scoring sees context instead:
        // opt-in. Heatmap networks score every pixel: dense is theirs.
        let default_mode = if spec.heatmap { Mode::Dense } else { Mode::Sliding };
        let source = match self.mode.unwrap_or(default_mode) {
            Mode::Dense if spec.heatmap => CandidateSource::Dense { step: 1 },
            Mode::Dense => {
                let Some(stride) = spec.dense_stride else {
                    bail!("mode = \"dense\" needs a ResNet model; use mode = \"sliding\"");
                };
                let step = match self.sliding.stride_px.or(self.sliding.stride_m.map(px)) {
                    Some(s) if stride % s == 0 => s,
                    Some(s) => {
                        bail!("[sliding] stride {s} px must divide the model's dense stride {stride} in dense mode")
                    }
                    None => (1..=stride).rev().find(|d| stride % d == 0 && *d <= fine).unwrap_or(1),
                };
                CandidateSource::Dense { step }
            }
            Mode::Candidates => {
                let c = &self.candidates;
                let bands = c.bands.clone().unwrap_or_else(|| vec![1, 2, 3]);
                let weights = match &c.weights {
                    Some(w) => w.clone(),
                    None if bands.len() == 3 => LUMA_WEIGHTS.to_vec(),
                    None => vec![1.0 / bands.len() as f32; bands.len()],
                };
                if weights.len() != bands.len() {
                    bail!(
                        "[candidates] has {} weights for {} bands: give one weight per band",
                        weights.len(),
                        bands.len()
                    );
                }
                let (min_area_m2, max_area_m2) = (c.min_area_m2.unwrap_or(1.0), c.max_area_m2.unwrap_or(1000.0));
                if !(min_area_m2 >= 0.0 && max_area_m2 > min_area_m2) {
                    bail!("[candidates] needs 0 <= min_area_m2 < max_area_m2, got {min_area_m2} and {max_area_m2}");
                }
                CandidateSource::Preprocess(Preprocess {
                    bands,
                    weights,
                    threshold: c.threshold.unwrap_or_default(),
                    darker: c.darker.unwrap_or(true),
                    open_radius: c.open_radius.unwrap_or(1),
                    min_area_m2,
                    max_area_m2,
                })
            }
            Mode::Sliding => {
                let s = &self.sliding;
                if s.size_px.is_some() && s.size_m.is_some() || s.stride_px.is_some() && s.stride_m.is_some() {
                    bail!("[sliding] give the size and the stride in pixels or in metres, not both");
                }
                let size = s.size_px.or(s.size_m.map(px)).unwrap_or(spec.patch);
                let stride = s.stride_px.or(s.stride_m.map(px)).unwrap_or(fine.min(size / 4).max(1));
                if size == 0 || stride == 0 {
                    bail!("[sliding] size and stride must be at least one pixel");
                }
                CandidateSource::Sliding(Sliding { size, stride, edge: s.edge.unwrap_or_default() })
            }
        };
        let score_threshold = self.score_threshold.unwrap_or(spec.score_threshold);
        if !(0.0..=1.0).contains(&score_threshold) {
            bail!("score_threshold must lie between 0 and 1, got {score_threshold}");
        }
        // A heatmap network holds about 1 KB of activations per tile pixel
        // in fp32: 640 px tiles (736 with the halo) keep a forward pass near
        // 550 MB, so the freed pages can be kept for the next tile under
        // detect's heap budget; 768 px tiles were no faster end to end. The
        // classifier may know better (`spec.tile`: bf16 halves that).
        let tile = self.tile.or(spec.tile).unwrap_or(if spec.heatmap { 640 } else { 1024 });
        let batch = self.batch.unwrap_or(64);
        if tile < 16 || batch == 0 {
            bail!("tile must be at least 16 pixels and batch at least 1");
        }
        // A patch classifier's windows need half a patch around them
        // whatever it measured; a heatmap network's scores need its halo.
        let halo = match source {
            CandidateSource::Dense { .. } if spec.heatmap => Some(self.halo.or(spec.halo).unwrap_or(spec.patch)),
            _ if self.halo.is_some() => bail!("halo applies to heatmap networks only (their dense scoring)"),
            CandidateSource::Dense { .. } => Some(spec.patch),
            _ => None,
        };
        Ok(DetectOptions {
            halo,
            source,
            tile,
            batch,
            score_threshold,
            suppression_m,
            declared: Declared::default(),
            resampling: self.resampling.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> PatchSpec {
        PatchSpec {
            bands: vec![1, 2, 3],
            patch: 32,
            gsd_m: Some(0.6),
            classes: vec!["background".into(), "tree".into()],
            positive: 1,
            score_threshold: 0.7,
            suppression_m: 3.0,
            dense_stride: None,
            heatmap: false,
            data_type: None,
            training_stats: None,
            learned_gsd_m: None,
            halo: None,
            tile: None,
        }
    }

    #[test]
    fn shipped_configs_parse_and_resolve() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        for entry in std::fs::read_dir(root).unwrap() {
            let path = entry.unwrap().path();
            let training = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("train-"));
            if path.extension().is_some_and(|e| e == "toml") && !training {
                let c = Config::load(&path).unwrap();
                c.resolve(&spec()).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
            }
        }
    }

    #[test]
    fn defaults_come_from_the_model() {
        let o = Config::default().resolve(&spec()).unwrap();
        assert_eq!(o.score_threshold, 0.7);
        assert_eq!(o.suppression_m, 3.0);
        // 3 m at 0.6 m is 5 px: windows every 2 px.
        assert_eq!(o.source, CandidateSource::Sliding(Sliding { size: 32, stride: 2, edge: EdgePolicy::Cover }));
        let dense = PatchSpec { dense_stride: Some(4), ..spec() };
        let c: Config = toml::from_str("mode = \"dense\"").unwrap();
        assert_eq!(c.resolve(&dense).unwrap().source, CandidateSource::Dense { step: 2 });
        // A heatmap network scores every pixel, densely unless told otherwise.
        let heatmap = PatchSpec { dense_stride: Some(4), heatmap: true, ..spec() };
        assert_eq!(Config::default().resolve(&heatmap).unwrap().source, CandidateSource::Dense { step: 1 });
        let c: Config = toml::from_str("mode = \"sliding\"").unwrap();
        assert!(matches!(c.resolve(&heatmap).unwrap().source, CandidateSource::Sliding(_)));
    }

    /// A heatmap network's tiles read the model's measured halo, else its
    /// patch; the user's wins; other networks' windows need their patch.
    #[test]
    fn the_halo_and_tile_come_from_the_model_unless_given() {
        let heatmap = PatchSpec { dense_stride: Some(8), heatmap: true, patch: 96, ..spec() };
        assert_eq!(Config::default().resolve(&heatmap).unwrap().halo, Some(96));
        let measured = PatchSpec { halo: Some(48), tile: Some(1024), ..heatmap.clone() };
        let o = Config::default().resolve(&measured).unwrap();
        assert_eq!((o.halo, o.tile), (Some(48), 1024));
        let c: Config = toml::from_str("halo = 64\ntile = 512").unwrap();
        let o = c.resolve(&measured).unwrap();
        assert_eq!((o.halo, o.tile), (Some(64), 512));
        assert_eq!(Config::default().resolve(&heatmap).unwrap().tile, 640);
        let dense: Config = toml::from_str("mode = \"dense\"").unwrap();
        assert_eq!(dense.resolve(&PatchSpec { dense_stride: Some(4), ..spec() }).unwrap().halo, Some(32));
        assert_eq!(Config::default().resolve(&spec()).unwrap().halo, None);
        let e = c.resolve(&spec()).unwrap_err().to_string();
        assert!(e.contains("heatmap networks only"), "{e}");
    }

    #[test]
    fn metres_become_pixels_at_the_model_resolution() {
        let c: Config = toml::from_str("mode = \"sliding\"\n[sliding]\nsize_m = 19.2\nstride_m = 1.2\n").unwrap();
        let o = c.resolve(&spec()).unwrap();
        assert_eq!(o.source, CandidateSource::Sliding(Sliding { size: 32, stride: 2, edge: EdgePolicy::Cover }));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let e = toml::from_str::<Config>("tiles = 5").unwrap_err().to_string();
        assert!(e.contains("unknown field `tiles`"), "{e}");
        let e = toml::from_str::<Config>("[sliding]\nedge = \"wrap\"").unwrap_err().to_string();
        assert!(e.contains("wrap"), "{e}");
        let c: Config = toml::from_str("score_threshold = 1.5").unwrap();
        assert!(c.resolve(&spec()).is_err());
        let c: Config = toml::from_str("mode = \"candidates\"\n[candidates]\nweights = [1.0]").unwrap();
        assert!(c.resolve(&spec()).unwrap_err().to_string().contains("one weight per band"));
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// A value for a config key: numbers of every sign and size, strings,
        /// booleans and arrays, the kinds a hand-edited file gets wrong.
        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<i64>().prop_map(|v| v.to_string()),
                any::<f64>().prop_map(|v| if v.is_finite() { format!("{v:?}") } else { "nan".into() }),
                Just("inf".to_string()),
                Just("-0.0".to_string()),
                "[a-z]{0,8}".prop_map(|v| format!("{v:?}")),
                any::<bool>().prop_map(|v| v.to_string()),
                prop::collection::vec(-5i64..300, 0..5).prop_map(|v| format!("{v:?}")),
                prop::collection::vec(-2f64..2.0, 0..5).prop_map(|v| format!("{v:?}")),
            ]
        }

        fn key() -> impl Strategy<Value = String> {
            prop::sample::select(vec![
                "mode",
                "tile",
                "batch",
                "score_threshold",
                "suppression_m",
                "resampling",
                "tta",
                "candidates.bands",
                "candidates.weights",
                "candidates.threshold",
                "candidates.darker",
                "candidates.open_radius",
                "candidates.min_area_m2",
                "candidates.max_area_m2",
                "sliding.size_px",
                "sliding.size_m",
                "sliding.stride_px",
                "sliding.stride_m",
                "sliding.edge",
                "unknown",
                "sliding.unknown",
            ])
            .prop_map(str::to_owned)
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

            /// Any text: parsing and resolving fail with a message or give
            /// options a run can use; nothing panics.
            #[test]
            fn any_text_never_panics(text in "\\PC{0,200}") {
                if let Ok(c) = toml::from_str::<Config>(&text) {
                    let _ = c.resolve(&spec());
                }
            }

            #[test]
            fn any_values_resolve_to_usable_options_or_errors(
                entries in prop::collection::vec((key(), value()), 0..8),
                heatmap in any::<bool>(),
            ) {
                let mut text = String::new();
                for (k, v) in &entries {
                    text.push_str(&format!("{k} = {v}\n"));
                }
                let spec = PatchSpec { heatmap, dense_stride: Some(4), ..spec() };
                let Ok(c) = toml::from_str::<Config>(&text) else { return Ok(()) };
                if let Ok(o) = c.resolve(&spec) {
                    prop_assert!(o.tile >= 16 && o.batch >= 1);
                    prop_assert!((0.0..=1.0).contains(&o.score_threshold));
                    match &o.source {
                        CandidateSource::Sliding(s) => prop_assert!(s.size >= 1 && s.stride >= 1),
                        CandidateSource::Dense { step } => prop_assert!(*step >= 1 && 4 % step == 0),
                        CandidateSource::Preprocess(p) => {
                            prop_assert_eq!(p.bands.len(), p.weights.len());
                            prop_assert!(p.min_area_m2 >= 0.0 && p.max_area_m2 > p.min_area_m2);
                        }
                    }
                    prop_assert!(o.suppression_m.is_finite() && o.suppression_m >= 0.0, "{:?}", o.suppression_m);
                }
            }
        }
    }
}
