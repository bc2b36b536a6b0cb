//! Benchmark: windows per second of each architecture's forward pass (a
//! patch classifier's patches; a heatmap network's pixels, each the centre
//! of a window), on the CPU or a CUDA device, there with and without mixed
//! precision. GDAL-free, so it runs on machines with only libtorch. One JSON
//! line per measurement.
//!
//! `throughput [DEVICE] [SECONDS]`: every architecture, random weights.
//! `throughput DEVICE SECONDS MODEL [TILE]`: one model file, at the batch
//! (patch classifiers, 64) or tile side (heatmap networks, default 864; detect
//! reads 736 px in fp32 and 1,120 px in bf16 with the default model's halo), without the
//! test-time augmentation a model file may ask for (8 passes a tile).

use models::model_file::{Arch, ModelMeta};
use models::{Classifier, DeviceChoice, Model};
use std::time::Instant;

/// Windows per second of repeated calls of `run`, each scoring `per_call`.
fn rate(budget: f64, per_call: usize, run: &mut dyn FnMut() -> Result<(), String>) -> Result<f64, String> {
    run()?;
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed().as_secs_f64() < budget {
        run()?;
        n += per_call;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// One JSON line per precision the device offers.
fn measure(name: &str, mut c: Classifier, patch: usize, batch: usize, tile: usize, budget: f64) -> Result<(), String> {
    let device = c.device();
    let params = c.model().parameters();
    let bands = c.model().meta.bands.len();
    let heatmap = c.is_heatmap();
    // The bare network: test-time augmentation would run it 8 times a tile.
    c.set_tta(false);
    // Reduced precision where the device has it: CUDA, or bf16 instructions.
    let reduced = device.is_cuda() || (heatmap && models::classifier::cpu_has_bf16());
    for mixed in if reduced { vec![true, false] } else { vec![false] } {
        c.set_mixed_precision(mixed);
        let per_s = if heatmap {
            // Varied values, so peak finding sees a realistic number of peaks.
            let data: Vec<f32> = (0..bands * tile * tile).map(|i| ((i * 7919) % 251) as f32).collect();
            rate(budget, tile * tile, &mut || {
                c.dense_scores(&data, tile, tile, 1).map(drop).map_err(|e| e.to_string())
            })?
        } else {
            let data = vec![100f32; batch * bands * patch * patch];
            rate(budget, batch, &mut || c.scores(&data, batch).map(drop).map_err(|e| e.to_string()))?
        };
        println!(
            "{{\"arch\":\"{name}\",\"parameters\":{params},\"patch\":{patch},\"batch\":{},\"tile\":{},\"device\":\"{device:?}\",\"mixed_precision\":{mixed},\"windows_per_s\":{per_s:.1}}}",
            if heatmap { 1 } else { batch },
            if heatmap { tile } else { patch },
        );
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let choice: DeviceChoice = args.first().map_or(Ok(DeviceChoice::Cpu), |s| s.parse())?;
    let budget: f64 = args.get(1).map_or(Ok(3.0), |s| s.parse())?;
    let device = models::resolve(choice)?;
    if let Some(file) = args.get(2) {
        // Memory handled as detect handles it, so the two rates compare.
        models::allocator::reuse_working_set();
        let tile: usize = args.get(3).map_or(Ok(864), |s| s.parse())?;
        let model = Model::load(std::path::Path::new(file), device)?;
        let patch = model.meta.patch;
        measure(file, Classifier::from_model(model), patch, 64, tile, budget)?;
        return Ok(());
    }
    for (arch, patch, batch) in [
        ("resnet-small", 32, 256),
        ("resnet-small-heatmap", 64, 1),
        ("resnet18", 64, 64),
        ("resnet34", 64, 64),
        ("resnet50", 64, 32),
        ("googlenet", 64, 64),
        ("googlenet-small", 64, 64),
    ] {
        let meta = ModelMeta::new(
            Arch::named(arch).ok_or("architecture")?,
            vec![1, 2, 3],
            patch,
            0.5,
            vec!["background".into(), "object".into()],
        );
        measure(arch, Classifier::from_model(Model::new(meta, device)?), patch, batch, 256, budget)?;
    }
    Ok(())
}
