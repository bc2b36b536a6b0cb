//! Where a training run's weights start: from scratch, from a model the
//! user names (`--init`), or, for a plain `rsdetect train`, from the
//! shipped model whose bands fit the imagery. A few hundred labels go much
//! further from a network that already knows what trees and shrubs look
//! like than from random weights.

use crate::error::Result;
use models::{Model, ModelMeta};
use std::path::{Path, PathBuf};

/// The training settings of a run that starts from a trained model
/// without a config of its own: made for small sets of labels.
pub const FINE_TUNING_CONFIG: &str = include_str!("../configs/train-finetune.toml");

/// Where the weights start.
#[derive(Debug, Clone)]
pub enum Start {
    /// Random weights: the network of the config.
    Scratch {
        /// Why, for the user.
        why: String,
    },
    /// A trained model's weights (and, without a config, its network,
    /// scale and normalisation).
    From {
        /// Its file.
        path: PathBuf,
        /// How the user knows it: a shipped model's name, or the file as
        /// given (never this machine's absolute path of a shipped file).
        name: String,
        /// Its metadata.
        meta: Box<ModelMeta>,
        /// What to tell the user.
        why: String,
    },
}

impl Start {
    /// The line telling the user where training starts and how to change it.
    pub fn describe(&self) -> &str {
        match self {
            Start::Scratch { why } | Start::From { why, .. } => why,
        }
    }

    /// The starting model's metadata, if any.
    pub fn meta(&self) -> Option<&ModelMeta> {
        match self {
            Start::From { meta, .. } => Some(meta),
            Start::Scratch { .. } => None,
        }
    }
}

/// How a model's bands fit the training bands: the same, or its bands
/// first and more after them (its first layer widens, the new bands
/// starting at zero).
fn fits(model: &[usize], bands: &[usize]) -> Option<bool> {
    if model == bands {
        Some(false)
    } else if model.len() < bands.len() && bands.starts_with(model) {
        Some(true)
    } else {
        None
    }
}

/// Chooses the starting point: `--init` when given, random weights with
/// `--scratch` or a network of the user's own (`--config`, `--arch`), else
/// the shipped model whose bands fit `bands` (an exact fit first, then the
/// default model).
pub fn choose(init: Option<&Path>, scratch: bool, own_network: bool, bands: &[usize]) -> Result<Start> {
    let list = |b: &[usize]| b.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(",");
    if let Some(arg) = init {
        // A file, or a shipped model's name, as `detect --model` takes.
        let path = models::resolve_model(arg).unwrap_or_else(|| arg.to_owned());
        let meta = Model::read_meta(&path)?;
        let name = arg.display().to_string();
        let why = format!("starting from {name} (--init)");
        return Ok(Start::From { path, name, meta: Box::new(meta), why });
    }
    if scratch {
        return Ok(Start::Scratch { why: "training from scratch (--scratch)".into() });
    }
    if own_network {
        return Ok(Start::Scratch {
            why: "training the config's network from scratch (--init MODEL starts from a trained one)".into(),
        });
    }
    let mut candidates: Vec<(bool, bool, models::ShippedModel, ModelMeta)> = models::shipped_models()
        .into_iter()
        .filter_map(|m| {
            let meta = Model::read_meta(&m.path).ok()?;
            let widened = fits(&meta.bands, bands)?;
            Some((widened, m.name != "default", m, meta))
        })
        .collect();
    candidates.sort_by(|a, b| (a.0, a.1, &a.2.name).cmp(&(b.0, b.1, &b.2.name)));
    match candidates.into_iter().next() {
        Some((widened, _, m, meta)) => {
            let how = if widened {
                let new = &bands[meta.bands.len()..];
                format!(
                    "its bands {} first, band{} {} starting at zero",
                    list(&meta.bands),
                    if new.len() > 1 { "s" } else { "" },
                    list(new)
                )
            } else {
                format!("bands {}", list(bands))
            };
            let why = format!(
                "starting from the shipped model {} ({how}); --init MODEL starts from another, --scratch from random weights",
                m.name
            );
            Ok(Start::From { path: m.path, name: m.name, meta: Box::new(meta), why })
        }
        None => Ok(Start::Scratch {
            why: format!(
                "training from scratch: no shipped model takes bands {} (pass --bands 1,2,3 to start from the RGB one)",
                list(bands)
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_fit_exactly_or_by_widening() {
        assert_eq!(fits(&[1, 2, 3], &[1, 2, 3]), Some(false));
        assert_eq!(fits(&[1, 2, 3], &[1, 2, 3, 4]), Some(true));
        assert_eq!(fits(&[1, 2, 3], &[3, 2, 1]), None);
        assert_eq!(fits(&[1, 2, 3, 4], &[1, 2, 3]), None);
    }

    #[test]
    fn the_fine_tuning_config_parses() {
        let cfg: detection::formats::train_config::TrainFile = toml::from_str(FINE_TUNING_CONFIG).unwrap();
        assert!(cfg.train.patience.is_some() && cfg.train.freeze_epochs > 0);
    }
}
