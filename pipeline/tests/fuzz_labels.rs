//! Fuzzing the label readers with proptest: whatever bytes a label file
//! holds (random, or a valid file mangled), reading it and placing its
//! labels in a raster either works or fails with an error naming the file;
//! it never panics.

use pipeline::labels::{labels_in_raster, read_labels};
use pipeline::Raster;
use proptest::prelude::*;
use std::path::Path;

fn scene() -> Raster {
    Raster::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample_tiles/synthetic/shrubs_512.tif")).unwrap()
}

const GEOJSON: &str = include_str!("../../sample_tiles/synthetic/shrubs_512.geojson");
const CSV: &str =
    "image_path,xmin,ymin,xmax,ymax,label\nshrubs_512.tif,10,12,30,33,Shrub\nshrubs_512.tif,100,90,120,111,Shrub\n";

/// Reads `bytes` as a label file called `name`, then places it on the scene.
fn read(name: &str, bytes: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let file = read_labels(&path).map_err(|e| e.to_string())?;
    labels_in_raster(&[file], &scene()).map(drop).map_err(|e| e.to_string())
}

/// A valid file with some bytes cut, some replaced and some inserted.
fn mangled(valid: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len();
    prop::collection::vec((0..len, any::<u8>(), 0u8..3), 1..8).prop_map(move |edits| {
        let mut b = valid.as_bytes().to_vec();
        for (at, byte, kind) in edits {
            let at = at.min(b.len().saturating_sub(1));
            match kind {
                0 if !b.is_empty() => {
                    b.remove(at);
                }
                1 if !b.is_empty() => b[at] = byte,
                _ => b.insert(at, byte),
            }
        }
        b
    })
}

fn assert_named(name: &str, r: Result<(), String>) {
    if let Err(e) = r {
        assert!(e.contains(name), "error does not name the file: {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), csv in any::<bool>()) {
        let name = if csv { "labels.csv" } else { "labels.geojson" };
        assert_named(name, read(name, &bytes));
    }

    #[test]
    fn mangled_geojson_never_panics(bytes in mangled(GEOJSON)) {
        assert_named("shrubs.geojson", read("shrubs.geojson", &bytes));
    }

    #[test]
    fn mangled_csv_never_panics(bytes in mangled(CSV)) {
        assert_named("shrubs_512.csv", read("shrubs_512.csv", &bytes));
    }

    #[test]
    fn any_coordinates_never_panic(
        kind in 0usize..4,
        coords in prop::collection::vec(prop_oneof![any::<f64>(), -1e7f64..1e7, Just(f64::NAN)], 2..10),
    ) {
        let c: Vec<String> = coords.iter().map(|v| if v.is_finite() { v.to_string() } else { "1e999".into() }).collect();
        let pair = |i: usize| format!("[{},{}]", c[i % c.len()], c[(i + 1) % c.len()]);
        let geometry = match kind {
            0 => format!(r#"{{"type":"Point","coordinates":{}}}"#, pair(0)),
            1 => format!(r#"{{"type":"MultiPoint","coordinates":[{},{}]}}"#, pair(0), pair(1)),
            2 => format!(r#"{{"type":"Polygon","coordinates":[[{},{},{},{}]]}}"#, pair(0), pair(1), pair(2), pair(0)),
            _ => format!(r#"{{"type":"LineString","coordinates":[{},{}]}}"#, pair(0), pair(1)),
        };
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{}},"geometry":{geometry}}}]}}"#
        );
        assert_named("points.geojson", read("points.geojson", text.as_bytes()));
    }
}
