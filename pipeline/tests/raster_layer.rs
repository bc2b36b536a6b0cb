//! The raster layer on real files: the shipped sample tiles, rasters made
//! here in every format the pipeline promises, and ../shared/data when present.

use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use gdal::{Dataset, DriverManager};
use pipeline::{Grid, Gsd, Layout, PixelPoint, PixelWindow, Raster, Resampling};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn osbs() -> PathBuf {
    root().join("sample_tiles/neon/OSBS_029.tif")
}

fn shared() -> Option<PathBuf> {
    let p = root().join("../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/data is absent (only the sample tiles were tested)");
        None
    }
}

/// A whole band read straight through GDAL, to compare windows against.
fn whole_band(path: &Path, band: usize) -> (usize, Vec<u8>) {
    let ds = Dataset::open(path).unwrap();
    let b = ds.rasterband(band).unwrap();
    let (w, h) = b.size();
    (w, b.read_as::<u8>((0, 0), (w, h), (w, h), None).unwrap().data().to_vec())
}

fn assert_windows_match_whole(path: &Path) {
    let r = Raster::open(path).unwrap();
    let (w, h) = r.size();
    let bands: Vec<usize> = (1..=r.band_count()).collect();
    let wholes: Vec<_> = bands.iter().map(|&b| whole_band(path, b).1).collect();
    let grid = Grid::new(w, h, 97, 13).unwrap();
    for t in grid.tiles() {
        let win = r.read_window::<u8>(t.window, &bands).unwrap();
        for (i, whole) in wholes.iter().enumerate() {
            for y in 0..t.window.height {
                for x in 0..t.window.width {
                    let expected = whole[(t.window.y + y) * w + t.window.x + x];
                    assert_eq!(win.get(i, x, y), expected, "{} band {} at {},{}", path.display(), i + 1, x, y);
                }
            }
        }
    }
}

#[test]
fn osbs_georeferencing_is_read_exactly() {
    let r = Raster::open(osbs()).unwrap();
    let info = r.info();
    assert_eq!((info.width, info.height, info.bands.len()), (400, 400, 3));
    assert_eq!(info.driver, "GTiff");
    let t = info.geotransform.unwrap();
    let expected = [404211.9, 0.1, 0.0, 3285142.9, 0.0, -0.1];
    assert!(t.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6), "{t:?}");
    let crs = info.crs.as_ref().unwrap();
    assert_eq!(crs.epsg, Some(32617));
    assert_eq!(crs.name.as_deref(), Some("WGS 84 / UTM zone 17N"));
    let gsd = info.gsd_m.unwrap();
    assert!((gsd.x - 0.1).abs() < 1e-9 && (gsd.y - 0.1).abs() < 1e-9);
    assert!(info.bands.iter().all(|b| b.data_type == "Byte" && b.nodata == Some(255.0)));
    assert_eq!(info.layout, Layout::Striped { rows: 6 });
    // Ordway-Swisher Biological Station, Florida.
    let b = info.bounds_wgs84.unwrap();
    assert!(b.lon_min > -82.0 && b.lon_max < -81.98 && b.lat_min > 29.69 && b.lat_max < 29.70, "{b:?}");
    // Pixel (0,0) is the origin; map -> pixel inverts it.
    let g = r.georef();
    let m = g.pixel_to_map(PixelPoint { x: 10.0, y: 20.0 });
    assert!((m.x - 404212.9).abs() < 1e-6 && (m.y - 3285140.9).abs() < 1e-6);
    let p = g.map_to_pixel(m);
    assert!((p.x - 10.0).abs() < 1e-6 && (p.y - 20.0).abs() < 1e-6);
}

#[test]
fn window_reads_equal_whole_band_reads() {
    assert_windows_match_whole(&osbs());
    assert_windows_match_whole(&root().join("sample_tiles/synthetic/shrubs_512.tif"));
}

#[test]
fn synthetic_scene_is_tiled_and_in_utm_30n() {
    let r = Raster::open(root().join("sample_tiles/synthetic/shrubs_512.tif")).unwrap();
    assert_eq!(r.info().layout, Layout::Tiled { width: 256, height: 256 });
    assert_eq!(r.info().crs.as_ref().unwrap().epsg, Some(32630));
    assert_eq!(r.info().geotransform, Some([580000.0, 0.5, 0.0, 4080000.0, 0.0, -0.5]));
}

