//! Writes a synthetic shrub scene (tiled RGB GeoTIFF) and its shrub centres
//! (CSV, pixel coordinates `x,y,radius`).
//!
//! `cargo run --release -p pipeline --example synthetic_scene -- OUT.tif SIZE [SEED] [COMPRESS]`

use pipeline::synthetic::{write_scene, SceneSpec};
use std::io::Write;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(size)) = (args.first(), args.get(1)) else {
        return Err("usage: synthetic_scene OUT.tif SIZE [SEED] [COMPRESS]".into());
    };
    let size: usize = size.parse()?;
    let mut spec = SceneSpec { width: size, height: size, ..SceneSpec::default() };
    if let Some(seed) = args.get(2) {
        spec.seed = seed.parse()?;
    }
    if let Some(c) = args.get(3) {
        spec.compress = c.clone();
    }
    let out = PathBuf::from(out);
    let shrubs = write_scene(&out, &spec)?;
    let mut csv = std::io::BufWriter::new(std::fs::File::create(out.with_extension("csv"))?);
    writeln!(csv, "x,y,radius")?;
    for s in &shrubs {
        writeln!(csv, "{:.2},{:.2},{:.2}", s.x, s.y, s.radius)?;
    }
    eprintln!("{}: {size}x{size} px, {} shrubs", out.display(), shrubs.len());
    Ok(())
}
