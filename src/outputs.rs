//! What detect leaves in an output folder and how folders combine: one
//! GeoJSON file per input named after it, the merged file, and run.json;
//! `detect`, `merge` and `evaluate` all read and write them through here.

use crate::error::{Error, Result};
use detection::evaluate::ScoredBox;
use detection::formats::features::DetectionFeature;
use detection::formats::run::{InputStatus, RunFile, RUN_FILE, RUN_VERSION};
use detection::{LonLat, MapPoint, PixelBox, PixelPoint};
use pipeline::export::{self, FeatureCrs, FeatureSet};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One detection of a raster as detect wrote it, back in the raster's
/// pixels.
#[derive(Debug, Clone)]
pub struct PixelDetection {
    /// Its position among the raster's features (from 0, as QGIS numbers
    /// a GeoJSON file's).
    pub index: usize,
    /// The feature as written.
    pub feature: DetectionFeature,
    /// Its centre, box and outline in the raster's pixels.
    pub det: ScoredBox,
}

/// The detections of `raster` in `file` (detect's GeoJSON, whichever CRS
/// it was written in), in the raster's pixels.
pub fn detections_in_pixels(raster: &pipeline::Raster, file: &Path) -> Result<Vec<PixelDetection>> {
    let set = export::read_geojson(file)?;
    let source = raster.path().to_string_lossy();
    let georef = raster.georef();
    let mine: Vec<(usize, DetectionFeature)> =
        set.features.into_iter().filter(|f| f.properties.source == source).enumerate().collect();
    // Outlines' corners back in the raster's pixels (rings are closed), all
    // of the raster's at once: one coordinate transform, not one a feature.
    // An outlined detection has its centre; one shown as its box has not.
    let corners_of = |f: &DetectionFeature| -> usize {
        if f.properties.pixel_centre.is_some() {
            f.ring().len().saturating_sub(1)
        } else {
            0
        }
    };
    let corners: Vec<[f64; 2]> = mine.iter().flat_map(|(_, f)| f.ring()[..corners_of(f)].iter().copied()).collect();
    let pixels: Vec<PixelPoint> = match &set.crs {
        FeatureCrs::Wgs84 if !corners.is_empty() => {
            georef.wgs84_to_pixel(&corners.iter().map(|&[lon, lat]| LonLat { lon, lat }).collect::<Vec<_>>())?
        }
        FeatureCrs::Wgs84 => Vec::new(),
        FeatureCrs::Native { .. } | FeatureCrs::Pixel | FeatureCrs::MapUnits => {
            corners.iter().map(|&[x, y]| georef.map_to_pixel(MapPoint { x, y })).collect()
        }
    };
    let mut rest = &pixels[..];
    let mut out = Vec::with_capacity(mine.len());
    for (index, feature) in mine {
        let [x0, y0, x1, y1] = feature.properties.pixel_bbox;
        let bbox = PixelBox { x0, y0, x1, y1 };
        let centre = feature.properties.pixel_centre.map(|[x, y]| PixelPoint { x, y }).unwrap_or_else(|| bbox.centre());
        let (ring, after) = rest.split_at(corners_of(&feature));
        rest = after;
        let outline = (ring.len() >= 3).then(|| ring.into());
        let det = ScoredBox { centre, bbox, score: feature.properties.score, outline };
        out.push(PixelDetection { index, feature, det });
    }
    Ok(out)
}

/// The merged file's name; inputs with this stem get a suffix.
pub const MERGED: &str = "detections";

/// Rasters under `inputs` (files, or folders searched recursively), kept
/// to the names in `lists` when any are given (one name per line, extension
/// optional; several lists add up).
pub fn select_rasters(inputs: &[PathBuf], lists: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<pipeline::Error>)> {
    let (mut found, errors) = pipeline::inputs::find_rasters(inputs);
    if !lists.is_empty() {
        let mut names = HashSet::new();
        for list in lists {
            names.extend(listed(&found, list)?);
        }
        found.retain(|p| names.contains(&stem(p)));
    }
    Ok((found, errors))
}

