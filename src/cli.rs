//! The command line, as clap parses it.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Find small objects (shrubs, trees) in large georeferenced imagery.
#[derive(Debug, Parser)]
#[command(name = "rsdetect", version, about, propagate_version = true)]
pub struct Cli {
    /// More messages on stderr (-v progress notes, -vv debugging).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// How progress, warnings and errors reach stderr: bars and lines for a terminal, or one JSON object per line
    /// (`{"event": "progress", "fraction": 0.42, "what": ...}`, "warning", "error", "info") for programs that run
    /// rsdetect, such as its QGIS provider.
    #[arg(long, value_enum, default_value = "bars", global = true)]
    pub progress: ProgressFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How progress reaches stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressFormat {
    /// Bars and lines, for a terminal.
    Bars,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Describe rasters: size, bands, CRS, geotransform, ground sample distance, nodata, layout.
    Info(InfoArgs),
    /// Write the candidate patches (preprocessing blobs or sliding windows) as GeoJSON, to inspect them.
    Candidates(CandidatesArgs),
    /// Find objects: rasters or folders in, GeoJSON (and GeoPackage/Shapefile) out.
    Detect(DetectArgs),
    /// Score detections against labels: precision, recall and F1 (one-to-one matching).
    Evaluate(EvaluateArgs),
    /// Show why the network found chosen detections: Grad-CAM or score-gradient maps as GeoTIFF and PNG.
    Explain(ExplainArgs),
    /// Choose a model's score threshold and suppression distance on validation rasters.
    Calibrate(CalibrateArgs),
    /// Propose the windows of unlabelled imagery most worth labelling next (a GeoPackage).
    Suggest(SuggestArgs),
    /// Train a classifier from imagery and labels (GeoJSON, Shapefile, GeoPackage, CSV).
    Train(TrainArgs),
    /// Combine the outputs of detect shards into the files one run would write.
    Merge(MergeArgs),
    /// Show the devices the classifier can run on (CPU, CUDA).
    Devices(DevicesArgs),
    /// List the shipped models `--model NAME` finds, with their cards' summaries.
    Models(ModelsArgs),
}

/// Arguments of `rsdetect models`.
#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `rsdetect merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output folders of `rsdetect detect --shard K/N` runs.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Folder for the combined outputs.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `--shard K/N`: the K-th of N shares of the inputs (K from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This share.
    pub k: u64,
    /// Number of shares.
    pub n: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parsed =
            s.split_once('/').and_then(|(k, n)| Some(Shard { k: k.trim().parse().ok()?, n: n.trim().parse().ok()? }));
        match parsed {
            Some(sh) if sh.n > 0 && sh.k < sh.n => Ok(sh),
            _ => Err(format!("bad shard {s:?}: use K/N with 0 <= K < N, e.g. 0/3")),
        }
    }
}

