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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Describe rasters: size, bands, CRS, geotransform, ground sample distance, nodata, layout.
    Info(InfoArgs),
    /// Find objects: rasters or folders in, GeoJSON (and GeoPackage/Shapefile) out.
    Detect(DetectArgs),
    /// Show the devices the classifier can run on (CPU, CUDA).
    Devices(DevicesArgs),
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
    /// Model file (default: the model shipped in models/weights/).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// TOML configuration (see configs/default.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the classifier runs: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: models::DeviceChoice,
    /// Candidates from preprocessing or from a sliding window (overrides the config).
    #[arg(long)]
    pub mode: Option<crate::config::Mode>,
    /// Keep detections scoring at least this (default: the model's operating point).
    #[arg(long)]
    pub score_threshold: Option<f32>,
    /// Also write GeoPackage or Shapefile, through OGR.
    #[arg(long, value_enum)]
    pub format: Vec<OgrFormatArg>,
    /// Coordinates of the outputs: wgs84 (RFC 7946) or the raster's own CRS.
    #[arg(long, value_enum, default_value = "wgs84")]
    pub crs: CrsArg,
    /// Ground sample distance (metres) of rasters that do not state one.
    #[arg(long, value_name = "METRES")]
    pub input_gsd: Option<f64>,
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
}

/// Arguments of `rsdetect devices`.
#[derive(Debug, clap::Args)]
pub struct DevicesArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
