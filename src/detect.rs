//! The detect stage as one call: folders of imagery in, detections a GIS
//! opens out. A [`DetectRequest`] (what the command line, the Python
//! package or the QGIS provider asks) is resolved once into a
//! [`DetectPlan`] (the model loaded, the options checked, the rasters
//! chosen), which [`DetectPlan::run`] carries out, telling a
//! [`DetectProgress`] how it goes. Each input gets NAME.geojson (written
//! atomically, skipped on rerun unless `force`); detections.geojson merges
//! them from those files, so it comes out the same whether a run was
//! interrupted and resumed or not.

use crate::error::{chain, Error, Result};
use crate::outputs::{fnv1a, merge_outputs, output_names, remove_stale_temporaries, write_run, MERGED};
use crate::Outcome;
use detection::applicability::Applicability;
use detection::classify::PatchClassifier;
use detection::formats::detect_config::Config;
use detection::formats::run::{
    InputRecord, InputStatus, Interruption, OutputFrame, RunFile, RunModel, ShardOf, Totals, RUN_VERSION,
};
use detection::options::DetectOptions;
use models::{DeviceChoice, TchClassifier};
use pipeline::detect::{detect_raster, RasterDetections};
use pipeline::export::{self, FeatureCrs, FeatureSet, OgrFormat, OutputCrs};
use pipeline::raster::Declared;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a detect run is asked to do.
#[derive(Debug, Clone)]
pub struct DetectRequest {
    /// Raster files, or folders to search for rasters.
    pub inputs: Vec<PathBuf>,
    /// Lists of raster names to keep (none: every raster found).
    pub lists: Vec<PathBuf>,
    /// Share `k` of `n` of the inputs, by a hash of each path.
    pub shard: Option<(u64, u64)>,
    /// A model file or a shipped model's name (`None`: the default model).
    pub model: Option<PathBuf>,
    /// The detect settings: a config file's, with the flags over them.
    pub config: Config,
    /// Where the classifier runs.
    pub device: DeviceChoice,
    /// Formats written besides GeoJSON.
    pub formats: Vec<OgrFormat>,
    /// Coordinates of the outputs.
    pub crs: OutputCrs,
    /// What the user states about rasters that lack it.
    pub declared: Declared,
    /// The output folder (created if missing).
    pub out: PathBuf,
    /// Redo inputs whose output already exists.
    pub force: bool,
    /// Also write NAME.png, the image with detections drawn.
    pub quicklook: bool,
}

/// How a run goes, told as it goes: a terminal's progress bars, a
/// notebook's callback, QGIS's progress bar. Every method does nothing
/// unless implemented.
pub trait DetectProgress {
    /// The run starts on `rasters` rasters.
    fn start(&mut self, _rasters: usize) {}
    /// A raster's detection starts, under its output name.
    fn raster(&mut self, _name: &str) {}
    /// `done` of the raster's `total` tiles are scored.
    fn tiles(&mut self, _done: usize, _total: usize) {}
    /// The raster's detection is over (written, failed or interrupted).
    fn raster_over(&mut self) {}
    /// One more raster is finished with, skipped ones included.
    fn advance(&mut self) {}
    /// The run's loop is over.
    fn finish(&mut self) {}
    /// Something the user should know (a line, with its fix).
    fn warn(&mut self, _message: &str) {}
    /// A raster that failed, and why; the others go on.
    fn error(&mut self, _message: &str) {}
    /// A note for those who asked for more (`-v`).
    fn info(&mut self, _message: &str) {}
}

/// A progress that tells nothing.
pub struct Quiet;

impl DetectProgress for Quiet {}

/// A detect run resolved: the model loaded, the options checked, the
/// rasters chosen.
pub struct DetectPlan {
    detector: Detector,
    rasters: Vec<PathBuf>,
    missing: Vec<pipeline::Error>,
    request: DetectRequest,
}

/// What a run did.
pub struct DetectRun {
    /// run.json, as written.
    pub run: RunFile,
    /// How it ended.
    pub outcome: Outcome,
    /// The merged GeoJSON file.
    pub merged: PathBuf,
    /// Rasters of the plan, for the interruption's message.
    pub planned: usize,
}

impl DetectPlan {
    /// Resolves a request: loads the config and the model, checks the
    /// options, creates the output folder and chooses the rasters.
    pub fn resolve(request: DetectRequest) -> Result<DetectPlan> {
        let mut detector = Detector::load(request.model.as_deref(), request.device, &request.config)?;
        detector.opts.declared = request.declared;
        std::fs::create_dir_all(&request.out).map_err(|e| Error::File {
            path: request.out.clone(),
            reason: format!("cannot create the output folder (choose another --out): {e}"),
        })?;
        remove_stale_temporaries(&request.out);
        let (mut rasters, missing) = crate::outputs::select_rasters(&request.inputs, &request.lists)?;
        crate::check_bounds(&rasters, &detector.opts.declared)?;
        if let Some((k, n)) = request.shard {
            rasters.retain(|p| fnv1a(&p.to_string_lossy()) % n == k);
        }
        Ok(DetectPlan { detector, rasters, missing, request })
    }

