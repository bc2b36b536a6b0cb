//! The networks are torchvision's: a torchvision model's state dict (random
//! weights, exported by torchvision_export.py with the venv's torch and
//! torchvision 0.26) loads strictly and gives torchvision's logits.

use models::model_file::{Arch, ModelMeta};
use models::{Device, Model, Strictness};
use std::path::Path;
use std::process::Command;

fn meta(arch: &str) -> ModelMeta {
    ModelMeta::new(Arch::named(arch).unwrap(), vec![1, 2, 3], 64, 1.0, (0..10).map(|i| format!("class{i}")).collect())
}

fn tensor(file: &Path, name: &str) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(file).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let t = st.tensor(name).unwrap();
    let values = t.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    (t.shape().to_vec(), values)
}

#[test]
fn torchvision_weights_load_strictly_and_give_the_same_logits() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let python = root.join(".venv/bin/python");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("torchvision");
    let out = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/torchvision_export.py"))
        .arg(&dir)
        .output();
    match out {
        Ok(o) if o.status.code() == Some(3) || !python.exists() => {
            eprintln!("skipped: the venv's torch/torchvision cannot be imported (the CPU-only libtorch install); `make parity` installs them and runs this test");
            return;
        }
        Ok(o) => assert!(o.status.success(), "export failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            eprintln!("skipped: cannot run {}: {e}", python.display());
            return;
        }
    }
    for arch in ["resnet18", "resnet50", "googlenet"] {
        let mut model = Model::new(meta(arch), Device::Cpu).unwrap();
        let loaded = model.load_weights_file(&dir.join(format!("{arch}.safetensors")), Strictness::Strict).unwrap();
        assert_eq!(loaded.len(), model.vs.variables().len(), "{arch}: every weight loaded");
        let io = dir.join(format!("{arch}.io.safetensors"));
        let (shape, input) = tensor(&io, "input");
        let (_, expected) = tensor(&io, "logits");
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let x = tch::Tensor::from_slice(&input).view(dims.as_slice());
        let logits = tch::no_grad(|| model.net.forward(&x, false));
        let got: Vec<f32> = Vec::try_from(logits.contiguous().view([-1])).unwrap();
        assert_eq!(got.len(), expected.len());
        let worst = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        eprintln!("{arch}: largest logit difference {worst:e}");
        assert!(worst < 1e-4, "{arch}: logits differ by {worst}");
    }
}
