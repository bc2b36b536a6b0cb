//! `rsdetect info`: what a raster is, before anything reads its pixels.

use crate::cli::InfoArgs;
use crate::commands::Status;
use pipeline::{Raster, RasterInfo};
use std::fmt::Write as _;

/// Describes each raster; a bad one is reported and the others still shown.
pub fn run(args: &InfoArgs) -> anyhow::Result<Status> {
    let (paths, mut errors) = pipeline::inputs::find_rasters(&args.inputs);
    rsdetect::check_bounds(&paths, &args.declared.declared())?;
    let mut infos = Vec::new();
    for path in &paths {
        match Raster::open_declared(path, &args.declared.declared()) {
            Ok(r) => infos.push(r.info().clone()),
            Err(e) => errors.push(e),
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&infos)?);
    } else {
        for (i, info) in infos.iter().enumerate() {
            if i > 0 {
                println!();
            }
            print!("{}", table(info));
        }
    }
    for info in &infos {
        for w in &info.warnings {
            tracing::warn!("{}: {w}", info.path.display());
        }
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    Ok(Status::of(errors.len(), infos.len()))
}

/// The description as an aligned two-column table, then one row per band.
fn table(info: &RasterInfo) -> String {
    let mut rows: Vec<(&str, String)> = vec![
        ("driver", info.driver.clone()),
        ("size", format!("{} x {} px, {} band(s)", info.width, info.height, info.bands.len())),
    ];
    rows.push((
        "crs",
        match &info.crs {
            None => "none (pixel coordinates)".into(),
            Some(c) => {
                let code = c.epsg.map_or("no EPSG code".to_string(), |e| format!("EPSG:{e}"));
                format!("{code} ({})", c.name.as_deref().unwrap_or("unnamed"))
            }
        },
    ));
    if let Some(t) = info.geotransform {
        rows.push(("origin", format!("{}, {}", num(t[0]), num(t[3]))));
        rows.push(("pixel size", format!("{} x {} (CRS units)", num(t[1]), num(t[5]))));
    } else {
        rows.push(("geotransform", "none".into()));
    }
    rows.push((
        "gsd",
        info.gsd_m.map_or("unknown".into(), |g| {
            if (g.x - g.y).abs() < 1e-9 {
                format!("{:.4} m", g.x)
            } else {
                format!("{:.4} x {:.4} m", g.x, g.y)
            }
        }),
    ));
    if let Some(b) = info.bounds_wgs84 {
        rows.push((
            "wgs84 bounds",
            format!("lon {:.6} .. {:.6}, lat {:.6} .. {:.6}", b.lon_min, b.lon_max, b.lat_min, b.lat_max),
        ));
    }
    rows.push(("layout", info.layout.to_string()));
    let mut out = format!("{}\n", info.path.display());
    for (k, v) in rows {
        let _ = writeln!(out, "  {k:<13} {v}");
    }
    let _ = writeln!(out, "  band  type      nodata     block       colour");
    for b in &info.bands {
        let nodata = b.nodata.map_or("-".into(), |v| v.to_string());
        let block = format!("{}x{}", b.block.0, b.block.1);
        let _ = writeln!(out, "  {:<5} {:<9} {:<10} {:<11} {}", b.index, b.data_type, nodata, block, b.color);
    }
    out
}

/// A coordinate to nine significant decimals, without float noise such as
/// 0.6000000000000106 or trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{v:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
