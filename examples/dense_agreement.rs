//! Benchmark: how far per-window scores of a heatmap model (each window
//! scored alone, as `--mode sliding` does) agree with its dense map (the
//! whole raster at once): Spearman rank correlation and the largest
//! difference, at window centres every 8 px where a whole window fits.
//! Prints one JSON line.
//!
//! `dense_agreement MODEL RASTER...`

use models::{Classifier, Device, Model};
use std::path::Path;

/// Ranks (0-based, ties averaged).
fn ranks(v: &[f32]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            r[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    r
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model_path, rasters) = args.split_first().ok_or("usage: dense_agreement MODEL RASTER...")?;
    let mut classifier = Classifier::from_model(Model::load(Path::new(model_path), Device::Cpu)?);
    // Per-window scores are single passes; compare them with single-pass maps.
    classifier.set_tta(false);
    let meta = classifier.model().meta.clone();
    let (p, c) = (meta.patch, meta.bands.len());
    let (mut dense, mut single) = (Vec::new(), Vec::new());
    for path in rasters {
        let raster = pipeline::Raster::open(path)?;
        let data = raster.read_window::<f32>(raster.full_window(), &meta.bands)?;
        let (w, h) = (data.window.width, data.window.height);
        let map = classifier.heatmap(&data.data, h, w)?;
        let mut patches = Vec::new();
        let mut centres = Vec::new();
        for y0 in (0..=h.saturating_sub(p)).step_by(8) {
            for x0 in (0..=w.saturating_sub(p)).step_by(8) {
                for b in 0..c {
                    for y in y0..y0 + p {
                        patches.extend_from_slice(&data.data[b * w * h + y * w + x0..b * w * h + y * w + x0 + p]);
                    }
                }
                centres.push((x0 + p / 2, y0 + p / 2));
            }
        }
        let per = c * p * p;
        for chunk in patches.chunks(64 * per) {
            single.extend(classifier.scores(chunk, chunk.len() / per)?);
        }
        dense.extend(centres.iter().map(|&(x, y)| map[y * w + x]));
    }
    let max_abs_diff = dense.iter().zip(&single).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    println!(
        "{{\"windows\":{},\"spearman\":{:.6},\"max_abs_diff\":{max_abs_diff:.6}}}",
        dense.len(),
        pearson(&ranks(&dense), &ranks(&single))
    );
    Ok(())
}
