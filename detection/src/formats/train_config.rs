//! A training config file (`configs/train-*.toml`): the network, how
//! patches or chips are cut, the optimisation, and how the operating point
//! is chosen. Unknown keys are errors.

use crate::arch::{Arch, Head};
use crate::evaluate::MatchRule;
use crate::formats::training::TrainConfig;
use crate::formats::ConfigError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `[model]` of a training config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSection {
    /// Architecture name (see `Arch::named`).
    pub arch: String,
    /// Patch side, pixels: what a patch classifier sees; for a heatmap
    /// network, the context each pixel's score depends on (tile overlap).
    pub patch: usize,
    /// Name of the object class.
    pub class: String,
    /// ResNets: planes of the first stage, instead of the named network's.
    pub width: Option<i64>,
    /// ResNets: blocks per stage, instead of the named network's.
    pub layers: Option<Vec<i64>>,
    /// Heatmap networks: channels of the decoder, instead of the named network's.
    pub decoder_width: Option<i64>,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            arch: "resnet-small".into(),
            patch: 32,
            class: "object".into(),
            width: None,
            layers: None,
            decoder_width: None,
        }
    }
}

impl ModelSection {
    /// The named architecture with this section's changes.
    pub fn arch(&self) -> Result<Arch, ConfigError> {
        let mut arch = Arch::named(&self.arch).ok_or_else(|| {
            ConfigError::Invalid(format!("unknown architecture {:?}: use one of {}", self.arch, Arch::NAMES.join(", ")))
        })?;
        match &mut arch {
            Arch::Resnet(c) => {
                c.width = self.width.unwrap_or(c.width);
                c.layers = self.layers.clone().unwrap_or(c.layers.clone());
                match (&mut c.head, self.decoder_width) {
                    (Head::Heatmap { width, .. }, Some(d)) => *width = d,
                    (Head::Pool, Some(_)) => {
                        return Err(ConfigError::Invalid("[model] decoder_width needs a heatmap network".into()))
                    }
                    _ => {}
                }
                c.validate().map_err(|e| ConfigError::Invalid(format!("[model]: {e}")))?;
            }
            Arch::Googlenet(_) if self.width.is_some() || self.layers.is_some() || self.decoder_width.is_some() => {
                return Err(ConfigError::Invalid(
                    "[model] width, layers and decoder_width apply to ResNets only".into(),
                ))
            }
            Arch::Googlenet(_) => {}
        }
        Ok(arch)
    }
}

/// `[sampling]` of a training config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplingSection {
    /// Negatives per positive (patch classifiers).
    pub negatives_per_positive: f64,
    /// Negatives at least this far from objects, metres (patch classifiers).
    pub negative_distance_m: f64,
    /// Side of the chips rasters are cut into, pixels (heatmap networks).
    pub chip: usize,
    /// Every object of every training raster is labelled (as `train
    /// --all-labelled`): background is learned wherever there is no label.
    pub all_labelled: bool,
}

impl Default for SamplingSection {
    fn default() -> Self {
        SamplingSection { negatives_per_positive: 2.0, negative_distance_m: 3.0, chip: 256, all_labelled: false }
    }
}

/// A training config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainFile {
    /// The network and its input.
    pub model: ModelSection,
    /// How patches are cut.
    pub sampling: SamplingSection,
    /// The optimisation.
    pub train: TrainConfig,
    /// How the operating point is chosen.
    pub calibrate: CalibrateSection,
}

/// `[calibrate]` of a training config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalibrateSection {
    /// The matching rule to optimise, checked when the config is read.
    #[serde(rename = "match", with = "rule_text")]
    pub rule: MatchRule,
    /// Suppression distances to try, metres.
    pub suppression_m: Vec<f64>,
    /// Heatmap networks: choose the operating point with scores averaged
    /// over flips and rotations, and have detect average them too.
    pub tta: bool,
}

impl Default for CalibrateSection {
    fn default() -> Self {
        CalibrateSection { rule: MatchRule::Distance { metres: 6.0 }, suppression_m: vec![3.0, 4.0, 5.0], tta: false }
    }
}

/// A matching rule as a config writes it: `distance:6`, `center-in-label`,
/// `iou:0.4`.
mod rule_text {
    use crate::evaluate::MatchRule;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(rule: &MatchRule, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(rule)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MatchRule, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl TrainFile {
    /// Reads and checks a training config.
    pub fn load(path: &Path) -> Result<TrainFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            what: "",
            reason: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            what: "training config (see configs/train-default.toml)",
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_training_configs_parse() {
        for name in [
            "train-default.toml",
            "train-naip-trees.toml",
            "train-naip-trees-2years.toml",
            "train-naip-trees-2years-tune.toml",
            "train-finetune.toml",
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs").join(name);
            let cfg: TrainFile =
                toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(cfg.model.arch().is_ok(), "{name}");
            assert_eq!(cfg.calibrate.rule, MatchRule::Distance { metres: 6.0 }, "{name}");
        }
        assert!(toml::from_str::<TrainFile>("[train]\nepoch = 3").is_err());
        // A matching rule is checked when the config is read.
        let bad = toml::from_str::<TrainFile>("[calibrate]\nmatch = \"nearest\"").unwrap_err().to_string();
        assert!(bad.contains("match"), "{bad}");
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

            /// Any text: a training config parses and names a network, or
            /// says why not; nothing panics, and no network is absurdly large.
            #[test]
            fn any_training_config_never_panics(
                text in "\\PC{0,120}",
                width in prop::option::of(any::<i64>()),
                layers in prop::option::of(prop::collection::vec(any::<i64>(), 0..8)),
                decoder in prop::option::of(any::<i64>()),
                arch in prop::sample::select(Arch::NAMES.to_vec()),
            ) {
                if let Ok(cfg) = toml::from_str::<TrainFile>(&text) {
                    let _ = cfg.model.arch();
                }
                let section = ModelSection {
                    arch: arch.to_string(),
                    width,
                    layers,
                    decoder_width: decoder,
                    ..ModelSection::default()
                };
                if let Ok(Arch::Resnet(c)) = section.arch() {
                    prop_assert!(c.width <= 1024 && c.layers.len() <= 6 && c.layers.iter().all(|&n| n <= 64));
                }
            }
        }
    }
}