#[test]
fn grid_covers_a_real_raster_once() {
    let r = Raster::open(osbs()).unwrap();
    let (w, h) = r.size();
    let grid = Grid::new(w, h, 128, 24).unwrap();
    let mut count = vec![0u8; w * h];
    for t in grid.tiles() {
        assert!(r.full_window().contains_window(&t.window));
        for y in t.core.y..t.core.y_end() {
            for x in t.core.x..t.core.x_end() {
                count[y * w + x] += 1;
            }
        }
    }
    assert!(count.iter().all(|&c| c == 1));
    assert_eq!(grid.len(), 16);
}

#[test]
fn resampling_to_a_coarser_gsd_averages_blocks() {
    let r = Raster::open(osbs()).unwrap();
    let coarse = r.resampled(0.6, None, Resampling::Average).unwrap();
    assert_eq!(coarse.size(), (67, 67));
    let gsd = coarse.info().gsd_m.unwrap();
    assert!((gsd.x - 0.1 * 400.0 / 67.0).abs() < 1e-9, "{gsd:?}");
    let t = coarse.info().geotransform.unwrap();
    assert_eq!((t[0], t[3]), (r.info().geotransform.unwrap()[0], r.info().geotransform.unwrap()[3]));
    assert_eq!(coarse.info().crs.as_ref().unwrap().epsg, Some(32617));

    // An exact factor of two: each output pixel is the mean of a 2x2 block.
    let half = r.resampled(0.2, None, Resampling::Average).unwrap();
    assert_eq!(half.size(), (200, 200));
    let (w, whole) = whole_band(&osbs(), 2);
    let win = PixelWindow::new(37, 81, 50, 40);
    let got = half.read_window::<u8>(win, &[2]).unwrap();
    for y in 0..win.height {
        for x in 0..win.width {
            let (sx, sy) = (2 * (win.x + x), 2 * (win.y + y));
            // 255 is this tile's nodata value, which averaging leaves out.
            let block: Vec<f64> = [(0, 0), (1, 0), (0, 1), (1, 1)]
                .iter()
                .map(|(dx, dy)| whole[(sy + dy) * w + sx + dx] as f64)
                .filter(|&v| v != 255.0)
                .collect();
            let mean = if block.is_empty() { 255.0 } else { block.iter().sum::<f64>() / block.len() as f64 };
            assert!((got.get(0, x, y) as f64 - mean).abs() <= 0.5 + 1e-9, "at {x},{y}: {} vs {mean}", got.get(0, x, y));
        }
    }
    // Windows of a resampled raster tile it like any other.
    assert_eq!(coarse.read_window::<u8>(coarse.full_window(), &[1, 2, 3]).unwrap().data.len(), 3 * 67 * 67);
}

#[test]
fn resampling_needs_a_known_gsd() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.png");
    let mem = mem_raster::<u8>(40, 30, 3, |b, x, y| (b * 50 + x + y) as u8);
    mem.create_copy(&DriverManager::get_driver_by_name("PNG").unwrap(), &path, &Default::default()).unwrap();
    let r = Raster::open(&path).unwrap();
    assert!(r.info().warnings.iter().any(|w| w.contains("no georeferencing")));
    let err = r.resampled(0.6, None, Resampling::Average).err().unwrap().to_string();
    assert!(err.contains("--input-gsd"), "{err}");
    let declared = r.resampled(1.0, Some(Gsd { x: 0.5, y: 0.5 }), Resampling::Average).unwrap();
    assert_eq!(declared.size(), (20, 15));
    assert_eq!(declared.info().gsd_m, Some(Gsd { x: 1.0, y: 1.0 }));
}

/// An in-memory raster filled by `f(band, x, y)`.
fn mem_raster<T: gdal::raster::GdalType + Copy>(
    w: usize,
    h: usize,
    bands: usize,
    f: impl Fn(usize, usize, usize) -> T,
) -> Dataset {
    let driver = DriverManager::get_driver_by_name("MEM").unwrap();
    let ds = driver.create_with_band_type::<T, _>("", w, h, bands).unwrap();
    for b in 0..bands {
        let data: Vec<T> = (0..w * h).map(|i| f(b, i % w, i / w)).collect();
        ds.rasterband(b + 1).unwrap().write((0, 0), (w, h), &mut Buffer::new((w, h), data)).unwrap();
    }
    ds
}