/// The rasters under `inputs` named by each list, one set per list (or one
/// set of them all without lists), named after the list: validation sets
/// reported one by one, such as the same places imaged in two years.
pub fn select_sets(inputs: &[PathBuf], lists: &[PathBuf]) -> Result<Vec<(String, Vec<PathBuf>)>> {
    let (found, errors) = pipeline::inputs::find_rasters(inputs);
    if let Some(e) = errors.into_iter().next() {
        return Err(e.into());
    }
    if lists.is_empty() {
        return Ok(vec![("validation".into(), found)]);
    }
    lists
        .iter()
        .map(|l| {
            let names = listed(&found, l)?;
            Ok((stem(l), found.iter().filter(|p| names.contains(&stem(p))).cloned().collect()))
        })
        .collect()
}

/// The names in `list`, with a warning when some are not among `found`.
fn listed(found: &[PathBuf], list: &Path) -> Result<HashSet<String>> {
    let names = listed_names(list)?;
    let present = found.iter().filter(|p| names.contains(&stem(p))).count();
    if present < names.len() {
        tracing::warn!("{}: {} of {} listed rasters found", list.display(), present, names.len());
    }
    Ok(names)
}

/// A path's file stem, the name rasters are listed by.
fn stem(p: &Path) -> String {
    p.file_stem().unwrap_or_default().to_string_lossy().into_owned()
}

/// The raster names in a list file.
fn listed_names(list: &Path) -> Result<HashSet<String>> {
    let text = std::fs::read_to_string(list)
        .map_err(|e| Error::File { path: list.to_owned(), reason: format!("cannot read the list: {e}") })?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| stem(Path::new(l))).collect())
}

/// The features of every input's output file, inputs ordered by path (so
/// one run and merged shards write the same file), read back from those
/// files. Inputs in another CRS than the first are left out (with a
/// warning): one file holds one CRS.
pub fn merge_outputs(mut outputs: Vec<(PathBuf, PathBuf)>) -> Result<FeatureSet> {
    outputs.sort();
    let mut merged: Option<FeatureSet> = None;
    for (path, file) in &outputs {
        let set = export::read_geojson(file)?;
        match &mut merged {
            None => merged = Some(set),
            Some(m) if m.crs == set.crs => m.features.extend(set.features),
            Some(_) => tracing::warn!(
                "{}: left out of {MERGED}.geojson, which is in another CRS; see {}",
                path.display(),
                file.display()
            ),
        }
    }
    Ok(merged.unwrap_or(FeatureSet { crs: FeatureCrs::Wgs84, features: vec![] }))
}

/// Reads run.json of an output folder.
pub fn read_run(dir: &Path) -> Result<RunFile> {
    let path = dir.join(RUN_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::File {
        path: dir.to_owned(),
        reason: format!("not a detect output folder (no run.json): {e}"),
    })?;
    let run = RunFile::from_json(&text)
        .map_err(|e| Error::File { path: path.clone(), reason: format!("not a run.json rsdetect reads: {e}") })?;
    if run.version > RUN_VERSION {
        return Err(Error::File {
            path,
            reason: format!("written by a newer rsdetect (run.json version {}); update rsdetect", run.version),
        });
    }
    Ok(run)
}

/// Writes run.json into an output folder.
pub fn write_run(dir: &Path, run: &RunFile) -> Result<()> {
    export::write_atomic(&dir.join(RUN_FILE), run.to_json().as_bytes())?;
    Ok(())
}

