//! One model file: the weights as safetensors, named as torchvision names
//! them, and in the safetensors metadata everything needed to use them
//! (architecture, bands, ground sample distance, patch size, normalisation,
//! classes, operating point) and how they were made.

use crate::googlenet::googlenet;
use crate::resnet::resnet;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

pub use detection::arch::Arch;
pub use detection::formats::model::{ModelMeta, FORMAT_VERSION, META_KEY};

/// Problems with a model file, each naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Unreadable or not safetensors.
    #[error("{path}: not a model file ({reason}); train one with `rsdetect train` or use the shipped models/weights/default.safetensors")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Metadata missing or inconsistent.
    #[error("{path}: {reason}")]
    Metadata {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Weights that do not fit the architecture.
    #[error("{path}: weights do not match the {arch} architecture: {reason}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The architecture expected.
        arch: String,
        /// What does not match.
        reason: String,
    },
    /// Metadata that cannot make a network (fields that disagree).
    #[error("{0}")]
    Invalid(String),
    /// libtorch failed.
    #[error("{0}")]
    Torch(#[from] tch::TchError),
    /// Writing failed.
    #[error("{path}: cannot write: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The rest of a network from a layer's features to the logits.
pub type Rest<'a> = Box<dyn Fn(&Tensor) -> Tensor + 'a>;

/// A built network. A network is its own file (its free functions over
/// `nn::Path` and what is particular to it) registered here and in
/// `detection::arch::Arch`.
pub enum Net {
    /// ResNet.
    Resnet(crate::resnet::ResNet),
    /// GoogLeNet.
    Googlenet(crate::googlenet::GoogLeNet),
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Net::Resnet(_) => "ResNet",
            Net::Googlenet(_) => "GoogLeNet",
        })
    }
}

impl Net {
    /// Logits of whole patches.
    pub fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        match self {
            Net::Resnet(r) => r.forward(xs, train),
            Net::Googlenet(g) => g.forward_t(xs, train),
        }
    }

    /// Per-pixel logits of a heatmap network; `None` for patch classifiers.
    pub fn heatmap(&self, xs: &Tensor, train: bool) -> Option<Tensor> {
        match self {
            Net::Resnet(r) => r.heatmap(xs, train),
            Net::Googlenet(_) => None,
        }
    }

    /// Per-pixel logits and the log-radius maps of a heatmap network (the
    /// latter with an extent head only); `None` for patch classifiers.
    pub fn heatmap_with_extent(&self, xs: &Tensor, train: bool) -> Option<(Tensor, Option<Tensor>)> {
        match self {
            Net::Resnet(r) => r.heatmap_with_extent(xs, train),
            Net::Googlenet(_) => None,
        }
    }

    /// Every head's maps of a heatmap network (see
    /// [`HeatmapMaps`](crate::fpn::HeatmapMaps)), the foreground head's when
    /// asked for; `None` for patch classifiers.
    pub fn heatmap_maps(&self, xs: &Tensor, train: bool, foreground: bool) -> Option<crate::fpn::HeatmapMaps> {
        match self {
            Net::Resnet(r) => r.heatmap_maps(xs, train, foreground),
            Net::Googlenet(_) => None,
        }
    }

    /// A patch classifier's loss on a batch (cross-entropy, and whatever
    /// else the network trains with) and its logits.
    pub fn loss_and_logits(&self, xs: &Tensor, y: &Tensor, train: bool) -> (Tensor, Tensor) {
        match self {
            Net::Googlenet(g) => g.loss_and_logits(xs, y, train),
            Net::Resnet(r) => {
                let logits = r.forward(xs, train);
                (logits.cross_entropy_for_logits(y), logits)
            }
        }
    }

    /// Grad-CAM's split of a patch classifier: features of `x` at the
    /// deepest layer with at least `min_cells` cells across the patch, and
    /// the rest to the logits; `None` for heatmap networks.
    pub fn cam_split(&self, x: &Tensor, min_cells: i64) -> Option<(Tensor, Rest<'_>)> {
        match self {
            Net::Resnet(r) => r.cam_split(x, min_cells),
            Net::Googlenet(g) => Some(g.cam_split(x, min_cells)),
        }
    }
}

