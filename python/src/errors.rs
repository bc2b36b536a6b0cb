//! The package's exceptions: one family, `RsdetectError`, split by what
//! the user has to fix (an input, a model, an option), each carrying the
//! library's whole message (what failed, why, what to do).

use pyo3::exceptions::{PyException, PyUserWarning};
use pyo3::prelude::*;
use rsdetect::error::chain;
use rsdetect::Error;

pyo3::create_exception!(rsdetect, RsdetectError, PyException, "Every error rsdetect raises.");
pyo3::create_exception!(
    rsdetect,
    InputError,
    RsdetectError,
    "A raster, label file, list or output folder that cannot be used; the message says which and what to do."
);
pyo3::create_exception!(
    rsdetect,
    ModelError,
    RsdetectError,
    "A model file or shipped model that cannot be found, loaded or run where asked."
);
pyo3::create_exception!(rsdetect, ConfigError, RsdetectError, "An option or config file rsdetect does not take.");
pyo3::create_exception!(
    rsdetect,
    RsdetectWarning,
    PyUserWarning,
    "What the command line prints as a warning: imagery unlike the model's, no georeferencing, ..."
);

/// The Python exception for a library error, with its causes in one line.
pub fn to_py(e: Error) -> PyErr {
    let message = chain(&e);
    classified(e, message)
}

/// The Python exception for a library error about a raster the user knows
/// by another name (an array, known to GDAL by its in-memory path `from`).
pub fn renamed(e: Error, from: &str, to: &str) -> PyErr {
    let message = chain(&e).replace(from, to);
    classified(e, message)
}

fn classified(e: Error, message: String) -> PyErr {
    match e {
        Error::Model(_) | Error::Device(_) | Error::Classifier(_) => ModelError::new_err(message),
        Error::Config(_) => ConfigError::new_err(message),
        Error::File { ref reason, .. } if reason.contains("no such model file") => ModelError::new_err(message),
        _ => InputError::new_err(message),
    }
}

/// The Python exception for a failure of the GDAL side.
pub fn pipeline_err(e: pipeline::Error) -> PyErr {
    to_py(Error::Pipeline(e))
}

/// An option given a value it does not take.
pub fn config_err(message: impl Into<String>) -> PyErr {
    ConfigError::new_err(message.into())
}

/// Issues `text` as an `RsdetectWarning`, as Python's `warnings` module does.
pub fn warn(py: Python<'_>, text: &str) -> PyResult<()> {
    let message = std::ffi::CString::new(text.replace('\0', " ")).expect("no NUL left");
    PyErr::warn(py, &py.get_type::<RsdetectWarning>(), &message, 1)
}