/// What the user declared about the rasters of a detect run (`--input-gsd`,
/// `--bounds`), as its run.json recorded it, so evaluate and explain see
/// each raster where detect did: `detections` is the output folder or one
/// of its GeoJSON files. Nothing declared without a run.json.
pub fn declared_of(detections: &Path) -> Result<pipeline::raster::Declared> {
    let dir = if detections.is_dir() { Some(detections) } else { detections.parent() };
    match dir.filter(|d| d.join(RUN_FILE).exists()) {
        Some(d) => Ok(read_run(d)?.config.map(|c| c.declared).unwrap_or_default()),
        None => Ok(pipeline::raster::Declared::default()),
    }
}
/// The rasters detect processed and the GeoJSON file holding each one's
/// detections: from run.json in an output folder, or a file's `source`s.
pub fn outputs_of(detections: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    if !detections.exists() {
        return Err(pipeline::Error::NotFound { path: detections.to_owned() }.into());
    }
    if detections.is_dir() {
        let run = read_run(detections)?;
        Ok(run
            .inputs
            .into_iter()
            .filter(|i| i.status != InputStatus::Failed)
            .filter_map(|i| Some((i.path, detections.join(i.output?))))
            .collect())
    } else {
        let set = pipeline::export::read_geojson(detections)?;
        let mut seen: Vec<PathBuf> = set.features.iter().map(|f| PathBuf::from(&f.properties.source)).collect();
        seen.sort();
        seen.dedup();
        Ok(seen.into_iter().map(|p| (p, detections.to_owned())).collect())
    }
}

/// Whether the process `pid` is alive: a signal 0 to it is delivered, or
/// refused for lack of permission (it exists, another user's).
#[cfg(unix)]
fn alive(pid: u32, _age: Option<std::time::Duration>) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    // SAFETY: kill with signal 0 sends nothing; it only checks the pid.
    let sent = unsafe { libc::kill(pid, 0) } == 0;
    sent || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Where pids cannot be asked: a temporary file is written and renamed
/// within seconds, so one untouched for ten minutes was left by a killed run.
#[cfg(not(unix))]
fn alive(_pid: u32, age: Option<std::time::Duration>) -> bool {
    age.is_none_or(|a| a < std::time::Duration::from_secs(600))
}

/// Removes temporary files (`.NAME.PID.tmp`, files or folders) that a
/// killed run left in `dir`: those of a process no longer running.
pub fn remove_stale_temporaries(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else { continue };
        let Some(pid) = rest.rsplit('.').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if pid != std::process::id() && !alive(pid, age) {
            let p = entry.path();
            let removed = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
            match removed {
                Ok(()) => tracing::info!("removed {}, left by an interrupted run", p.display()),
                Err(e) => tracing::warn!("{}: left by an interrupted run, and cannot be removed: {e}", p.display()),
            }
        }
    }
}

/// FNV-1a: stable across runs and platforms, unlike std's hasher (shards
/// and output names depend on it).
pub fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// One output name per input: its file stem, made unique with a short hash
/// of the path when two inputs share a stem (or a stem is taken).
pub fn output_names(paths: &[PathBuf]) -> Vec<String> {
    let stem = |p: &PathBuf| p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "raster".into());
    let mut count: HashMap<String, usize> = HashMap::new();
    for p in paths {
        *count.entry(stem(p)).or_default() += 1;
    }
    paths
        .iter()
        .map(|p| {
            let s = stem(p);
            if count[&s] > 1 || s == MERGED || s == "run" {
                format!("{s}-{:08x}", fnv1a(&p.to_string_lossy()) as u32)
            } else {
                s
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_stems_are_made_unique() {
        let paths: Vec<PathBuf> =
            ["a/x.tif", "b/x.tif", "c/y.tif", "d/detections.tif"].iter().map(PathBuf::from).collect();
        let names = output_names(&paths);
        assert_eq!(names[2], "y");
        assert!(names[0].starts_with("x-") && names[1].starts_with("x-") && names[0] != names[1]);
        assert!(names[3].starts_with("detections-"));
        assert_eq!(output_names(&paths), names);
    }
}
