//! Opening any raster GDAL reads, describing it, and reading windows of its
//! bands with a nodata mask. A [`Raster`] holds a GDAL dataset, which may move
//! between threads but not be shared: open one per worker.

use crate::error::{Error, Result};
use crate::georef::{GeoTransform, Georef};
use detection::coords::{PixelPoint, PixelWindow};
pub use detection::options::{Declared, LonLatBounds};
use gdal::raster::{GdalType, RasterBand};
use gdal::spatial_ref::SpatialRef;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use serde::{Serialize, Serializer};
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Rasters wider than this that are stored in strips get a warning: every
/// window read then decodes whole rows.
const STRIPED_WARN_WIDTH: usize = 4096;

/// An open raster with its description and georeferencing.
pub struct Raster {
    dataset: Dataset,
    info: RasterInfo,
    georef: Georef,
    /// A band tagged alpha holds imagery (continuous values), so it masks
    /// nothing: see [`alpha_holds_data`].
    alpha_is_data: bool,
}

/// What `rsdetect info` shows: everything the pipeline needs to know about a
/// raster before reading a pixel.
#[derive(Debug, Clone, Serialize)]
pub struct RasterInfo {
    /// The path as given.
    pub path: PathBuf,
    /// GDAL driver short name (GTiff, VRT, JPEG, ...).
    pub driver: String,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// One entry per band, in order.
    pub bands: Vec<BandInfo>,
    /// The CRS, when the raster has one.
    pub crs: Option<CrsInfo>,
    /// GDAL's six geotransform coefficients, when the raster has them.
    pub geotransform: Option<[f64; 6]>,
    /// Ground sample distance in metres, when a CRS tells the unit (or, for
    /// a raster without one, the user declared it).
    pub gsd_m: Option<Gsd>,
    /// WGS84 bounding box of the footprint, when georeferenced.
    pub bounds_wgs84: Option<BoundsWgs84>,
    /// How pixels are stored on disk.
    pub layout: Layout,
    /// Problems worth telling the user, each with its fix.
    pub warnings: Vec<String>,
}

impl RasterInfo {
    /// Metres per pixel (the mean along x and y), when known: from the CRS,
    /// `--bounds` or `--input-gsd` (see [`Raster::open_declared`]).
    pub fn metres_per_pixel(&self) -> Option<f64> {
        self.gsd_m.map(|g| g.mean())
    }

    /// The metres of a pixel that distances are measured in: 1 when
    /// unknown, so that they are in pixels.
    pub fn distance_scale(&self) -> f64 {
        self.metres_per_pixel().unwrap_or(1.0)
    }
}

/// One band's type, nodata value, storage block and colour.
#[derive(Debug, Clone, Serialize)]
pub struct BandInfo {
    /// 1-based band number, as GDAL counts.
    pub index: usize,
    /// GDAL data type name (Byte, UInt16, Float32, ...).
    pub data_type: String,
    /// The nodata value, if any.
    #[serde(serialize_with = "nodata_json")]
    pub nodata: Option<f64>,
    /// Block (tile or strip) size in pixels, width then height.
    pub block: (usize, usize),
    /// Colour interpretation (Red, Green, Blue, Gray, Undefined, ...).
    pub color: String,
}

/// A CRS in the forms users and tools look for.
#[derive(Debug, Clone, Serialize)]
pub struct CrsInfo {
    /// Its name, e.g. "WGS 84 / UTM zone 17N".
    pub name: Option<String>,
    /// The EPSG code, when the CRS is one.
    pub epsg: Option<u32>,
    /// Whether coordinates are in degrees.
    pub geographic: bool,
    /// WKT2.
    pub wkt: String,
}

/// Ground sample distance: ground metres covered by one pixel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gsd {
    /// Along a row.
    pub x: f64,
    /// Along a column.
    pub y: f64,
}

impl Gsd {
    /// The mean of x and y, the single figure models are trained at.
    pub fn mean(&self) -> f64 {
        (self.x + self.y) / 2.0
    }
}

/// A lon/lat bounding box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BoundsWgs84 {
    /// West edge.
    pub lon_min: f64,
    /// South edge.
    pub lat_min: f64,
    /// East edge.
    pub lon_max: f64,
    /// North edge.
    pub lat_max: f64,
}

