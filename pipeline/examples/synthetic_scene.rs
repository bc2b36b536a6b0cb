//! Writes a synthetic shrub scene (tiled RGB GeoTIFF) and its shrub centres
//! as GeoJSON points in the scene's CRS, with each crown's radius in metres.
//!
//! `cargo run --release -p pipeline --example synthetic_scene -- OUT.tif SIZE [SEED] [COMPRESS] [GSD_M]`

use pipeline::synthetic::{write_scene, SceneSpec};
use std::io::Write;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(size)) = (args.first(), args.get(1)) else {
        return Err("usage: synthetic_scene OUT.tif SIZE [SEED] [COMPRESS] [GSD_M]".into());
    };
    let size: usize = size.parse()?;
    let mut spec = SceneSpec { width: size, height: size, ..SceneSpec::default() };
    if let Some(seed) = args.get(2) {
        spec.seed = seed.parse()?;
    }
    if let Some(c) = args.get(3) {
        spec.compress = c.clone();
    }
    if let Some(g) = args.get(4) {
        spec.gsd_m = g.parse()?;
    }
    let out = PathBuf::from(out);
    let shrubs = write_scene(&out, &spec)?;
    let mut labels = std::io::BufWriter::new(std::fs::File::create(out.with_extension("geojson"))?);
    writeln!(labels, "{{\"type\":\"FeatureCollection\",\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:EPSG::{}\"}}}},\"features\":[", spec.epsg)?;
    for (i, s) in shrubs.iter().enumerate() {
        let (x, y) = (spec.origin.0 + s.x * spec.gsd_m, spec.origin.1 - s.y * spec.gsd_m);
        let sep = if i + 1 < shrubs.len() { "," } else { "" };
        writeln!(labels, "{{\"type\":\"Feature\",\"properties\":{{\"radius_m\":{:.3}}},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{x:.3},{y:.3}]}}}}{sep}", s.radius * spec.gsd_m)?;
    }
    writeln!(labels, "]}}")?;
    eprintln!("{}: {size}x{size} px, {} shrubs", out.display(), shrubs.len());
    Ok(())
}
