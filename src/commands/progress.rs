//! Progress on the terminal for the library's stages: a bar over the
//! rasters and one over the tiles of the raster in hand, with warnings and
//! errors printed above them (indicatif draws nothing when stderr is not a
//! terminal, so logs get the lines alone).

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rsdetect::detect::DetectProgress;
use std::io::IsTerminal;

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
