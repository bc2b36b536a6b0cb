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
    /// Show the devices the classifier can run on (CPU, CUDA).
    Devices(DevicesArgs),
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
