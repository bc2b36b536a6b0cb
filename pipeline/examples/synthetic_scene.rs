//! Writes a synthetic shrub scene (tiled RGB GeoTIFF) and its shrub centres
//! as GeoJSON points in the scene's CRS, with each crown's radius in metres.
//!
//! With SHAPES `elongated` (ellipses and touching pairs, see
//! [`Shapes::Elongated`]) it also writes each crown as a polygon
//! (`OUT.crowns.geojson`) and as the box a user would draw round it
//! (`OUT.boxes.geojson`).
//!
//! `cargo run --release -p pipeline --example synthetic_scene -- OUT.tif SIZE [SEED] [COMPRESS] [GSD_M] [SHAPES]`

use pipeline::synthetic::{write_labels, write_scene, LabelShape, SceneSpec, Shapes};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(size)) = (args.first(), args.get(1)) else {
        return Err("usage: synthetic_scene OUT.tif SIZE [SEED] [COMPRESS] [GSD_M] [round|elongated]".into());
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
    spec.shapes = match args.get(5).map(String::as_str) {
        None | Some("round") => Shapes::Round,
        Some("elongated") => Shapes::Elongated,
        Some(other) => return Err(format!("unknown shapes {other:?}: round or elongated").into()),
    };
    let out = PathBuf::from(out);
    let shrubs = write_scene(&out, &spec)?;
    write_labels(&out.with_extension("geojson"), &spec, &shrubs, LabelShape::Centre)?;
    if spec.shapes == Shapes::Elongated {
        write_labels(&out.with_extension("crowns.geojson"), &spec, &shrubs, LabelShape::Crown)?;
        write_labels(&out.with_extension("boxes.geojson"), &spec, &shrubs, LabelShape::Box)?;
    }
    eprintln!("{}: {size}x{size} px, {} shrubs", out.display(), shrubs.len());
    Ok(())
}
