//! `rsdetect train`: the arguments as a request to the library's train
//! stage, its lines on stderr and a bar over each epoch's steps.

use crate::cli::{ProgressFormat, TrainArgs};
use crate::commands::Status;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use rsdetect::train::{TrainPlan, TrainProgress, TrainRequest};
use rsdetect::training::Cutting;

/// Trains a model as the arguments say.
pub fn run(args: &TrainArgs, format: ProgressFormat) -> Result<Status> {
    let request = TrainRequest {
        images: args.images.clone(),
        labels: args.labels.clone(),
        list: args.list.clone(),
        val_images: args.val_images.clone(),
        val_list: args.val_list.clone(),
        out: args.out.clone(),
        areas: args.areas.clone(),
        all_labelled: args.all_labelled,
        arch: args.arch.clone(),
        config: args.config.clone(),
        epochs: args.epochs,
        bands: args.bands.clone(),
        device: args.device,
        init: args.init.clone(),
        scratch: args.scratch,
        freeze_backbone: args.freeze_backbone,
        resume: args.resume.clone(),
        declared: args.declared.declared(),
        gsd: args.gsd,
        no_calibrate: args.no_calibrate,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let mut steps: Box<dyn TrainProgress> = match format {
        ProgressFormat::Bars => Box::new(Steps::new()),
        ProgressFormat::Json => Box::new(super::progress::JsonLines::default()),
    };
    TrainPlan::resolve(request, steps.as_mut())?.run(steps.as_mut())?;
    Ok(Status::Ok)
}

/// Lines on stderr, above a bar over the epoch's optimiser steps.
struct Steps {
    bar: ProgressBar,
}

impl Steps {
    fn new() -> Steps {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} loss {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        Steps { bar }
    }
}

impl TrainProgress for Steps {
    fn say(&mut self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    fn step(&mut self, step: usize, total: usize, loss: f64) {
        self.bar.set_length(total as u64);
        self.bar.set_position(step as u64);
        self.bar.set_message(format!("{loss:.4}"));
    }

    fn epoch(&mut self, next: usize, of: usize) {
        self.bar.set_prefix(format!("{next}/{of}"));
    }

    fn finish(&mut self) {
        self.bar.finish_and_clear();
    }

    fn scored(&mut self, suppression_m: f64, done: usize, total: usize) {
        super::progress::scored_line(suppression_m, done, total);
    }

    fn cutting(&mut self, set: &str, rasters: usize) -> Box<dyn Cutting> {
        let bar = ProgressBar::new(rasters as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} rasters")
                .expect("template")
                .progress_chars("=> "),
        );
        bar.set_prefix(set.to_owned());
        Box::new(CutBar(bar))
    }
}

/// A bar over a training set's rasters, cleared when they are all cut.
struct CutBar(ProgressBar);

impl Cutting for CutBar {
    fn cut(&self) {
        self.0.inc(1);
    }
}

impl Drop for CutBar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
