//! Turning what the user typed (files and folders) into a sorted list of
//! rasters, so a run over a folder of tiles is repeatable.

use crate::error::Error;
use std::path::{Path, PathBuf};

/// Extensions taken from folders (files named directly are always taken).
pub const RASTER_EXTENSIONS: &[&str] =
    &["tif", "tiff", "gtif", "vrt", "jpg", "jpeg", "png", "jp2", "img", "kmz", "ecw", "sid"];

/// Whether a file in a folder looks like a raster, by its extension.
pub fn is_raster_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| RASTER_EXTENSIONS.iter().any(|r| r.eq_ignore_ascii_case(e)))
}

/// The rasters named by `inputs`: files as given, folders searched
/// recursively (hidden entries skipped), glob patterns the shell left
/// unexpanded (`'tiles/*.tif'`) expanded, each folder's or pattern's finds
/// sorted. Paths that do not exist come back as errors, in the order met.
pub fn find_rasters(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<Error>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let before = found.len();
            walk(input, &mut found, &mut errors);
            found[before..].sort();
        } else if input.exists() || input.to_string_lossy().starts_with("/vsi") {
            found.push(input.clone());
        } else if let Some(matches) = expand_glob(input) {
            if matches.is_empty() {
                errors.push(Error::NotFound { path: input.clone() });
            }
            found.extend(matches);
        } else {
            errors.push(Error::NotFound { path: input.clone() });
        }
    }
    (found, errors)
}

/// The files a glob pattern matches, sorted; `None` when it is no pattern.
fn expand_glob(pattern: &Path) -> Option<Vec<PathBuf>> {
    let text = pattern.to_string_lossy();
    if !text.contains(['*', '?', '[']) {
        return None;
    }
    // As shells do: `*` does not match a leading dot.
    let options = glob::MatchOptions { require_literal_leading_dot: true, ..glob::MatchOptions::new() };
    let paths = glob::glob_with(&text, options).ok()?;
    let mut out: Vec<PathBuf> = paths.flatten().filter(|p| p.is_file()).collect();
    out.sort();
    Some(out)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>, errors: &mut Vec<Error>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(Error::NotRaster { path: dir.to_owned(), reason: format!("cannot list the folder: {e}") });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, found, errors);
        } else if is_raster_name(&path) {
            found.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_searched_and_sorted() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        for f in ["b.tif", "a.TIF", "sub/c.vrt", "notes.txt", ".hidden.tif", "a.tif.aux.xml"] {
            std::fs::write(d.path().join(f), b"").unwrap();
        }
        let missing = d.path().join("missing.tif");
        let (found, errors) = find_rasters(&[d.path().to_owned(), missing.clone()]);
        let names: Vec<_> =
            found.iter().map(|p| p.strip_prefix(d.path()).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["a.TIF", "b.tif", "sub/c.vrt"]);
        assert!(matches!(&errors[..], [Error::NotFound { path }] if *path == missing));
        let pattern = d.path().join("*.tif");
        let (found, errors) = find_rasters(&[pattern]);
        assert_eq!(found, vec![d.path().join("b.tif")]);
        assert!(errors.is_empty());
        let (found, errors) = find_rasters(&[d.path().join("none-*.tif")]);
        assert!(found.is_empty() && errors.len() == 1);
    }
}
