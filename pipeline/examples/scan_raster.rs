//! Benchmark: read every window of a raster through the tiling grid, as the
//! detector does, and report throughput and peak memory as one JSON line.
//!
//! `cargo run --release -p pipeline --example scan_raster -- RASTER [TILE] [OVERLAP]`

use pipeline::{Grid, Raster};
use std::time::Instant;

/// Peak resident set size of this process in MB, from the kernel.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kb / 1024.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: scan_raster RASTER [TILE] [OVERLAP]")?;
    let tile: usize = args.get(1).map_or(Ok(1024), |s| s.parse())?;
    let overlap: usize = args.get(2).map_or(Ok(32), |s| s.parse())?;
    let start = Instant::now();
    let raster = Raster::open(path)?;
    let (w, h) = raster.size();
    let bands: Vec<usize> = (1..=raster.band_count()).collect();
    let grid = Grid::new(w, h, tile, overlap)?;
    let mut read_px = 0usize;
    let mut checksum = 0u64;
    for t in grid.tiles() {
        let data = raster.read_window::<u8>(t.window, &bands)?;
        read_px += t.window.area();
        checksum = checksum.wrapping_add(data.data.iter().step_by(97).map(|&v| v as u64).sum::<u64>());
    }
    let secs = start.elapsed().as_secs_f64();
    let mpx = (w * h) as f64 / 1e6;
    println!(
        "{{\"raster\":{:?},\"width\":{w},\"height\":{h},\"bands\":{},\"tile\":{tile},\"overlap\":{overlap},\"tiles\":{},\"seconds\":{secs:.3},\"mpx_per_s\":{:.1},\"read_overhead\":{:.3},\"peak_rss_mb\":{:.1},\"checksum\":{checksum}}}",
        path,
        bands.len(),
        grid.len(),
        mpx / secs,
        read_px as f64 / (w * h) as f64,
        peak_rss_mb()
    );
    Ok(())
}