/// A network with its weights and metadata.
pub struct Model {
    /// The metadata.
    pub meta: ModelMeta,
    /// The weights.
    pub vs: nn::VarStore,
    /// The network.
    pub net: Net,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("meta", &self.meta).field("net", &self.net).finish()
    }
}

struct Bytes<'a> {
    shape: Vec<usize>,
    data: Cow<'a, [u8]>,
}

impl safetensors::View for Bytes<'_> {
    fn dtype(&self) -> safetensors::Dtype {
        safetensors::Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        self.data.clone()
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn arch_name(a: &Arch) -> String {
    match a {
        Arch::Resnet(c) => {
            format!("resnet ({:?} blocks {:?}, width {}, {:?} head)", c.block, c.layers, c.width, c.head)
        }
        Arch::Googlenet(c) => format!("googlenet (width {})", c.width),
    }
}

impl Model {
    /// A freshly initialised model.
    pub fn new(meta: ModelMeta, device: Device) -> Result<Model, ModelError> {
        meta.validate().map_err(ModelError::Invalid)?;
        let vs = nn::VarStore::new(device);
        let (c_in, classes) = (meta.bands.len() as i64, meta.classes.len() as i64);
        let net = match &meta.arch {
            Arch::Resnet(c) => Net::Resnet(resnet(&vs.root(), c, c_in, classes)),
            Arch::Googlenet(c) => Net::Googlenet(googlenet(&vs.root(), c, c_in, classes)),
        };
        Ok(Model { meta, vs, net })
    }

    /// Reads the metadata of a model file without building the network.
    pub fn read_meta(path: &Path) -> Result<ModelMeta, ModelError> {
        let bytes =
            std::fs::read(path).map_err(|e| ModelError::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
        Self::meta_of(path, &bytes)
    }

    fn meta_of(path: &Path, bytes: &[u8]) -> Result<ModelMeta, ModelError> {
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
            .map_err(|e| ModelError::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
        let text = header.metadata().as_ref().and_then(|m| m.get(META_KEY)).ok_or_else(|| ModelError::Metadata {
            path: path.to_owned(),
            reason: "no rsdetect metadata: weights alone (e.g. exported from torchvision) load with --init".into(),
        })?;
        let meta: ModelMeta = serde_json::from_str(text)
            .map_err(|e| ModelError::Metadata { path: path.to_owned(), reason: format!("bad metadata: {e}") })?;
        if meta.format != FORMAT_VERSION {
            return Err(ModelError::Metadata {
                path: path.to_owned(),
                reason: format!("metadata format {} (this rsdetect reads {FORMAT_VERSION})", meta.format),
            });
        }
        meta.validate().map_err(|reason| ModelError::Metadata { path: path.to_owned(), reason })?;
        Ok(meta)
    }

    /// Loads a model file onto `device`, strictly: every weight of the
    /// architecture must be in the file with its shape, and nothing else.
    pub fn load(path: &Path, device: Device) -> Result<Model, ModelError> {
        let bytes =
            std::fs::read(path).map_err(|e| ModelError::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
        let meta = Self::meta_of(path, &bytes)?;
        let mut model = Model::new(meta, device).map_err(|e| match e {
            ModelError::Invalid(reason) => ModelError::Metadata { path: path.to_owned(), reason },
            other => other,
        })?;
        model.load_weights(path, &bytes, Strictness::Strict)?;
        Ok(model)
    }

    /// Copies weights from a safetensors file (a model file, or a state dict
    /// exported from torchvision). `Transfer` skips the classifier head and
    /// any tensor whose shape differs (other classes), except a first
    /// convolution over fewer bands: those fill the network's first bands and
    /// the rest start at zero (an RGB model starts an RGB + near-IR one).
    /// Returns the names loaded.
    pub fn load_weights_file(&mut self, path: &Path, how: Strictness) -> Result<Vec<String>, ModelError> {
        let bytes =
            std::fs::read(path).map_err(|e| ModelError::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
        self.load_weights(path, &bytes, how)
    }

    fn load_weights(&mut self, path: &Path, bytes: &[u8], how: Strictness) -> Result<Vec<String>, ModelError> {
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| ModelError::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
        let arch = arch_name(&self.meta.arch);
        let mismatch = |reason: String| ModelError::Mismatch { path: path.to_owned(), arch: arch.clone(), reason };
        let vars = self.vs.variables();
        let mut names: Vec<&String> = vars.keys().collect();
        names.sort();
        let mut loaded = Vec::new();
        tch::no_grad(|| -> Result<(), ModelError> {
            for name in names {
                let mut var = vars[name].shallow_clone();
                let view = match st.tensor(name) {
                    Ok(v) => v,
                    Err(_) if how == Strictness::Transfer => continue,
                    Err(_) => return Err(mismatch(format!("{name} is missing from the file"))),
                };
                let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
                let widened = how == Strictness::Transfer && takes_fewer_bands(&shape, &var.size());
                if shape != var.size() && !widened {
                    if how == Strictness::Transfer {
                        continue;
                    }
                    return Err(mismatch(format!(
                        "{name} has shape {shape:?} in the file, {:?} in the network",
                        var.size()
                    )));
                }
                let kind = match view.dtype() {
                    safetensors::Dtype::F32 => Kind::Float,
                    safetensors::Dtype::F16 => Kind::Half,
                    safetensors::Dtype::BF16 => Kind::BFloat16,
                    safetensors::Dtype::F64 => Kind::Double,
                    d => return Err(mismatch(format!("{name} is stored as {d:?}"))),
                };
                let t = Tensor::f_from_data_size(view.data(), &shape, kind)?.to_kind(Kind::Float);
                if widened {
                    // The extra bands start at zero, so the network first computes
                    // exactly what the file's did and learns what they add.
                    let _ = var.zero_();
                    var.narrow(1, 0, shape[1]).copy_(&t);
                } else {
                    var.copy_(&t);
                }
                loaded.push(name.clone());
            }
            Ok(())
        })?;
        if how == Strictness::Strict {
            // torchvision's batch norms count batches; nothing here uses the count.
            let extra: Vec<String> = st
                .names()
                .into_iter()
                .filter(|n| !vars.contains_key(*n) && !n.ends_with("num_batches_tracked"))
                .map(str::to_owned)
                .collect();
            if !extra.is_empty() {
                return Err(mismatch(format!("the file has weights the network lacks: {}", extra.join(", "))));
            }
        }
        Ok(loaded)
    }

    /// Writes the model file (through a temporary file and a rename).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        self.save_as(path, &self.meta)
    }

    /// Writes the weights with other metadata (a checkpoint's epoch, say).
    pub fn save_as(&self, path: &Path, meta: &ModelMeta) -> Result<(), ModelError> {
        let fail = |reason: String| ModelError::Write { path: path.to_owned(), reason };
        let vars = self.vs.variables();
        let mut tensors = Vec::with_capacity(vars.len());
        for (name, t) in &vars {
            let t = t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
            let numel = t.numel();
            let mut data = vec![0u8; numel * 4];
            t.copy_data_u8(&mut data, numel);
            tensors.push((
                name.clone(),
                Bytes { shape: t.size().iter().map(|&d| d as usize).collect(), data: Cow::Owned(data) },
            ));
        }
        let meta = serde_json::to_string(meta).map_err(|e| fail(e.to_string()))?;
        let info = Some(HashMap::from([(META_KEY.to_string(), meta)]));
        let bytes = safetensors::serialize(tensors, info).map_err(|e| fail(e.to_string()))?;
        let tmp = path.with_file_name(format!(".{}.tmp", path.file_name().unwrap_or_default().to_string_lossy()));
        std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e.to_string())
        })
    }

    /// Number of trainable parameters.
    pub fn parameters(&self) -> usize {
        self.vs.trainable_variables().iter().map(|t| t.numel()).sum()
    }
}

/// Whether a convolution's weights `file` (out, in, kh, kw) fit the first
/// input channels of `net`'s: the same but for fewer input bands.
fn takes_fewer_bands(file: &[i64], net: &[i64]) -> bool {
    file.len() == 4 && net.len() == 4 && file[1] < net[1] && file[0] == net[0] && file[2..] == net[2..]
}

/// How weights must match when loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Every weight present with its shape, nothing extra.
    Strict,
    /// Whatever matches by name and shape (transfer learning).
    Transfer,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn meta() -> ModelMeta {
        ModelMeta::new(
            Arch::named("resnet-small").unwrap(),
            vec![1, 2, 3],
            32,
            0.6,
            vec!["background".into(), "tree".into()],
        )
    }

    #[test]
    fn save_and_load_give_identical_outputs() {
        let _rng = crate::rng_lock();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        for arch in ["resnet-small", "resnet-small-heatmap", "googlenet-small"] {
            let m = Model::new(ModelMeta { arch: Arch::named(arch).unwrap(), ..meta() }, Device::Cpu).unwrap();
            m.save(&path).unwrap();
            let back = Model::load(&path, Device::Cpu).unwrap();
            assert_eq!(back.meta, m.meta);
            let x = Tensor::randn([3, 3, 32, 32], (Kind::Float, Device::Cpu));
            let a = m.net.forward(&x, false);
            let b = back.net.forward(&x, false);
            assert_eq!(f64::try_from((a - b).abs().max()).unwrap(), 0.0, "{arch}");
        }
    }

    #[test]
    fn corrupt_and_mismatched_files_are_refused_with_reasons() {
        let _rng = crate::rng_lock();
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.safetensors");
        std::fs::write(&junk, b"not a model").unwrap();
        let e = Model::load(&junk, Device::Cpu).unwrap_err().to_string();
        assert!(e.contains("junk.safetensors: not a model file"), "{e}");

        // A file whose metadata claims another architecture than its weights.
        let path = dir.path().join("other.safetensors");
        Model::new(meta(), Device::Cpu).unwrap().save(&path).unwrap();
        let mut wrong = Model::new(meta(), Device::Cpu).unwrap();
        wrong.meta.arch = Arch::named("resnet18").unwrap();
        let mut fresh = Model::new(wrong.meta.clone(), Device::Cpu).unwrap();
        let e = fresh.load_weights_file(&path, Strictness::Strict).unwrap_err().to_string();
        assert!(e.contains("do not match the resnet") && e.contains("in the file, [64] in the network"), "{e}");

        // Transfer to more bands and other classes: all but the head; the first
        // convolution takes the file's bands first and starts the new one at zero.
        let source = Model::load(&path, Device::Cpu).unwrap();
        let mut other = meta();
        other.bands = vec![1, 2, 3, 4];
        other.mean = vec![100.0; 4];
        other.std = vec![50.0; 4];
        other.classes.push("shrub".into());
        let mut target = Model::new(other, Device::Cpu).unwrap();
        let loaded = target.load_weights_file(&path, Strictness::Transfer).unwrap();
        assert!(loaded.contains(&"bn1.weight".to_string()) && loaded.contains(&"layer3.1.conv2.weight".to_string()));
        assert!(!loaded.iter().any(|n| n.starts_with("fc.")), "{loaded:?}");
        let (was, now) = (&source.vs.variables()["conv1.weight"], &target.vs.variables()["conv1.weight"]);
        assert_eq!(now.size(), [was.size()[0], 4, was.size()[2], was.size()[3]]);
        assert!(now.narrow(1, 0, 3).equal(was), "the RGB bands keep their weights");
        assert_eq!(f64::try_from(now.narrow(1, 3, 1).abs().sum(Kind::Float)).unwrap(), 0.0);
    }
}