/// Arguments of `rsdetect train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Training rasters, or folders of them.
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub images: Vec<PathBuf>,
    /// Label files or folders of them; paired with rasters by location.
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub labels: Vec<PathBuf>,
    /// Only the rasters named in this file (one name per line, extension
    /// optional); repeat it to add lists (e.g. one per year).
    #[arg(long, value_name = "FILE")]
    pub list: Vec<PathBuf>,
    /// Validation rasters (default: the training rasters named by --val-list, else every 10th).
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub val_images: Vec<PathBuf>,
    /// Only the validation rasters named in this file; repeat it for
    /// validation sets scored one by one (e.g. one per year).
    #[arg(long, value_name = "FILE")]
    pub val_list: Vec<PathBuf>,
    /// Where to write the model.
    #[arg(long, value_name = "MODEL.safetensors")]
    pub out: PathBuf,
    /// Labelled areas: polygons (GeoJSON, Shapefile, GeoPackage) inside which
    /// every object is labelled; background is learned only there. Without
    /// them, only around each raster's labels (their padded hull).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub areas: Vec<PathBuf>,
    /// Every object of every training raster is labelled: learn background
    /// everywhere else (tiles labelled whole, as the NAIP urban trees are).
    #[arg(long, conflicts_with = "areas")]
    pub all_labelled: bool,
    /// Network: resnet18, resnet34, resnet50, resnet-small, resnet-small-heatmap, googlenet, googlenet-small.
    #[arg(long, value_parser = network_name)]
    pub arch: Option<String>,
    /// TOML with [model], [sampling] and [train] tables (see configs/train-default.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Epochs (overrides the config).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Bands to use, e.g. 1,2,3 (default: every band of the first raster).
    #[arg(long, value_delimiter = ',')]
    pub bands: Option<Vec<usize>>,
    /// Where training runs: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: models::DeviceChoice,
    /// Start from another model's weights (a model file or a shipped
    /// model's name; a torchvision export works too). Without --init,
    /// --scratch, --config or --arch, training starts from the shipped model
    /// whose bands fit.
    #[arg(long, value_name = "FILE|NAME", conflicts_with = "scratch")]
    pub init: Option<PathBuf>,
    /// Start from random weights, not from a shipped model.
    #[arg(long)]
    pub scratch: bool,
    /// Train only the classifier head (with --init).
    #[arg(long)]
    pub freeze_backbone: bool,
    /// Continue from a checkpoint written by an earlier run (OUT.ckpt.safetensors).
    #[arg(long, value_name = "CKPT")]
    pub resume: Option<PathBuf>,
    #[command(flatten)]
    pub declared: DeclaredArgs,
    /// Train at this ground sample distance, metres: imagery is resampled to
    /// it (default: the starting model's; from scratch, the first raster's).
    /// Objects about 5-25 px across at it suit the shipped models.
    #[arg(long, value_name = "METRES")]
    pub gsd: Option<f64>,
    /// Skip choosing the operating point (run `rsdetect calibrate` later).
    #[arg(long)]
    pub no_calibrate: bool,
}

/// Arguments of `rsdetect evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// What detect wrote: its output folder, or one of its GeoJSON files.
    #[arg(long, value_name = "FILE|DIR")]
    pub detections: PathBuf,
    /// Label files or folders of them (GeoJSON, Shapefile, GeoPackage, CSV); matched in space.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE|DIR")]
    pub labels: Vec<PathBuf>,
    /// Where to write the report (JSON).
    #[arg(long, value_name = "REPORT.json")]
    pub out: Option<PathBuf>,
    /// Matching rule: distance:<metres> (centres), center-in-label, iou:<t>.
    #[arg(long = "match", default_value = "distance:6")]
    pub rule: detection::evaluate::MatchRule,
    /// Count only detections scoring at least this.
    #[arg(long, conflicts_with = "sweep")]
    pub score_threshold: Option<f64>,
    /// Precision, recall and F1 at every threshold, the best F1, average precision, and a PR-curve PNG.
    #[arg(long)]
    pub sweep: bool,
}

/// Arguments of `rsdetect explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// What detect wrote: its output folder, or one of its GeoJSON files.
    #[arg(long, value_name = "FILE|DIR")]
    pub detections: PathBuf,
    /// Output folder (created if missing): NAME.explain.tif per raster, NAME/ID.png per detection, explain.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The model that made the detections (default: the one run.json names, else `default`).
    #[arg(long, value_name = "FILE|NAME")]
    pub model: Option<PathBuf>,
    /// Only these detections: their positions among each raster's features, from 0 (QGIS's fid for GeoJSON).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub ids: Vec<usize>,
    /// Only detections scoring at least this.
    #[arg(long)]
    pub min_score: Option<f64>,
    /// Only detections scoring at most this.
    #[arg(long)]
    pub max_score: Option<f64>,
    /// The K highest-scoring detections of each raster (after the filters above; default 10 unless --all or --ids).
    #[arg(long, value_name = "K", conflicts_with = "bottom")]
    pub top: Option<usize>,
    /// The K lowest-scoring detections of each raster.
    #[arg(long, value_name = "K")]
    pub bottom: Option<usize>,
    /// Every detection (after the filters): the whole raster explained.
    #[arg(long, conflicts_with_all = ["top", "bottom"])]
    pub all: bool,
    /// Where the network runs: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: models::DeviceChoice,
}

