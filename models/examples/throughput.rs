//! Benchmark: patches per second of each architecture's forward pass, on the
//! CPU or a CUDA device, with and without mixed precision. GDAL-free, so it
//! runs on machines with only libtorch. One JSON line per measurement.
//!
//! `cargo run --release -p models --example throughput -- [DEVICE] [SECONDS]`

use models::model_file::{Arch, ModelMeta};
use models::{Classifier, DeviceChoice, Model};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let choice: DeviceChoice = args.first().map_or(Ok(DeviceChoice::Cpu), |s| s.parse())?;
    let budget: f64 = args.get(1).map_or(Ok(3.0), |s| s.parse())?;
    let device = models::resolve(choice)?;
    for (arch, patch, batch) in [
        ("resnet-small", 32, 256),
        ("resnet18", 64, 64),
        ("resnet34", 64, 64),
        ("resnet50", 64, 32),
        ("googlenet", 64, 64),
    ] {
        let meta = ModelMeta::new(
            Arch::named(arch).ok_or("architecture")?,
            vec![1, 2, 3],
            patch,
            0.5,
            vec!["background".into(), "object".into()],
        );
        let model = Model::new(meta, device)?;
        let params = model.parameters();
        let classifier = Classifier::from_model(model);
        let data = vec![100f32; batch * 3 * patch * patch];
        classifier.scores(&data, batch)?;
        let start = Instant::now();
        let mut n = 0;
        while start.elapsed().as_secs_f64() < budget {
            classifier.scores(&data, batch)?;
            n += batch;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{{\"arch\":\"{arch}\",\"parameters\":{params},\"patch\":{patch},\"batch\":{batch},\"device\":\"{device:?}\",\"mixed_precision\":{},\"patches_per_s\":{:.1}}}",
            device.is_cuda(),
            n as f64 / secs
        );
    }
    Ok(())
}