fn write_geotiff<T: gdal::raster::GdalType + Copy>(
    path: &Path,
    w: usize,
    h: usize,
    bands: usize,
    nodata: Option<f64>,
    f: impl Fn(usize, usize, usize) -> T,
) {
    let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
    let opts = RasterCreationOptions::from_iter(["TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32", "COMPRESS=LZW"]);
    let mut ds = driver.create_with_band_type_with_options::<T, _>(path, w, h, bands, &opts).unwrap();
    ds.set_spatial_ref(&SpatialRef::from_epsg(32630).unwrap()).unwrap();
    ds.set_geo_transform(&[580000.0, 0.5, 0.0, 4080000.0, 0.0, -0.5]).unwrap();
    for b in 0..bands {
        let mut band = ds.rasterband(b + 1).unwrap();
        band.set_no_data_value(nodata).unwrap();
        let data: Vec<T> = (0..w * h).map(|i| f(b, i % w, i / w)).collect();
        band.write((0, 0), (w, h), &mut Buffer::new((w, h), data)).unwrap();
    }
}

#[test]
fn sixteen_bit_and_float_rasters_read_with_their_nodata_mask() {
    let dir = tempfile::tempdir().unwrap();
    let p16 = dir.path().join("u16.tif");
    write_geotiff::<u16>(
        &p16,
        70,
        50,
        3,
        Some(0.0),
        |b, x, y| if x < 5 { 0 } else { (1000 * (b + 1) + x * 10 + y) as u16 },
    );
    let r = Raster::open(&p16).unwrap();
    assert_eq!(r.info().bands[0].data_type, "UInt16");
    assert_eq!(r.info().layout, Layout::Tiled { width: 32, height: 32 });
    let win = r.read_window::<u16>(PixelWindow::new(0, 10, 40, 20), &[3, 1]).unwrap();
    assert_eq!(win.get(0, 10, 0), 3000 + 100 + 10);
    assert_eq!(win.get(1, 10, 0), 1000 + 100 + 10);
    assert_eq!(win.valid_count(), 35 * 20);
    assert!(!win.valid[4] && win.valid[5]);
    let as_float = r.read_window::<f32>(PixelWindow::new(10, 0, 1, 1), &[2]).unwrap();
    assert_eq!(as_float.data, [2100.0]);

    let pf = dir.path().join("f32.tif");
    write_geotiff::<f32>(&pf, 40, 40, 1, Some(f64::NAN), |_, x, y| if y == 3 { f32::NAN } else { x as f32 * 0.25 });
    let r = Raster::open(&pf).unwrap();
    let win = r.read_window::<f32>(r.full_window(), &[1]).unwrap();
    assert_eq!(win.valid_count(), 40 * 39);
    assert_eq!(win.get(0, 6, 0), 1.5);
}

/// A 20x20 RGBA GeoTIFF whose band 4, tagged alpha as GIS exports tag it,
/// holds `alpha(x, y)`.
fn rgba_geotiff(path: &Path, alpha: impl Fn(usize, usize) -> u8) {
    write_geotiff::<u8>(path, 20, 20, 4, None, |b, x, y| if b == 3 { alpha(x, y) } else { 100 });
    let ds = Dataset::open_ex(
        path,
        gdal::DatasetOptions { open_flags: gdal::GdalOpenFlags::GDAL_OF_UPDATE, ..Default::default() },
    )
    .unwrap();
    ds.rasterband(4).unwrap().set_color_interpretation(gdal::raster::ColorInterpretation::AlphaBand).unwrap();
}

#[test]
fn alpha_band_masks_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rgba.tif");
    rgba_geotiff(&path, |x, _| if x < 10 { 0 } else { 255 });
    let r = Raster::open(&path).unwrap();
    let win = r.read_window::<u8>(r.full_window(), &[1, 2, 3]).unwrap();
    assert_eq!(win.valid_count(), 10 * 20);
    assert!(r.info().warnings.iter().all(|w| !w.contains("alpha")));
}

/// Some NAIP exports store near-IR as the fourth band tagged alpha: its
/// continuous values are imagery, and a dark near-IR pixel (0) is data.
#[test]
fn near_ir_tagged_alpha_is_read_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nir-as-alpha.tif");
    rgba_geotiff(&path, |x, y| ((x * 13 + y * 7) % 120) as u8);
    let r = Raster::open(&path).unwrap();
    let win = r.read_window::<u8>(r.full_window(), &[1, 2, 3, 4]).unwrap();
    assert_eq!(win.valid_count(), 20 * 20, "pixels with near-IR 0 are not masked");
    assert_eq!(win.get(3, 1, 1), 20);
    assert!(r.info().warnings.iter().any(|w| w.contains("band 4 is tagged alpha")), "{:?}", r.info().warnings);
}

