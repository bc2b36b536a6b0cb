//! How a stage running without the GIL talks to Python: the user's
//! progress callback or a tqdm bar, the library's warnings as Python
//! warnings, lines on Python's `sys.stderr` (a notebook shows them), and
//! Ctrl-C. Python only notices Ctrl-C when it runs, so each progress call
//! takes the GIL, checks for signals, and on one asks the stage to stop as
//! the command line does (after the batch in hand; finished rasters kept).

use pyo3::prelude::*;
use rsdetect::detect::DetectProgress;
use rsdetect::train::TrainProgress;

/// A stage's link to Python while it runs.
pub struct PyProgress {
    /// `callback(done, total, what)`.
    callback: Option<Py<PyAny>>,
    /// A tqdm bar, for `progress=True`.
    bar: Option<Py<PyAny>>,
    /// Lines the command line prints (training's), on `sys.stderr`.
    verbose: bool,
    /// What is being worked on: a raster's name, an epoch.
    what: String,
    /// Inputs that failed, each with why.
    pub errors: Vec<String>,
    /// Why the stage was asked to stop: Ctrl-C, or a callback that raised.
    stop: Option<PyErr>,
    /// A raster's name as GDAL knows it, and as the user does (an array's).
    renamed: Option<(String, String)>,
}

impl PyProgress {
    /// `progress`: `None`, `True` (a tqdm bar) or a callable taking
    /// `(done, total, what)`.
    pub fn new(py: Python<'_>, progress: Option<&Bound<'_, PyAny>>, verbose: bool) -> PyResult<PyProgress> {
        let (mut callback, mut bar) = (None, None);
        match progress {
            None => {}
            Some(p) if p.is_instance_of::<pyo3::types::PyBool>() && !p.is_truthy()? => {}
            Some(p) if p.is_instance_of::<pyo3::types::PyBool>() => {
                let tqdm = py.import("tqdm.auto").map_err(|e| {
                    pyo3::exceptions::PyImportError::new_err(format!(
                        "progress=True draws a tqdm bar, and tqdm is not installed ({e}): pip install tqdm, or pass a \
                         callable"
                    ))
                })?;
                bar = Some(tqdm.getattr("tqdm")?.call0()?.unbind());
            }
            Some(p) if p.is_callable() => callback = Some(p.clone().unbind()),
            Some(p) => {
                return Err(crate::errors::config_err(format!(
                    "progress={}: give True (a tqdm bar) or a function taking (done, total, what)",
                    p.repr()?
                )))
            }
        }
        // A stop asked for by an earlier, interrupted call is not this one's.
        pipeline::interrupt::clear();
        Ok(PyProgress { callback, bar, verbose, what: String::new(), errors: vec![], stop: None, renamed: None })
    }

    /// Messages name `from` (GDAL's name of an array) as `to` (the user's).
    pub fn rename(&mut self, from: String, to: String) {
        self.renamed = Some((from, to));
    }

    fn named(&self, text: &str) -> String {
        match &self.renamed {
            Some((from, to)) => text.replace(from.as_str(), to),
            None => text.to_owned(),
        }
    }

    /// Runs `f` with the GIL; a Python exception it raises stops the stage.
    fn with_python(&mut self, f: impl FnOnce(Python<'_>, &mut PyProgress) -> PyResult<()>) {
        if self.stop.is_some() {
            return;
        }
        Python::attach(|py| {
            if let Err(e) = py.check_signals().and_then(|()| f(py, self)) {
                self.stop = Some(e);
                pipeline::interrupt::request();
            }
        });
    }

    /// `done` of `total` units of what is in hand.
    fn tell(&mut self, done: usize, total: usize) {
        self.with_python(|py, me| {
            if let Some(cb) = &me.callback {
                cb.call1(py, (done, total, me.what.as_str()))?;
            }
            if let Some(bar) = &me.bar {
                let bar = bar.bind(py);
                bar.setattr("total", total)?;
                bar.setattr("n", done)?;
                bar.call_method1("set_description_str", (me.what.as_str(),))?;
                bar.call_method0("refresh")?;
            }
            Ok(())
        });
    }

    /// A line for the user, when verbose.
    fn line(&mut self, text: &str) {
        if self.verbose {
            self.with_python(|py, _| {
                py.import("sys")?.getattr("stderr")?.call_method1("write", (format!("{text}\n"),))?;
                Ok(())
            });
        }
    }

    /// A warning, as Python's `warnings` module issues them.
    pub fn warning(&mut self, text: &str) {
        let text = self.named(text);
        self.with_python(|py, _| crate::errors::warn(py, &text));
    }

    /// Ends the stage's link: the bar closed, and the exception that
    /// stopped it (Ctrl-C's KeyboardInterrupt), if one did.
    pub fn finish(mut self, py: Python<'_>) -> PyResult<Vec<String>> {
        if let Some(bar) = self.bar.take() {
            bar.bind(py).call_method0("close")?;
        }
        pipeline::interrupt::clear();
        match self.stop.take() {
            Some(e) => Err(e),
            None => Ok(self.errors),
        }
    }
}

impl DetectProgress for PyProgress {
    fn raster(&mut self, name: &str) {
        self.what = name.to_owned();
    }

    fn tiles(&mut self, done: usize, total: usize) {
        self.tell(done, total);
    }

    fn warn(&mut self, message: &str) {
        self.warning(message);
    }

    fn error(&mut self, message: &str) {
        self.errors.push(self.named(message));
    }

    fn info(&mut self, message: &str) {
        self.line(message);
    }
}

impl TrainProgress for PyProgress {
    fn say(&mut self, line: &str) {
        self.line(line);
    }

    fn step(&mut self, step: usize, total: usize, _loss: f64) {
        self.tell(step, total);
    }

    fn epoch(&mut self, next: usize, of: usize) {
        self.what = format!("epoch {next}/{of}");
    }

    fn scored(&mut self, suppression_m: f64, done: usize, total: usize) {
        self.what = format!("calibrating at {suppression_m} m");
        self.tell(done, total);
    }
}
