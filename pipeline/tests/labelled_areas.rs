//! Labelled areas decide where training learns background: the synthetic
//! scene with a labelled area over its left half.

use pipeline::areas::{areas_in_raster, read_areas};
use pipeline::dataset::{chips, sample, Labelled, Sampling};
use pipeline::labels::{labels_in_raster, read_labels};
use pipeline::Raster;
use std::path::{Path, PathBuf};

fn scene() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample_tiles/synthetic/shrubs_512.tif")
}

fn sampling() -> Sampling {
    Sampling {
        bands: vec![1, 2, 3],
        patch: 32,
        gsd_m: 0.5,
        negatives_per_positive: 2.0,
        negative_distance_m: 4.0,
        declared: Default::default(),
        seed: 1,
    }
}

/// The scene (512 px of 0.5 m from 580000 E, 4080000 N) with a labelled
/// area over columns 0..256: a GeoJSON polygon in its CRS.
fn left_half(dir: &Path) -> PathBuf {
    let path = dir.join("area.geojson");
    std::fs::write(
        &path,
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32630"}},
"features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[580000,4080000],[580128,4080000],[580128,4079744],[580000,4079744],[580000,4080000]]]}}]}"#,
    )
    .unwrap();
    path
}

#[test]
fn background_is_learned_inside_labelled_areas_only() {
    let dir = tempfile::tempdir().unwrap();
    let raster = Raster::open(scene()).unwrap();
    let labels = [read_labels(&scene().with_extension("geojson")).unwrap()];
    let objects = labels_in_raster(&labels, &raster).unwrap();
    let areas = areas_in_raster(&[read_areas(&left_half(dir.path())).unwrap()], &raster).unwrap();
    assert_eq!(areas.len(), 1);

    let everywhere = chips(&scene(), Labelled { objects: &objects, areas: None }, &sampling(), 512).unwrap();
    assert!(everywhere.valid.iter().all(|&v| v == 1), "without areas every pixel is learned");

    let left = chips(&scene(), Labelled { objects: &objects, areas: Some(&areas) }, &sampling(), 512).unwrap();
    let at = |x: usize, y: usize| left.valid[y * 512 + x];
    assert!((0..512).all(|y| (0..256).all(|x| at(x, y) == 1)), "the whole left half is learned");
    // On the right half: only the pixels around the labelled shrubs there.
    let right_objects: Vec<_> = objects.iter().filter(|o| o.centre.x >= 259.0).collect();
    assert!(!right_objects.is_empty());
    for o in &right_objects {
        assert_eq!(
            at(o.centre.x as usize, o.centre.y as usize),
            1,
            "a labelled shrub outside still teaches its centre"
        );
    }
    let learned_right: usize = (0..512).map(|y| (256..512).filter(|&x| at(x, y) == 1).count()).sum();
    assert!(learned_right <= right_objects.len() * 37, "{learned_right} px learned outside the area");
    assert_eq!(left.objects, everywhere.objects, "the objects are the same");

    // Patch classifiers: negatives come from inside the area only.
    let patches = sample(&scene(), Labelled { objects: &objects, areas: Some(&areas) }, &sampling(), 0).unwrap();
    let negatives = patches.labels.iter().filter(|&&c| c == 0).count();
    assert!(negatives > 0);
    let all = sample(&scene(), Labelled { objects: &objects, areas: None }, &sampling(), 0).unwrap();
    assert_ne!(patches.data, all.data, "the areas change the negatives cut");
}