#[test]
fn window_outside_and_missing_band_are_errors() {
    let r = Raster::open(osbs()).unwrap();
    let e = r.read_window::<u8>(PixelWindow::new(390, 0, 20, 5), &[1]).unwrap_err().to_string();
    assert!(e.contains("outside the 400x400 raster") && e.contains("OSBS_029.tif"), "{e}");
    let e = r.read_window::<u8>(PixelWindow::new(0, 0, 5, 5), &[4]).unwrap_err().to_string();
    assert!(e.contains("has 3 band(s), band 4"), "{e}");
}

#[test]
fn jpeg_with_world_file_is_georeferenced_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    let mem = mem_raster::<u8>(64, 48, 3, |b, x, y| (b * 60 + x + y) as u8);
    mem.create_copy(&DriverManager::get_driver_by_name("JPEG").unwrap(), &path, &Default::default()).unwrap();
    // A world file gives pixel centres: 0.5 m pixels, top-left centre at (1000.25, 2999.75).
    std::fs::write(dir.path().join("photo.jgw"), "0.5\n0\n0\n-0.5\n1000.25\n2999.75\n").unwrap();
    let r = Raster::open(&path).unwrap();
    assert_eq!(r.info().driver, "JPEG");
    assert_eq!(r.info().geotransform, Some([1000.0, 0.5, 0.0, 3000.0, 0.0, -0.5]));
    assert!(r.info().crs.is_none());
    assert!(r.info().warnings.iter().any(|w| w.contains("no CRS")), "{:?}", r.info().warnings);
}

#[test]
fn vrt_mosaic_reads_across_the_seam() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.tif"), dir.path().join("b.tif"));
    write_geotiff::<u8>(&a, 50, 40, 1, None, |_, x, y| (x + y) as u8);
    write_geotiff::<u8>(&b, 50, 40, 1, None, |_, x, y| (100 + x + y) as u8);
    // b sits east of a: shift its origin by 50 pixels of 0.5 m.
    {
        let mut ds = Dataset::open_ex(
            &b,
            gdal::DatasetOptions { open_flags: gdal::GdalOpenFlags::GDAL_OF_UPDATE, ..Default::default() },
        )
        .unwrap();
        ds.set_geo_transform(&[580025.0, 0.5, 0.0, 4080000.0, 0.0, -0.5]).unwrap();
    }
    let vrt = dir.path().join("mosaic.vrt");
    let source = |p: &Path, x: usize| {
        format!(
            r#"<SimpleSource><SourceFilename relativeToVRT="0">{}</SourceFilename><SourceBand>1</SourceBand><SrcRect xOff="0" yOff="0" xSize="50" ySize="40"/><DstRect xOff="{x}" yOff="0" xSize="50" ySize="40"/></SimpleSource>"#,
            p.display()
        )
    };
    let crs = SpatialRef::from_epsg(32630).unwrap().to_wkt().unwrap();
    std::fs::write(
        &vrt,
        format!(
            r#"<VRTDataset rasterXSize="100" rasterYSize="40"><SRS>{crs}</SRS><GeoTransform>580000, 0.5, 0, 4080000, 0, -0.5</GeoTransform><VRTRasterBand dataType="Byte" band="1">{}{}</VRTRasterBand></VRTDataset>"#,
            source(&a, 0),
            source(&b, 50)
        ),
    )
    .unwrap();
    let r = Raster::open(&vrt).unwrap();
    assert_eq!(r.info().driver, "VRT");
    assert_eq!(r.info().crs.as_ref().unwrap().epsg, Some(32630));
    let win = r.read_window::<u8>(PixelWindow::new(45, 5, 10, 1), &[1]).unwrap();
    assert_eq!(win.data, [50, 51, 52, 53, 54, 105, 106, 107, 108, 109]);
}