/// Arguments of `rsdetect calibrate`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// The model file to calibrate (rewritten in place).
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Validation rasters, or folders of them.
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub images: Vec<PathBuf>,
    /// Only the rasters named in this file; repeat it for sets scored one
    /// by one (e.g. one per year).
    #[arg(long, value_name = "FILE")]
    pub list: Vec<PathBuf>,
    /// Label files or folders of them.
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub labels: Vec<PathBuf>,
    /// Matching rule of the evaluation to optimise: distance:<m>, center-in-label, iou:<t>.
    #[arg(long = "match", default_value = "distance:6")]
    pub rule: detection::evaluate::MatchRule,
    /// Where detection runs: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: models::DeviceChoice,
    #[command(flatten)]
    pub declared: DeclaredArgs,
    /// Heatmap networks: average scores over the 8 flips and rotations (8x the work), here and in detect.
    #[arg(long)]
    pub tta: bool,
}

/// Arguments of `rsdetect suggest`.
#[derive(Debug, clap::Args)]
pub struct SuggestArgs {
    /// Unlabelled rasters, or folders of them.
    #[arg(required = true, num_args = 1.., value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// The model to ask (a file, or a shipped model's name; default: the default model).
    #[arg(long, value_name = "FILE|NAME")]
    pub model: Option<PathBuf>,
    /// How many windows to propose.
    #[arg(long, short = 'k', default_value_t = 10)]
    pub count: usize,
    /// Side of a window, pixels at the model's ground sample distance (a
    /// training block: label every object inside it).
    #[arg(long, default_value_t = 256, value_name = "PIXELS")]
    pub window: usize,
    /// Where to write the windows (GeoPackage).
    #[arg(long, value_name = "WINDOWS.gpkg")]
    pub out: PathBuf,
    /// Where the model runs: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: models::DeviceChoice,
    #[command(flatten)]
    pub declared: DeclaredArgs,
}

/// Arguments of `rsdetect candidates`.
#[derive(Debug, clap::Args)]
pub struct CandidatesArgs {
    /// Raster files, or folders to search for rasters.
    #[arg(required = true, value_name = "RASTER")]
    pub inputs: Vec<PathBuf>,
    /// GeoJSON file to write (all rasters' candidates).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// TOML configuration (its [candidates] or [sliding] table).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Preprocessing blobs (default) or sliding windows.
    #[arg(long)]
    pub mode: Option<ModeArg>,
    /// Window side for sliding windows, pixels (default 64).
    #[arg(long, default_value = "64")]
    pub patch: usize,
    #[command(flatten)]
    pub declared: DeclaredArgs,
}

/// Arguments of `rsdetect detect`.
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// Raster files, or folders to search for rasters.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only the rasters named in this file (one name per line, extension
    /// optional); repeat it to add lists.
    #[arg(long, value_name = "FILE")]
    pub list: Vec<PathBuf>,
    /// Process only share K of N of the inputs (by a hash of each path, so
    /// the order of the inputs does not matter); combine with `rsdetect merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Model file, or the name of a shipped model (`rsdetect models` lists
    /// them; default: `default`).
    #[arg(long, value_name = "FILE|NAME")]
    pub model: Option<PathBuf>,
    /// TOML configuration (see configs/default.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the classifier runs: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: models::DeviceChoice,
    /// Candidates from preprocessing or from a sliding window (overrides the config).
    #[arg(long)]
    pub mode: Option<ModeArg>,
    /// Keep detections scoring at least this (default: the model's operating point).
    #[arg(long)]
    pub score_threshold: Option<f32>,
    /// Score each tile (heatmap networks) or patch (patch classifiers, candidates and sliding modes) in its 8 flips and rotations (8x the work), average them, and give each detection its uncertainty (`score_sd`: their standard deviation).
    #[arg(long)]
    pub tta: bool,
    /// Also write GeoPackage or Shapefile, through OGR.
    #[arg(long, value_enum)]
    pub format: Vec<OgrFormatArg>,
    /// Coordinates of the outputs: wgs84 (RFC 7946) or the raster's own CRS.
    #[arg(long, value_enum, default_value = "wgs84")]
    pub crs: CrsArg,
    #[command(flatten)]
    pub declared: DeclaredArgs,
    /// Redo inputs whose output already exists.
    #[arg(long)]
    pub force: bool,
    /// Also write NAME.png: the image with detections drawn.
    #[arg(long)]
    pub quicklook: bool,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OgrFormatArg {
    /// GeoPackage.
    Gpkg,
    /// ESRI Shapefile.
    Shp,
}