    /// The rasters it will read, in order.
    pub fn rasters(&self) -> &[PathBuf] {
        &self.rasters
    }

    /// Inputs that were asked for and not found.
    pub fn missing(&self) -> &[pipeline::Error] {
        &self.missing
    }

    /// Detects in every raster, writes the folder, and says how it went.
    /// Stops after the raster in hand when `pipeline::interrupt` is
    /// requested (what is finished is kept; the same request resumes).
    pub fn run(mut self, progress: &mut dyn DetectProgress) -> Result<DetectRun> {
        let start = Instant::now();
        let (out, force) = (self.request.out.clone(), self.request.force);
        let rasters = self.rasters.clone();
        let mut records: Vec<InputRecord> = self
            .missing
            .iter()
            .map(|e| InputRecord {
                path: PathBuf::new(),
                output: None,
                status: InputStatus::Failed,
                error: Some(e.to_string()),
                notes: vec![],
                stats: None,
                applicability: None,
            })
            .collect();
        for e in &self.missing {
            progress.error(&e.to_string());
        }
        let names = output_names(&rasters);
        progress.start(rasters.len());
        for (path, name) in rasters.iter().zip(&names) {
            if pipeline::interrupt::requested() {
                break;
            }
            let geojson = out.join(format!("{name}.geojson"));
            let mut record = InputRecord {
                path: path.clone(),
                output: Some(format!("{name}.geojson")),
                status: InputStatus::Done,
                error: None,
                notes: vec![],
                stats: None,
                applicability: None,
            };
            if geojson.exists() && !force {
                record.status = InputStatus::Skipped;
                record.notes.push("output exists (use --force to redo it)".into());
                progress.info(&format!("{}: skipped, {} exists", path.display(), geojson.display()));
                records.push(record);
                progress.advance();
                continue;
            }
            if let Some(fit) = self.detector.applicability(path, progress) {
                record.applicability = Some(fit);
            }
            progress.raster(name);
            let outcome = self.one(path, name, progress);
            progress.raster_over();
            match outcome {
                Ok(r) => {
                    for n in &r.notes {
                        progress.warn(&format!("{}: {n}", path.display()));
                    }
                    progress.info(&format!(
                        "{}: {} detections in {:.1} s",
                        path.display(),
                        r.stats.detections,
                        r.stats.seconds.total
                    ));
                    record.stats = Some(r.stats);
                    record.notes = r.notes;
                }
                Err(_) if pipeline::interrupt::requested() => {
                    // Nothing of this raster was written; the rerun redoes it.
                    progress.advance();
                    break;
                }
                Err(e) => {
                    let message = chain(&e);
                    progress.error(&message);
                    record.status = InputStatus::Failed;
                    record.error = Some(message);
                }
            }
            records.push(record);
            progress.advance();
        }
        progress.finish();
        self.write_folder(records, start)
    }

    /// One raster: detect, write its formats, its quicklook and, last (its
    /// presence marks the raster finished, for resuming), its GeoJSON.
    fn one(
        &mut self,
        path: &Path,
        name: &str,
        progress: &mut dyn DetectProgress,
    ) -> Result<pipeline::detect::RasterDetections> {
        let req = &self.request;
        let r = self.detector.detect(path, progress)?;
        let set = self.detector.features(&r, req.crs, &format!("{name}.geojson is"), progress)?;
        for f in &req.formats {
            export::write_ogr(&req.out.join(format!("{name}.{}", f.extension())), *f, &set)?;
        }
        if req.quicklook {
            let d = &self.detector;
            let raster = pipeline::Raster::open_declared(path, &d.opts.declared)?;
            pipeline::quicklook::quicklook(&raster, &r.detections, &d.class, &req.out.join(format!("{name}.png")))?;
        }
        export::write_atomic(&req.out.join(format!("{name}.geojson")), export::geojson(&set).as_bytes())?;
        Ok(r)
    }

    /// The merged files and run.json, once every raster is done with.
    fn write_folder(self, records: Vec<InputRecord>, start: Instant) -> Result<DetectRun> {
        let req = &self.request;
        let outputs: Vec<(PathBuf, PathBuf)> = records
            .iter()
            .filter(|r| r.status != InputStatus::Failed)
            .filter_map(|r| Some((r.path.clone(), req.out.join(r.output.as_ref()?))))
            .collect();
        let merged = merge_outputs(outputs)?;
        let merged_file = req.out.join(format!("{MERGED}.geojson"));
        export::write_atomic(&merged_file, export::geojson(&merged).as_bytes())?;
        for f in &req.formats {
            export::write_ogr(&req.out.join(format!("{MERGED}.{}", f.extension())), *f, &merged)?;
        }
        let failed = records.iter().filter(|r| r.status == InputStatus::Failed).count();
        let interrupted = pipeline::interrupt::requested();
        let asked = self.rasters.len() + self.missing.len();
        let run = RunFile {
            version: RUN_VERSION,
            rsdetect: env!("CARGO_PKG_VERSION").into(),
            model: Some(RunModel {
                path: self.detector.model_path.clone(),
                describe: self.detector.classifier.describe(),
                meta: self.detector.classifier.meta().clone(),
            }),
            device: Some(self.detector.classifier.device()),
            config: Some(self.detector.opts.clone()),
            crs: Some(match req.crs {
                OutputCrs::Wgs84 => OutputFrame::Wgs84,
                OutputCrs::Native => OutputFrame::Native,
            }),
            shard: req.shard.map(|(k, n)| ShardOf { k, n }),
            merged_from: None,
            formats: req.formats.iter().map(|f| f.extension().to_owned()).collect(),
            totals: Totals { inputs: records.len(), failed, detections: merged.features.len() },
            interrupted: interrupted.then_some(Interruption { finished: records.len(), of: asked }),
            seconds: Some(start.elapsed().as_secs_f64()),
            inputs: records,
        };
        write_run(&req.out, &run)?;
        let outcome = if interrupted { Outcome::Interrupted } else { Outcome::of(failed, merged.features.len()) };
        Ok(DetectRun { run, outcome, merged: merged_file, planned: self.rasters.len() })
    }
}

