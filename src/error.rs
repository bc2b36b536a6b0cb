//! Errors of the glue library: what the crates below report, passed on as
//! they said it, and problems with rsdetect's own files, each naming the
//! file and what to do.

use std::path::PathBuf;

/// Everything the glue library reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A raster, label file or output (the GDAL side).
    #[error(transparent)]
    Pipeline(#[from] pipeline::Error),
    /// A model file.
    #[error(transparent)]
    Model(#[from] models::ModelError),
    /// A device that cannot be used.
    #[error(transparent)]
    Device(#[from] models::DeviceError),
    /// A model that cannot run where asked.
    #[error(transparent)]
    Classifier(#[from] models::ClassifierError),
    /// A config file, or a value in it.
    #[error(transparent)]
    Config(#[from] detection::formats::ConfigError),
    /// One of rsdetect's files (a list, run.json) that cannot be used.
    #[error("{}: {reason}", .path.display())]
    File {
        /// The file or folder.
        path: PathBuf,
        /// Why, and what to do.
        reason: String,
    },
    /// Inputs that leave nothing to work on.
    #[error("{0}")]
    Nothing(String),
    /// libtorch or the plotting library failed.
    #[error("{0}")]
    Backend(String),
}

/// The glue library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A lower library's failure, in its own words.
pub(crate) fn backend<E: std::fmt::Display>(e: E) -> Error {
    Error::Backend(e.to_string())
}

/// An error and its causes, as one line (`what: why: why`).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