/// `--crs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CrsArg {
    /// WGS84 longitude, latitude.
    Wgs84,
    /// The raster's own CRS.
    Native,
}

/// Arguments of `rsdetect info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// Raster files, or folders to search for rasters.
    #[arg(required = true, value_name = "RASTER")]
    pub inputs: Vec<PathBuf>,
    /// Print JSON (an array, one object per raster) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub declared: DeclaredArgs,
}

/// Arguments of `rsdetect devices`.
#[derive(Debug, clap::Args)]
pub struct DevicesArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `--mode`: how candidates are chosen (the config's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Score every window on a fine lattice at once per tile: fast, but
    /// windows see their surroundings, which patch-trained models did not
    /// (needs a ResNet model).
    Dense,
    /// Classify only blobs found by preprocessing (fast).
    Candidates,
    /// Classify every window of a grid (thorough).
    Sliding,
}

impl From<ModeArg> for detection::formats::detect_config::Mode {
    fn from(m: ModeArg) -> Self {
        use detection::formats::detect_config::Mode;
        match m {
            ModeArg::Dense => Mode::Dense,
            ModeArg::Candidates => Mode::Candidates,
            ModeArg::Sliding => Mode::Sliding,
        }
    }
}

/// What the user states about rasters that do not state it themselves: one
/// set of flags for every command that reads rasters.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DeclaredArgs {
    /// Ground sample distance (metres) of rasters that do not state one.
    #[arg(long, value_name = "METRES")]
    pub input_gsd: Option<f64>,
    /// The lon/lat edges of an image without georeferencing, WEST,SOUTH,EAST,NORTH in degrees (as Google Earth Pro states them when it saves an image): the image is placed on the map, with its ground sample distance.
    #[arg(long, value_name = "W,S,E,N", allow_hyphen_values = true)]
    pub bounds: Option<detection::options::LonLatBounds>,
}

impl DeclaredArgs {
    /// As the pipeline takes it.
    pub fn declared(&self) -> pipeline::raster::Declared {
        pipeline::raster::Declared { gsd_m: self.input_gsd, bounds: self.bounds }
    }
}

impl From<OgrFormatArg> for pipeline::export::OgrFormat {
    fn from(f: OgrFormatArg) -> Self {
        match f {
            OgrFormatArg::Gpkg => pipeline::export::OgrFormat::Gpkg,
            OgrFormatArg::Shp => pipeline::export::OgrFormat::Shp,
        }
    }
}

impl From<CrsArg> for pipeline::export::OutputCrs {
    fn from(c: CrsArg) -> Self {
        match c {
            CrsArg::Wgs84 => pipeline::export::OutputCrs::Wgs84,
            CrsArg::Native => pipeline::export::OutputCrs::Native,
        }
    }
}

/// `--arch`: a network rsdetect builds, checked when the arguments are read.
fn network_name(name: &str) -> Result<String, String> {
    match detection::arch::Arch::named(name) {
        Some(_) => Ok(name.to_owned()),
        None => Err(
            "not a network rsdetect builds: resnet18, resnet34, resnet50, resnet-small, resnet-small-heatmap, googlenet, googlenet-small"
                .into(),
        ),
    }
}
