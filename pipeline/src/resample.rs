//! A raster seen at another ground sample distance: a model trained at 0.6 m
//! must see a 0.1 m raster at 0.6 m. The resampled raster is a GDAL VRT over
//! the source, so windows of it stream from disk like any other raster and
//! GDAL maps each output pixel to its exact fractional source area.

use crate::error::{Error, Result};
use crate::raster::{Gsd, Raster};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use std::fmt::Write as _;
use std::path::Path;

pub use detection::options::Resampling;

/// GDAL's name of a resampling method.
fn gdal_name(how: Resampling) -> &'static str {
    match how {
        Resampling::Average => "average",
        Resampling::Bilinear => "bilinear",
        Resampling::Cubic => "cubic",
        Resampling::Nearest => "nearest",
    }
}

/// How a raster is seen at a model's ground sample distance: the rule
/// training and detection share, so both see imagery alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ModelView {
    /// As it is: its ground sample distance is the model's (within 1%), or
    /// the model states none.
    Native,
    /// Resampled to `target_m` metres per pixel.
    Resampled {
        /// The model's ground sample distance, metres.
        target_m: f64,
    },
    /// The raster states no ground sample distance and the user none: it is
    /// assumed to be the model's.
    Unknown {
        /// The model's ground sample distance, metres.
        model_m: f64,
    },
}

impl ModelView {
    /// How `info`'s raster (opened with what the user declared, see
    /// [`Raster::open_declared`]) is to be seen by a model trained at
    /// `model_m` metres per pixel.
    pub fn of(info: &crate::raster::RasterInfo, model_m: Option<f64>) -> ModelView {
        match (model_m, info.gsd_m) {
            (Some(model), Some(src)) if (src.mean() / model - 1.0).abs() > 0.01 => {
                ModelView::Resampled { target_m: model }
            }
            (Some(model_m), None) => ModelView::Unknown { model_m },
            _ => ModelView::Native,
        }
    }

    /// Whether the model sees other pixels than the raster's own.
    pub fn is_resampled(&self) -> bool {
        matches!(self, ModelView::Resampled { .. })
    }
}

impl Raster {
    /// This raster as `view` says a model sees it.
    pub fn seen_as(self, view: ModelView, how: Resampling) -> Result<Raster> {
        match view {
            ModelView::Resampled { target_m } => self.resampled(target_m, None, how),
            ModelView::Native | ModelView::Unknown { .. } => Ok(self),
        }
    }
}

/// Output size of a `width` x `height` raster taken from `source` to
/// `target_m` metres per pixel (at least one pixel each way).
pub fn resampled_size(width: usize, height: usize, source: Gsd, target_m: f64) -> (usize, usize) {
    let scale = |n: usize, g: f64| ((n as f64 * g / target_m).round() as usize).max(1);
    (scale(width, source.x), scale(height, source.y))
}

impl Raster {
    /// This raster at `target_m` metres per pixel. `source_gsd` overrides the
    /// raster's own ground sample distance, and is required when it has none
    /// (imagery without georeferencing, such as a Google Earth screenshot).
    pub fn resampled(&self, target_m: f64, source_gsd: Option<Gsd>, how: Resampling) -> Result<Raster> {
        let path = self.path();
        let fail = |reason: String| Error::Resample { path: path.to_owned(), target_m, reason };
        if !(target_m.is_finite() && target_m > 0.0) {
            return Err(fail("the target must be a positive number of metres".into()));
        }
        let source = source_gsd.or(self.info().gsd_m).ok_or_else(|| {
            fail(
                "its ground sample distance is unknown (no CRS); state it, e.g. --input-gsd 0.5 for 0.5 m pixels"
                    .into(),
            )
        })?;
        let (width, height) = self.size();
        let (out_w, out_h) = resampled_size(width, height, source, target_m);
        let xml = vrt_xml(self, out_w, out_h, how).map_err(|e| fail(e.to_string()))?;
        let options = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_RASTER | GdalOpenFlags::GDAL_OF_READONLY,
            ..Default::default()
        };
        let dataset = Dataset::open_ex(Path::new(&xml), options).map_err(|e| fail(crate::raster::gdal_reason(&e)))?;
        let mut out = Raster::from_dataset_as(path, dataset, &crate::raster::Declared::default(), false)?;
        // The VRT carries no CRS for pixel-only sources, so its metric size
        // comes from what was declared, and its warnings from the source.
        out.set_derived(
            Gsd { x: source.x * width as f64 / out_w as f64, y: source.y * height as f64 / out_h as f64 },
            self.info().warnings.clone(),
        );
        Ok(out)
    }
}

fn vrt_xml(src: &Raster, out_w: usize, out_h: usize, how: Resampling) -> Result<String, std::fmt::Error> {
    let info = src.info();
    let (w, h) = src.size();
    let source_name = std::fs::canonicalize(&info.path).unwrap_or_else(|_| info.path.clone());
    let source_name = escape(&source_name.to_string_lossy());
    let mut x = String::new();
    writeln!(x, r#"<VRTDataset rasterXSize="{out_w}" rasterYSize="{out_h}">"#)?;
    if let Some(crs) = &info.crs {
        writeln!(x, r#"  <SRS dataAxisToSRSAxisMapping="1,2">{}</SRS>"#, escape(&crs.wkt))?;
    }
    // Without georeferencing the source's map coordinates are its pixel
    // frame, so the view maps its pixels back onto the source's.
    let t = info.geotransform.map_or(crate::georef::GeoTransform::PIXEL_FRAME, crate::georef::GeoTransform);
    let s = t.scaled(w as f64 / out_w as f64, h as f64 / out_h as f64).0;
    writeln!(
        x,
        "  <GeoTransform>{:e}, {:e}, {:e}, {:e}, {:e}, {:e}</GeoTransform>",
        s[0], s[1], s[2], s[3], s[4], s[5]
    )?;
    for b in &info.bands {
        writeln!(x, r#"  <VRTRasterBand dataType="{}" band="{}">"#, b.data_type, b.index)?;
        writeln!(x, "    <ColorInterp>{}</ColorInterp>", b.color)?;
        if let Some(nd) = b.nodata {
            writeln!(x, "    <NoDataValue>{nd}</NoDataValue>")?;
        }
        writeln!(x, r#"    <ComplexSource resampling="{}">"#, gdal_name(how))?;
        writeln!(x, r#"      <SourceFilename relativeToVRT="0">{source_name}</SourceFilename>"#)?;
        writeln!(x, "      <SourceBand>{}</SourceBand>", b.index)?;
        writeln!(x, r#"      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>"#)?;
        writeln!(x, r#"      <DstRect xOff="0" yOff="0" xSize="{out_w}" ySize="{out_h}"/>"#)?;
        if let Some(nd) = b.nodata {
            writeln!(x, "      <NODATA>{nd}</NODATA>")?;
        }
        writeln!(x, "    </ComplexSource>")?;
        writeln!(x, "  </VRTRasterBand>")?;
    }
    x.push_str("</VRTDataset>");
    Ok(x)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_ratio_of_distances() {
        let g = Gsd { x: 0.1, y: 0.1 };
        assert_eq!(resampled_size(400, 400, g, 0.6), (67, 67));
        assert_eq!(resampled_size(1000, 500, g, 0.2), (500, 250));
        assert_eq!(resampled_size(3, 3, g, 100.0), (1, 1));
    }
}