/// A model loaded with its detect options resolved: what finds objects in
/// one raster. A detect run holds one; so does the Python package's
/// `Model`, which detects in arrays it is handed.
pub struct Detector {
    classifier: TchClassifier,
    model_path: PathBuf,
    /// The model as the user named it, for the fixes messages give.
    model_name: String,
    opts: DetectOptions,
    class: String,
}

impl Detector {
    /// Loads `model` (a file or a shipped model's name; `None`: the default
    /// model) onto `device` and resolves `config` against it.
    pub fn load(model: Option<&Path>, device: DeviceChoice, config: &Config) -> Result<Detector> {
        let model_path = crate::model_path(model)?;
        let model_name = model.map_or("default".into(), |m| m.display().to_string());
        let mut classifier = TchClassifier::load(&model_path, device)?;
        if let Some(on) = config.tta {
            classifier.set_tta(on);
        }
        // bf16 changed val_socal's F1 by +0.0008 (bench/README.md), so it is
        // the default wherever the hardware runs it natively.
        match config.reduced_precision {
            Some(on) => classifier.set_reduced_precision(on),
            None if models::cpu_has_bf16() => classifier.set_reduced_precision(true),
            None => {}
        }
        let opts = config.resolve(classifier.spec())?;
        let class = classifier.meta().classes[classifier.meta().positive].clone();
        Ok(Detector { classifier, model_path, model_name, opts, class })
    }

    /// The options every raster is detected with.
    pub fn options(&self) -> &DetectOptions {
        &self.opts
    }

    /// What the user states about rasters that lack it, for the rasters to come.
    pub fn declare(&mut self, declared: Declared) {
        self.opts.declared = declared;
    }

    /// The model file.
    pub fn model_path(&self) -> &Path {
        &self.model_path
    }

    /// The class every detection carries.
    pub fn class(&self) -> &str {
        &self.class
    }

    /// The loaded classifier.
    pub fn classifier(&self) -> &TchClassifier {
        &self.classifier
    }

    /// How `path` fits the model (resolution, band statistics), its
    /// warnings told to `progress`; `None` when it cannot be opened (the
    /// detection that follows fails with the reason) or checked.
    pub fn applicability(&self, path: &Path, progress: &mut dyn DetectProgress) -> Option<Applicability> {
        let raster = pipeline::Raster::open_declared(path, &self.opts.declared).ok()?;
        match pipeline::applicability::check(&raster, self.classifier.spec(), &self.model_name) {
            Ok(fit) => {
                for w in &fit.warnings {
                    progress.warn(&format!("{}: {w}", path.display()));
                }
                Some(fit)
            }
            Err(e) => {
                progress.warn(&format!("{}: fit to the model not checked: {e}", path.display()));
                None
            }
        }
    }

    /// Finds the objects in one raster, telling `progress` its tiles.
    pub fn detect(&mut self, path: &Path, progress: &mut dyn DetectProgress) -> Result<RasterDetections> {
        let opts = &self.opts;
        Ok(detect_raster(path, &mut self.classifier, opts, &mut |done, total| progress.tiles(done, total))?)
    }

    /// One raster's detections as features in `crs`; for a raster without
    /// georeferencing or CRS, `progress` is told which frame `they_are` (the
    /// output that holds them, "NAME.geojson is") in.
    pub fn features(
        &self,
        r: &RasterDetections,
        crs: OutputCrs,
        they_are: &str,
        progress: &mut dyn DetectProgress,
    ) -> Result<FeatureSet> {
        let set = export::features(r, &self.class, crs)?;
        let path = r.info.path.display();
        match set.crs {
            FeatureCrs::Pixel => progress
                .warn(&format!("{path}: not georeferenced; {they_are} in pixel coordinates (x = column, y = -row)")),
            FeatureCrs::MapUnits => {
                progress.warn(&format!("{path}: no CRS; {they_are} in the map units of its geotransform"))
            }
            _ => {}
        }
        Ok(set)
    }
}
