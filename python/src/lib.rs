//! rsdetect for Python: PyO3 bindings over the same library stages the
//! command line calls (`rsdetect::detect`, `train`, `evaluate`, `suggest`,
//! `explain`), not a wrapper around the binary. Work runs with the GIL
//! released; progress, warnings and Ctrl-C reach Python between tiles and
//! epochs (`progress.rs`); errors are Python exceptions carrying the
//! library's message and its fix (`errors.rs`).

mod arrays;
mod detections;
mod errors;
mod model;
mod options;
mod progress;
mod stages;

use pyo3::prelude::*;

/// The native module, `rsdetect._native`; `rsdetect/__init__.py` re-exports it.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("RsdetectError", py.get_type::<errors::RsdetectError>())?;
    m.add("InputError", py.get_type::<errors::InputError>())?;
    m.add("ModelError", py.get_type::<errors::ModelError>())?;
    m.add("ConfigError", py.get_type::<errors::ConfigError>())?;
    m.add("RsdetectWarning", py.get_type::<errors::RsdetectWarning>())?;
    m.add_class::<detections::Detections>()?;
    m.add_class::<model::Model>()?;
    m.add_function(wrap_pyfunction!(stages::detect, m)?)?;
    m.add_function(wrap_pyfunction!(stages::train, m)?)?;
    m.add_function(wrap_pyfunction!(stages::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(stages::suggest, m)?)?;
    m.add_function(wrap_pyfunction!(stages::explain, m)?)?;
    m.add_function(wrap_pyfunction!(stages::models, m)?)?;
    Ok(())
}
