"""The Python package against the command line: the same library, the same results.

Real files in (sample_tiles/), exact results out; the command line's own
binary (target/release/rsdetect) is the reference.
"""

import json
import os
import signal
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import rsdetect

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target" / "release" / "rsdetect"
TILES = ROOT / "sample_tiles"
SCENE = TILES / "synthetic" / "shrubs_512.tif"
SCENE_LABELS = TILES / "synthetic" / "shrubs_512.geojson"
NEON = TILES / "neon" / "OSBS_029.tif"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], cwd=ROOT, capture_output=True, text=True)


def comparable(features):
    """Geometry and properties, less `source` (an array has no file name)."""
    return [(f["geometry"], {k: v for k, v in f["properties"].items() if k != "source"}) for f in features]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    done = cli("detect", "sample_tiles/", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def model():
    return rsdetect.Model("default", device="cpu")


def test_detect_writes_what_the_cli_writes(cli_run, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.warns(rsdetect.RsdetectWarning, match="resampled 6.0x"):
        found = rsdetect.detect("sample_tiles/", out=tmp_path)
    for name in ["detections.geojson", "OSBS_029.geojson", "shrubs_512.geojson"]:
        assert (tmp_path / name).read_bytes() == (cli_run / name).read_bytes(), name
    written = tmp_path / "again.geojson"
    found.to_geojson(written)
    assert written.read_bytes() == (cli_run / "detections.geojson").read_bytes()
    assert len(found) == len(json.loads((cli_run / "detections.geojson").read_text())["features"])
    assert found.run["totals"]["detections"] == len(found)
    assert found.path == tmp_path


def test_detect_without_out_gives_the_same_features(cli_run, monkeypatch):
    monkeypatch.chdir(ROOT)
    found = rsdetect.detect(["sample_tiles/synthetic/shrubs_512.tif"])
    expected = json.loads((cli_run / "shrubs_512.geojson").read_text())
    assert found.__geo_interface__ == expected
    assert list(found) == expected["features"]
    assert found[0] == expected["features"][0]


def test_detect_array_gives_what_detect_gives_on_the_file(cli_run, model):
    rasterio = pytest.importorskip("rasterio")
    for path in [SCENE, NEON]:
        with rasterio.open(path) as src:
            array, transform, crs, nodata = src.read(), src.transform, src.crs, src.nodata
        found = model.detect_array(array, transform, crs, nodata=nodata, name=path.name)
        expected = json.loads((cli_run / path.with_suffix(".geojson").name).read_text())["features"]
        assert comparable(found) == comparable(expected), path
        assert all(f["properties"]["source"] == path.name for f in found)
    with rasterio.open(SCENE) as src:
        bands_last = np.ascontiguousarray(src.read().transpose(1, 2, 0))
        gdal_order = src.transform.to_gdal()
        again = model.detect_array(bands_last, gdal_order, "EPSG:32630")
    assert comparable(again) == comparable(json.loads((cli_run / "shrubs_512.geojson").read_text())["features"])


def test_an_array_without_georeferencing_is_in_the_pixel_frame(model):
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(SCENE) as src:
        array = src.read()
    with pytest.warns(rsdetect.RsdetectWarning, match="pixel coordinates"):
        found = model.detect_array(array, gsd=0.5)
    assert found.crs is None and len(found) == 38
    x, y = found[0]["geometry"]["coordinates"][0][0]
    assert 0 <= x <= 512 and -512 <= y <= 0


def test_to_geopandas_has_the_crs(tmp_path, monkeypatch):
    pytest.importorskip("geopandas")
    monkeypatch.chdir(ROOT)
    gdf = rsdetect.detect(str(SCENE)).to_geopandas()
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 38
    assert {"score", "area_m2", "class"} <= set(gdf.columns)
    native = rsdetect.detect(str(SCENE), crs="native").to_geopandas()
    assert native.crs.to_epsg() == 32630
    assert native.geometry.iloc[0].bounds[0] > 580000


def test_a_bad_path_raises_input_error_with_the_cli_message(tmp_path):
    missing = tmp_path / "nosuch.tif"
    said = cli("detect", str(missing), "--out", str(tmp_path / "cli")).stderr
    message = f"{missing}: no such file or folder"
    assert message in said
    with pytest.raises(rsdetect.InputError, match="no such file or folder") as raised:
        rsdetect.detect(missing, out=tmp_path / "py")
    assert message in str(raised.value)
    assert isinstance(raised.value, rsdetect.RsdetectError)


def test_errors_warn_returns_what_was_found(tmp_path):
    with pytest.warns(rsdetect.RsdetectWarning, match="no such file"):
        found = rsdetect.detect([SCENE, tmp_path / "nosuch.tif"], errors="warn")
    assert len(found) == 38 and len(found.failed) == 1


def test_options_are_the_config_keys():
    with pytest.raises(rsdetect.ConfigError, match="unknown field `tiles`"):
        rsdetect.Model("default", tiles=512)
    with pytest.raises(rsdetect.ModelError, match="no such model file"):
        rsdetect.Model("nosuch-model")
    found = rsdetect.detect(SCENE, score_threshold=0.99)
    assert all(f["properties"]["score"] >= 0.99 for f in found)


def test_heatmap_scores_every_pixel(model):
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(SCENE) as src:
        tile = src.read(window=((0, 256), (0, 256)))
    heat = model.heatmap(tile)
    assert heat.shape == (256, 256) and heat.dtype == np.float32
    assert 0.0 <= heat.min() and heat.max() <= 1.0
    assert model.card["gsd_m"] == pytest.approx(0.6) and model.card["name"] == "default"


def test_progress_callback_and_ctrl_c_stop_and_resume(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    seen: list[str] = []

    def ctrl_c(done, total, what):
        seen.append(what)
        os.kill(os.getpid(), signal.SIGINT)

    # As on the command line: the raster in hand (one tile) is finished, the next is not started.
    with pytest.raises(KeyboardInterrupt):
        rsdetect.detect("sample_tiles/", out=tmp_path, progress=ctrl_c)
    finished = sorted(p.name for p in tmp_path.glob("*.geojson"))
    assert finished == [f"{seen[0]}.geojson", "detections.geojson"]
    assert json.loads((tmp_path / "run.json").read_text())["interrupted"] == "after 1 of 2 rasters"
    calls = []
    resumed = rsdetect.detect("sample_tiles/", out=tmp_path, progress=lambda *a: calls.append(a))
    statuses = [r["status"] for r in resumed.run["inputs"]]
    assert statuses.count("skipped") == 1 and statuses.count("done") == 1
    assert calls and all(done <= total for done, total, _ in calls)


def test_work_runs_without_the_gil(monkeypatch):
    monkeypatch.chdir(ROOT)
    worker = threading.Thread(target=rsdetect.detect, args=("sample_tiles/",), kwargs={"device": "cpu"})
    ticks = 0
    worker.start()
    while worker.is_alive():
        ticks += 1
        worker.join(0.001)
    assert ticks > 50


def test_train_returns_a_model_that_finds_the_shrubs(tmp_path):
    lines = []
    trained = rsdetect.train(
        SCENE,
        SCENE_LABELS,
        out=tmp_path / "shrubs.safetensors",
        all_labelled=True,
        epochs=20,
        device="cpu",
        progress=lambda done, total, what: lines.append(what),
        verbose=False,
    )
    assert (tmp_path / "shrubs.safetensors").exists() and "epoch 20/20" in lines
    found = rsdetect.detect(SCENE, model=tmp_path / "shrubs.safetensors", out=tmp_path / "found")
    report = rsdetect.evaluate(found, SCENE_LABELS, "distance:2")
    overall = report["overall"]
    assert overall["tp"] + overall["fn"] == 38
    assert overall["tp"] >= 36, overall
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(SCENE) as src:
        again = trained.detect_array(src.read(), src.transform, src.crs, name=SCENE.name)
    assert comparable(again) == comparable(found)


def test_suggest_and_explain_write_what_the_cli_writes(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    found = rsdetect.detect(SCENE, out=tmp_path / "found")
    record = rsdetect.explain(found, out=tmp_path / "why", top=2)
    assert (tmp_path / "why" / "explain.json").exists()
    assert json.loads((tmp_path / "why" / "explain.json").read_text()) == record
    said = cli("explain", "--detections", str(tmp_path / "found"), "--out", str(tmp_path / "why-cli"), "--top", "2")
    assert said.returncode == 0, said.stderr
    cli_record = json.loads((tmp_path / "why-cli" / "explain.json").read_text())
    assert len(cli_record["explained"]) == len(record["explained"]) == 2
    windows = rsdetect.suggest(SCENE, out=tmp_path / "next.gpkg", count=3)
    assert windows["rasters"] == 1 and windows["failed"] == []
    assert windows["windows"] == 0 or windows["path"] == tmp_path / "next.gpkg"


def test_progress_true_draws_a_tqdm_bar(capsys):
    pytest.importorskip("tqdm")
    found = rsdetect.detect(SCENE, progress=True)
    assert len(found) == 38
    drawn = capsys.readouterr().err
    assert "shrubs_512" in drawn and "1/1" in drawn, drawn
    with pytest.raises(rsdetect.ConfigError, match="give True"):
        rsdetect.detect(SCENE, progress="yes")