/// How a raster's pixels are stored, which decides what a window read costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Layout {
    /// Square-ish tiles: windows read only the tiles they touch.
    Tiled {
        /// Tile width.
        width: usize,
        /// Tile height.
        height: usize,
    },
    /// Strips of whole rows.
    Striped {
        /// Rows per strip.
        rows: usize,
    },
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Layout::Tiled { width, height } => write!(f, "tiled {width}x{height}"),
            Layout::Striped { rows } => write!(f, "striped, {rows} row(s) per strip"),
        }
    }
}

/// Pixels of some bands over a window, band after band, row-major within a
/// band, with a mask of the pixels that hold data.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowData<T> {
    /// Where the pixels came from, in the raster's pixel grid.
    pub window: PixelWindow,
    /// The bands read (1-based), in the order of `data`.
    pub bands: Vec<usize>,
    /// `bands.len() * window.area()` values.
    pub data: Vec<T>,
    /// One flag per pixel: `true` where every band read holds data.
    pub valid: Vec<bool>,
}

impl<T: Copy> WindowData<T> {
    /// The pixels of the `i`-th band read (0-based position in `bands`).
    pub fn band(&self, i: usize) -> &[T] {
        let n = self.window.area();
        &self.data[i * n..(i + 1) * n]
    }

    /// The value of the `i`-th band read at column `x`, row `y` of the window.
    pub fn get(&self, i: usize, x: usize, y: usize) -> T {
        self.data[i * self.window.area() + y * self.window.width + x]
    }

    /// Number of pixels that hold data.
    pub fn valid_count(&self) -> usize {
        self.valid.iter().filter(|v| **v).count()
    }
}

/// GDAL's block cache in MB unless the user sets GDAL_CACHEMAX. GDAL's own
/// default is 5% of RAM, which on a large machine is gigabytes held for
/// windows read once in a streaming pass. 128 MB holds the blocks a row of
/// 640-1024 px tiles shares with the next across a 20000 px wide tiled raster:
/// 256 MB read it no faster, 64 MB decoded blocks again (`scan_raster`).
const GDAL_CACHE_MB: &str = "128";

/// Sets GDAL up once per process: a bounded block cache, and GDAL's own
/// messages routed to the log, since errors reach the user through our typed
/// errors, with context, rather than as bare lines on stderr.
pub(crate) fn init_gdal() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("GDAL_CACHEMAX").is_none() {
            let _ = gdal::config::set_config_option("GDAL_CACHEMAX", GDAL_CACHE_MB);
        }
        gdal::config::set_error_handler(|class, code, msg| {
            tracing::debug!(target: "gdal", ?class, code, "{msg}");
        });
    });
}

/// A GDAL dataset name that is not a file on disk (virtual file systems,
/// inline VRT XML, driver prefixes such as `NETCDF:`).
fn is_virtual_name(path: &Path) -> bool {
    let s = path.to_string_lossy();
    s.starts_with("/vsi")
        || s.starts_with('<')
        || s.contains(":\"")
        || s.split_once(':').is_some_and(|(p, _)| p.len() > 1 && p.chars().all(|c| c.is_ascii_uppercase()))
}

/// The CRS in a `.prj` file beside `path` (same name), the companion of a
/// world file; `None` when there is none or it is unreadable.
fn prj_beside(path: &Path) -> Option<SpatialRef> {
    let text = std::fs::read_to_string(path.with_extension("prj")).ok()?;
    SpatialRef::from_wkt(text.trim()).or_else(|_| SpatialRef::from_esri(text.trim())).ok()
}