#[test]
fn google_earth_kmz_ground_overlay_opens_in_wgs84() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = dir.path().join("overlay.jpg");
    let src = Dataset::open(root().join("sample_tiles/synthetic/shrubs_512.tif")).unwrap();
    src.create_copy(&DriverManager::get_driver_by_name("JPEG").unwrap(), &jpg, &Default::default()).unwrap();
    let kml = r#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><GroundOverlay><name>shrubs</name>
<Icon><href>overlay.jpg</href></Icon>
<LatLonBox><north>36.87</north><south>36.86</south><east>-2.10</east><west>-2.11</west></LatLonBox>
</GroundOverlay></kml>"#;
    let kmz = dir.path().join("export.kmz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&kmz).unwrap());
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("doc.kml", stored).unwrap();
    std::io::Write::write_all(&mut zip, kml.as_bytes()).unwrap();
    zip.start_file("overlay.jpg", stored).unwrap();
    std::io::Write::write_all(&mut zip, &std::fs::read(&jpg).unwrap()).unwrap();
    zip.finish().unwrap();

    let r = Raster::open(&kmz).unwrap();
    assert_eq!(r.size(), (512, 512));
    assert_eq!(r.info().crs.as_ref().and_then(|c| c.epsg), Some(4326));
    let b = r.info().bounds_wgs84.unwrap();
    assert!((b.lon_min + 2.11).abs() < 1e-9 && (b.lat_max - 36.87).abs() < 1e-9, "{b:?}");
    // 0.01 degree of latitude over 512 rows, expressed in metres.
    let gsd = r.info().gsd_m.unwrap();
    assert!((gsd.y - 0.01 * 111_195.0 / 512.0).abs() < 0.01, "{gsd:?}");
    assert_eq!(r.read_window::<u8>(PixelWindow::new(500, 500, 12, 12), &[1, 2, 3]).unwrap().valid_count(), 144);
}

#[test]
fn not_a_raster_and_missing_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.tif");
    std::fs::write(&text, "just text, named like a GeoTIFF\n").unwrap();
    let e = Raster::open(&text).err().unwrap().to_string();
    assert!(e.contains("notes.tif") && e.contains("not a raster"), "{e}");
    let e = Raster::open(dir.path().join("gone.tif")).err().unwrap().to_string();
    assert!(e.contains("gone.tif") && e.contains("no such file"), "{e}");
    let e = Raster::open(dir.path()).err().unwrap().to_string();
    assert!(e.contains("folder"), "{e}");
}

#[test]
fn shared_naip_tiles_are_0_6_m_utm_11n_with_four_bands() {
    let Some(data) = shared() else { return };
    let list = std::fs::read_to_string(data.join("urban-trees/val_socal.txt")).unwrap();
    for name in list.lines().take(5) {
        let path = data.join("urban-trees/images").join(format!("{}.tif", name.trim()));
        let r = Raster::open(&path).unwrap();
        let info = r.info();
        assert_eq!((info.width, info.height, info.bands.len()), (256, 256, 4), "{name}");
        assert_eq!(info.crs.as_ref().unwrap().epsg, Some(26911));
        assert!((info.gsd_m.unwrap().mean() - 0.6).abs() < 1e-6);
        assert_windows_match_whole(&path);
    }
}

#[test]
fn shared_ziziphus_scene_is_pixel_coordinates_with_a_warning() {
    let Some(data) = shared() else { return };
    let r = Raster::open(data.join("ziziphus/zone-test-1.jpg")).unwrap();
    assert_eq!(r.size(), (1945, 1924));
    assert!(r.info().crs.is_none() && r.info().geotransform.is_none() && r.info().gsd_m.is_none());
    assert!(!r.georef().is_georeferenced());
    assert!(r.info().warnings[0].contains("pixel coordinates"));
    let win = r.read_window::<u8>(PixelWindow::new(1900, 1900, 45, 24), &[1, 2, 3]).unwrap();
    assert_eq!(win.valid_count(), 45 * 24);
}

#[test]
fn shared_neon_0_1_m_tile_resamples_to_naip_resolution() {
    let Some(data) = shared() else { return };
    let r = Raster::open(data.join("neon/2018_SJER_3_252000_4107000_image_477.tif")).unwrap();
    assert_eq!(r.info().crs.as_ref().unwrap().epsg, Some(32611));
    let at_naip = r.resampled(0.6, None, Resampling::Average).unwrap();
    // Its pixels are 0.100235 x 0.0997475 m: 400 of them make 67 x 66 at 0.6 m.
    assert_eq!(at_naip.size(), (67, 66));
}
