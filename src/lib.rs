//! The glue that needs both GDAL (pipeline) and libtorch (models), as
//! library code the `rsdetect` binary calls: training sets assembled from
//! rasters and labels, the operating point chosen on validation rasters,
//! and the output folders of detect and merge.

pub mod calibration;
pub mod detect;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod merge;
pub mod outcome;
pub mod outputs;
pub mod starting_point;
pub mod suggest;
pub mod train;
pub mod training;

pub use error::{Error, Result};
pub use outcome::Outcome;

use std::path::{Path, PathBuf};

/// The model file a `--model` argument names (a file or a shipped model's
/// name), or the default model.
pub fn model_path(arg: Option<&Path>) -> Result<PathBuf> {
    let path = match arg {
        None => ::models::default_model(),
        Some(m) => ::models::resolve_model(m).unwrap_or_else(|| m.to_owned()),
    };
    if !path.exists() {
        return Err(Error::File {
            path,
            reason: "no such model file or shipped model; pass --model FILE or a name `rsdetect models` lists, or \
                     train one with `rsdetect train`"
                .into(),
        });
    }
    Ok(path)
}

/// Creates the folder `path` will be written in (`what` names the file for
/// the message), so an output path works as the user typed it.
pub fn create_parent(path: &Path, what: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::File {
            path: dir.to_owned(),
            reason: format!("cannot create the {what}'s folder: {e}"),
        })?;
    }
    Ok(())
}

/// `--bounds` are one image's edges: refused when more than one of `paths`
/// has no georeferencing of its own to keep it from taking them.
pub fn check_bounds(paths: &[PathBuf], declared: &pipeline::raster::Declared) -> Result<()> {
    if declared.bounds.is_none() {
        return Ok(());
    }
    let bare: Vec<&PathBuf> =
        paths.iter().filter(|p| pipeline::Raster::open(p).is_ok_and(|r| !r.georef().has_transform())).collect();
    if bare.len() > 1 {
        return Err(Error::Nothing(format!(
            "--bounds gives one image's edges, but {} rasters have no georeferencing ({}, {}, ...): give them one at \
             a time, or put a world file (NAME.jgw, .pgw or .wld, with NAME.prj) beside each",
            bare.len(),
            bare[0].display(),
            bare[1].display()
        )));
    }
    Ok(())
}