impl Raster {
    /// Opens any raster GDAL reads, read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Raster> {
        Self::open_declared(path, &Declared::default())
    }

    /// Opens a raster, taking what `declared` states where the raster does
    /// not state it: `--bounds` georeferences an image without
    /// georeferencing, `--input-gsd` gives one without a CRS its metres per
    /// pixel. Every command that reads rasters opens them through here.
    pub fn open_declared(path: impl AsRef<Path>, declared: &Declared) -> Result<Raster> {
        let path = path.as_ref();
        init_gdal();
        if !is_virtual_name(path) && !path.exists() {
            return Err(Error::NotFound { path: path.to_owned() });
        }
        if path.is_dir() {
            return Err(Error::NotRaster { path: path.to_owned(), reason: "it is a folder".into() });
        }
        let options = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_RASTER | GdalOpenFlags::GDAL_OF_READONLY,
            ..Default::default()
        };
        let dataset = Dataset::open_ex(path, options)
            .map_err(|e| Error::NotRaster { path: path.to_owned(), reason: gdal_reason(&e) })?;
        Self::from_dataset_as(path, dataset, declared, true)
    }

    /// Describes an open dataset, reporting it under `path`; `user_file`:
    /// a file the user gave (whose world file may keep its CRS beside it as
    /// a .prj), not a view derived from one, which carries its source's.
    pub(crate) fn from_dataset_as(
        path: &Path,
        dataset: Dataset,
        declared: &Declared,
        user_file: bool,
    ) -> Result<Raster> {
        let (width, height) = dataset.raster_size();
        if dataset.raster_count() == 0 || width == 0 || height == 0 {
            return Err(Error::NotRaster { path: path.to_owned(), reason: "it has no raster bands".into() });
        }
        let mut warnings = Vec::new();
        let mut transform = dataset.geo_transform().ok().map(GeoTransform).filter(|t| *t != GeoTransform::IDENTITY);
        let mut crs = dataset.spatial_ref().ok().filter(|s| s.to_wkt().is_ok_and(|w| !w.is_empty()));
        // A world file (.jgw, .pgw, .wld) gives GDAL the transform only;
        // its CRS is kept beside it as a .prj, as ESRI tools write it.
        if let (Some(_), None, true) = (transform, &crs, user_file) {
            crs = prj_beside(path);
        }
        match (transform, declared.bounds) {
            (None, Some(b)) => {
                transform = Some(GeoTransform::of_bounds(b, width, height));
                crs = Some(crate::georef::wgs84()?);
            }
            (Some(_), Some(_)) => {
                warnings.push("georeferenced already: --bounds does not apply to it, and is ignored".into())
            }
            _ => {}
        }
        match (&transform, &crs) {
            (None, _) => warnings.push("no georeferencing: working in pixel coordinates (give it a world file or run gdal_translate -a_srs EPSG:XXXX -a_ullr ...)".into()),
            (Some(_), None) => warnings.push("a geotransform but no CRS: outputs stay in map units, not WGS84 (run gdal_edit.py -a_srs EPSG:XXXX, or put the CRS beside a world file as NAME.prj)".into()),
            _ => {}
        }
        let crs_info = crs.as_ref().map(crs_info);
        let georef = Georef::new(path, transform, crs)?;
        let bands = (1..=dataset.raster_count())
            .map(|i| {
                let b = dataset
                    .rasterband(i)
                    .map_err(|e| Error::NotRaster { path: path.to_owned(), reason: gdal_reason(&e) })?;
                Ok(BandInfo {
                    index: i,
                    data_type: b.band_type().name(),
                    nodata: b.no_data_value(),
                    block: b.block_size(),
                    color: b.color_interpretation().name(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let alpha_is_data = match bands.iter().find(|b| b.color == "Alpha") {
            Some(a) if alpha_holds_data(&dataset, a.index, width, height) => {
                warnings.push(format!(
                    "band {} is tagged alpha but holds continuous values (near-IR?): read as data, not as a transparency mask (gdal_edit.py -colorinterp_{} undefined clears the tag)",
                    a.index, a.index
                ));
                true
            }
            _ => false,
        };
        let (bw, bh) = bands[0].block;
        let layout = if bw >= width && bh < height {
            Layout::Striped { rows: bh }
        } else {
            Layout::Tiled { width: bw, height: bh }
        };
        if matches!(layout, Layout::Striped { .. }) && width > STRIPED_WARN_WIDTH {
            warnings.push(format!(
                "stored in strips: windowed reads decode whole {width}-pixel rows (run gdal_translate -co TILED=YES -co COMPRESS=DEFLATE {} tiled.tif)",
                path.display()
            ));
        }
        let centre = PixelPoint { x: width as f64 / 2.0, y: height as f64 / 2.0 };
        let gsd_m = georef.gsd_m(centre).map(|(x, y)| Gsd { x, y }).or(declared.gsd_m.map(|g| Gsd { x: g, y: g }));
        let bounds_wgs84 = if georef.is_georeferenced() { footprint_bounds(&georef, width, height).ok() } else { None };
        let info = RasterInfo {
            path: path.to_owned(),
            driver: dataset.driver().short_name(),
            width,
            height,
            bands,
            crs: crs_info,
            geotransform: georef.has_transform().then(|| georef.transform().0),
            gsd_m,
            bounds_wgs84,
            layout,
            warnings,
        };
        Ok(Raster { dataset, info, georef, alpha_is_data })
    }

    /// The description.
    pub fn info(&self) -> &RasterInfo {
        &self.info
    }

    /// The path as given.
    pub fn path(&self) -> &Path {
        &self.info.path
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (usize, usize) {
        (self.info.width, self.info.height)
    }

    /// Number of bands.
    pub fn band_count(&self) -> usize {
        self.info.bands.len()
    }

    /// The georeferencing.
    pub fn georef(&self) -> &Georef {
        &self.georef
    }

    /// The whole raster as a window.
    pub fn full_window(&self) -> PixelWindow {
        PixelWindow::new(0, 0, self.info.width, self.info.height)
    }

    /// Sets what a derived raster (a resampled view) knows better than GDAL.
    pub(crate) fn set_derived(&mut self, gsd: Gsd, warnings: Vec<String>) {
        self.info.gsd_m = Some(gsd);
        self.info.warnings = warnings;
    }

    fn band(&self, index: usize) -> Result<RasterBand<'_>> {
        let count = self.band_count();
        if index == 0 || index > count {
            return Err(Error::NoSuchBand { path: self.info.path.clone(), band: index, count });
        }
        self.dataset
            .rasterband(index)
            .map_err(|e| Error::NotRaster { path: self.info.path.clone(), reason: gdal_reason(&e) })
    }

    /// Reads `bands` over the whole raster scaled down (by GDAL, using
    /// overviews when the file has them) so that the longer side has at most
    /// `max_side` pixels. The result's window is in the scaled grid.
    pub fn read_overview(&self, bands: &[usize], max_side: usize) -> Result<WindowData<f32>> {
        let (w, h) = self.size();
        let f = (w.max(h) as f64 / max_side.max(1) as f64).max(1.0);
        let (ow, oh) = (((w as f64 / f).round() as usize).max(1), ((h as f64 / f).round() as usize).max(1));
        let window = PixelWindow::new(0, 0, ow, oh);
        let mut data = Vec::with_capacity(bands.len() * ow * oh);
        for &b in bands {
            let band = self.band(b)?;
            let buf = band.read_as::<f32>((0, 0), (w, h), (ow, oh), Some(gdal::raster::ResampleAlg::Average)).map_err(
                |e| Error::Read {
                    path: self.info.path.clone(),
                    band: b,
                    window: self.full_window(),
                    reason: gdal_reason(&e),
                },
            )?;
            data.extend_from_slice(buf.data());
        }
        Ok(WindowData { window, bands: bands.to_vec(), data, valid: vec![true; ow * oh] })
    }

    /// Checks that every band in `bands` exists, naming what reads them.
    pub fn check_bands(&self, bands: &[usize], reader: &str) -> Result<()> {
        let count = self.band_count();
        if bands.iter().any(|&b| b == 0 || b > count) {
            return Err(Error::BandsMismatch {
                path: self.info.path.clone(),
                bands: bands.to_vec(),
                count,
                reader: reader.to_owned(),
            });
        }
        Ok(())
    }

    /// Reads `bands` (1-based) over `window`, converted to `T` by GDAL, with
    /// the mask of pixels that hold data in every band read (from nodata
    /// values, alpha bands or mask bands, whichever the raster has).
    pub fn read_window<T: GdalType + Copy + Default + Into<f64>>(
        &self,
        window: PixelWindow,
        bands: &[usize],
    ) -> Result<WindowData<T>> {
        let (width, height) = self.size();
        if window.area() == 0 || window.x_end() > width || window.y_end() > height {
            return Err(Error::WindowOutside { path: self.info.path.clone(), window, width, height });
        }
        let n = window.area();
        let mut data = vec![T::default(); bands.len() * n];
        let mut valid = vec![true; n];
        let origin = (window.x as isize, window.y as isize);
        let size = (window.width, window.height);
        let read_err = |band: usize, e: gdal::errors::GdalError| Error::Read {
            path: self.info.path.clone(),
            band,
            window,
            reason: gdal_reason(&e),
        };
        for (i, &b) in bands.iter().enumerate() {
            let band = self.band(b)?;
            let out = &mut data[i * n..(i + 1) * n];
            band.read_into_slice(origin, size, size, out, None).map_err(|e| read_err(b, e))?;
            let flags = band.mask_flags().map_err(|e| read_err(b, e))?;
            if flags.is_all_valid() || (flags.is_alpha() && self.alpha_is_data) {
                continue;
            }
            if flags.is_nodata() {
                if let Some(nd) = band.no_data_value() {
                    for (v, x) in valid.iter_mut().zip(out.iter()) {
                        let x: f64 = (*x).into();
                        if x == nd || (nd.is_nan() && x.is_nan()) {
                            *v = false;
                        }
                    }
                }
            } else {
                let mask = band.open_mask_band().map_err(|e| read_err(b, e))?;
                let m = mask.read_as::<u8>(origin, size, size, None).map_err(|e| read_err(b, e))?;
                for (v, &x) in valid.iter_mut().zip(m.data()) {
                    if x == 0 {
                        *v = false;
                    }
                }
            }
        }
        Ok(WindowData { window, bands: bands.to_vec(), data, valid })
    }
}

/// Whether band `index`, tagged alpha, holds imagery rather than
/// transparency: a transparency band takes a few values (0 and 255, maybe
/// a feathered edge), imagery such as a near-IR band stored as alpha (as
/// some NAIP exports do) takes many. Judged on the central window of at
/// most 256x256 pixels, so huge rasters cost one block or so.
fn alpha_holds_data(dataset: &Dataset, index: usize, width: usize, height: usize) -> bool {
    let Ok(band) = dataset.rasterband(index) else { return false };
    let size = (width.min(256), height.min(256));
    let origin = (((width - size.0) / 2) as isize, ((height - size.1) / 2) as isize);
    let Ok(values) = band.read_as::<f64>(origin, size, size, None) else { return false };
    let mut distinct: Vec<u64> = values.data().iter().map(|v| v.to_bits()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len() > 16
}

fn crs_info(srs: &SpatialRef) -> CrsInfo {
    let epsg = |s: &SpatialRef| {
        (s.auth_name().as_deref() == Some("EPSG"))
            .then(|| s.auth_code().ok())
            .flatten()
            .and_then(|c| u32::try_from(c).ok())
    };
    let code = epsg(srs).or_else(|| {
        // WKT written by older tools often lacks the EPSG ID; ask PROJ.
        let mut guess = srs.clone();
        guess.auto_identify_epsg().ok().and_then(|_| epsg(&guess))
    });
    CrsInfo { name: srs.name(), epsg: code, geographic: srs.is_geographic(), wkt: srs.to_wkt().unwrap_or_default() }
}

/// Lon/lat bounds of the raster's outline, sampled along its edges so that
/// curved edges in lon/lat are covered.
fn footprint_bounds(georef: &Georef, width: usize, height: usize) -> Result<BoundsWgs84> {
    const STEPS: usize = 16;
    let (w, h) = (width as f64, height as f64);
    let mut edge = Vec::with_capacity(4 * STEPS);
    for i in 0..STEPS {
        let t = i as f64 / STEPS as f64;
        edge.extend([
            PixelPoint { x: t * w, y: 0.0 },
            PixelPoint { x: w, y: t * h },
            PixelPoint { x: w - t * w, y: h },
            PixelPoint { x: 0.0, y: h - t * h },
        ]);
    }
    let ll = georef.pixel_to_wgs84(&edge)?;
    let mut b = BoundsWgs84 { lon_min: f64::MAX, lat_min: f64::MAX, lon_max: f64::MIN, lat_max: f64::MIN };
    for p in ll {
        b.lon_min = b.lon_min.min(p.lon);
        b.lon_max = b.lon_max.max(p.lon);
        b.lat_min = b.lat_min.min(p.lat);
        b.lat_max = b.lat_max.max(p.lat);
    }
    Ok(b)
}

/// GDAL's message without its error-class wrapping.
pub(crate) fn gdal_reason(e: &gdal::errors::GdalError) -> String {
    match e {
        gdal::errors::GdalError::NullPointer { .. } => "GDAL recognises no raster format in it".into(),
        gdal::errors::GdalError::CplError { msg, .. } if !msg.trim().is_empty() => msg.trim().to_string(),
        other => other.to_string(),
    }
}

fn nodata_json<S: Serializer>(v: &Option<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(x) if x.is_finite() => s.serialize_f64(*x),
        Some(x) => s.serialize_str(&x.to_string()),
    }
}
