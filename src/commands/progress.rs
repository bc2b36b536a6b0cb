//! Progress for the library's stages: on a terminal, a bar over the
//! rasters and one over the tiles of the raster in hand, with warnings and
//! errors printed above them (indicatif draws nothing when stderr is not a
//! terminal, so logs get the lines alone); for programs that run rsdetect
//! (`--progress json`), one JSON object per line.

use crate::cli::ProgressFormat;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rsdetect::calibration::CalibrationProgress;
use rsdetect::detect::DetectProgress;
use rsdetect::train::TrainProgress;
use serde_json::json;
use std::io::IsTerminal;

/// A detect-like stage's progress (detect, explain) in `format`, the
/// terminal's bars labelled `prefix`.
pub fn detect_progress(format: ProgressFormat, prefix: &'static str) -> Box<dyn DetectProgress> {
    match format {
        ProgressFormat::Bars => Box::new(Bars::new(prefix)),
        ProgressFormat::Json => Box::new(JsonLines::default()),
    }
}

/// Calibration's progress in `format`.
pub fn calibration_progress(format: ProgressFormat) -> Box<dyn CalibrationProgress> {
    match format {
        ProgressFormat::Bars => Box::new(Lines),
        ProgressFormat::Json => Box::new(JsonLines::default()),
    }
}

/// What a stage tells of an input that failed, in `format`.
pub fn on_error(format: ProgressFormat) -> impl FnMut(&str) {
    move |message| match format {
        ProgressFormat::Bars => eprintln!("error: {message}"),
        ProgressFormat::Json => event("error", json!({ "message": message })),
    }
}

/// The error that ended the command, in `format`.
pub fn fatal(format: ProgressFormat, message: &str) {
    match format {
        ProgressFormat::Bars => eprintln!("error: {message}"),
        ProgressFormat::Json => event("error", json!({ "message": message, "fatal": true })),
    }
}

/// One event as a line of JSON on stderr: `{"event": KIND, ...fields}`.
fn event(kind: &str, mut fields: serde_json::Value) {
    fields["event"] = kind.into();
    eprintln!("{fields}");
}

/// `--progress json`: every event a line of JSON on stderr, with the
/// fraction of the whole run done, for a caller's progress bar.
#[derive(Default)]
pub struct JsonLines {
    /// Rasters of the run, and how many are finished with.
    rasters: (usize, usize),
    /// The raster or epoch in hand.
    what: String,
    /// Epoch in hand (1-based) and of how many.
    epoch: (usize, usize),
}

impl JsonLines {
    /// The progress event at `fraction` of the run, with `fields` beside.
    fn progress_with(&self, fraction: f64, mut fields: serde_json::Value) {
        fields["fraction"] = ((fraction.clamp(0.0, 1.0) * 1e4).round() / 1e4).into();
        fields["what"] = self.what.clone().into();
        event("progress", fields);
    }

    fn progress(&self, fraction: f64) {
        self.progress_with(fraction, json!({}));
    }
}

impl DetectProgress for JsonLines {
    fn start(&mut self, rasters: usize) {
        self.rasters = (rasters, 0);
        event("start", json!({ "rasters": rasters }));
    }

    fn raster(&mut self, name: &str) {
        self.what = name.to_owned();
    }

    fn tiles(&mut self, done: usize, total: usize) {
        let (of, finished) = self.rasters;
        self.progress((finished as f64 + done as f64 / total.max(1) as f64) / of.max(1) as f64);
    }

    fn advance(&mut self) {
        self.rasters.1 += 1;
        let (of, finished) = self.rasters;
        self.progress(finished as f64 / of.max(1) as f64);
    }

    fn warn(&mut self, message: &str) {
        event("warning", json!({ "message": message }));
    }

    fn error(&mut self, message: &str) {
        event("error", json!({ "message": message }));
    }

    fn info(&mut self, message: &str) {
        event("info", json!({ "message": message }));
    }
}

impl TrainProgress for JsonLines {
    fn say(&mut self, line: &str) {
        event("info", json!({ "message": line }));
    }

    fn step(&mut self, step: usize, total: usize, loss: f64) {
        let (next, of) = self.epoch;
        let fraction = (next.saturating_sub(1) as f64 + step as f64 / total.max(1) as f64) / of.max(1) as f64;
        self.progress_with(fraction, json!({ "loss": loss }));
    }

    fn epoch(&mut self, next: usize, of: usize) {
        self.epoch = (next, of);
        self.what = format!("epoch {next}/{of}");
    }

    fn scored(&mut self, suppression_m: f64, done: usize, total: usize) {
        self.what = format!("calibrating at {suppression_m} m");
        self.progress(done as f64 / total.max(1) as f64);
    }
}

impl CalibrationProgress for JsonLines {
    fn say(&mut self, line: &str) {
        TrainProgress::say(self, line);
    }

    fn scored(&mut self, suppression_m: f64, done: usize, total: usize) {
        TrainProgress::scored(self, suppression_m, done, total);
    }
}

/// The terminal's progress: a bar over the rasters and one over the tiles
/// of the raster in hand; warnings and errors printed above them.
pub struct Bars {
    prefix: &'static str,
    bars: MultiProgress,
    overall: Option<ProgressBar>,
    tiles: Option<ProgressBar>,
}

impl Bars {
    /// Bars whose overall one is labelled `prefix`.
    pub fn new(prefix: &'static str) -> Bars {
        Bars { prefix, bars: MultiProgress::new(), overall: None, tiles: None }
    }
}

impl DetectProgress for Bars {
    fn start(&mut self, rasters: usize) {
        self.overall = Some(self.bars.add(super::rasters_bar(self.prefix, rasters)));
    }

    fn raster(&mut self, name: &str) {
        let Some(overall) = &self.overall else { return };
        let bar = self.bars.insert_before(overall, ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} tiles {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        bar.set_prefix(name.to_owned());
        self.tiles = Some(bar);
    }

    fn tiles(&mut self, done: usize, total: usize) {
        if let Some(bar) = &self.tiles {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }

    fn raster_over(&mut self) {
        if let Some(bar) = self.tiles.take() {
            bar.finish_and_clear();
        }
    }

    fn advance(&mut self) {
        if let Some(bar) = &self.overall {
            bar.inc(1);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = &self.overall {
            bar.finish_and_clear();
        }
    }

    fn warn(&mut self, message: &str) {
        self.bars.suspend(|| tracing::warn!("{message}"));
    }

    fn error(&mut self, message: &str) {
        self.bars.suspend(|| eprintln!("error: {message}"));
    }

    fn info(&mut self, message: &str) {
        tracing::info!("{message}");
    }
}

/// Calibration's count of scored validation rasters, on one line that
/// rewrites itself, only where someone watches (logs get the results).
pub fn scored_line(suppression_m: f64, done: usize, total: usize) {
    if std::io::stderr().is_terminal() {
        eprint!("\rcalibrating, suppression {suppression_m} m: scored {done}/{total} validation rasters");
        if done == total {
            eprintln!();
        }
    }
}

/// Calibration's lines on stderr.
pub struct Lines;

impl rsdetect::calibration::CalibrationProgress for Lines {
    fn say(&mut self, line: &str) {
        eprintln!("{line}");
    }

    fn scored(&mut self, suppression_m: f64, done: usize, total: usize) {
        scored_line(suppression_m, done, total);
    }
}
