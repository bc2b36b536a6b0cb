"""The Python package against the command line on one 4096x4096 0.6 m scene
(3 bands, the shipped model, CPU), in one run, alternating, medians of
ROUNDS: `rsdetect detect SCENE` as a process, and a Python process that
reads the scene with rasterio and calls `Model.detect_array` on the array.
Both find the same objects (checked). Writes the figures as JSON into the
file named by its argument (bench/run.sh stores them in bench/results.json).
Needs `make python`.

    python3 bench/python_bench.py OUT.json [ROUNDS]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

from peer_bench import timed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release")
PYTHON = os.path.join(ROOT, ".venv/bin/python")
SCENE = os.path.join(ROOT, "bench/data/scene_4096_06.tif")

# What a notebook runs: read the raster, load the model, detect in the array.
NOTEBOOK = """
import json, sys, time
import rasterio, rsdetect
with rasterio.open(sys.argv[1]) as src:
    array, transform, crs = src.read(), src.transform, src.crs
model = rsdetect.Model("default", device="cpu")
t = time.time()
found = model.detect_array(array, transform, crs)
call = time.time() - t
json.dump({"call_seconds": call, "features": [f["properties"]["pixel_centre"] + [f["properties"]["score"]] for f in found]},
          open(sys.argv[2], "w"))
"""


def main():
    out_json = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if not os.path.exists(SCENE):
        os.makedirs(os.path.dirname(SCENE), exist_ok=True)
        subprocess.run([f"{BIN}/examples/synthetic_scene", SCENE, "4096", "7", "DEFLATE", "0.6"], check=True,
                       stdout=subprocess.DEVNULL)
    cli, py, calls, rss_cli, rss_py = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cli")
        result = os.path.join(tmp, "py.json")
        for _ in range(rounds):
            s, m = timed([f"{BIN}/rsdetect", "detect", SCENE, "--out", out, "--force", "--device", "cpu"])
            cli.append(s)
            rss_cli.append(m)
            s, m = timed([PYTHON, "-c", NOTEBOOK, SCENE, result])
            py.append(s)
            rss_py.append(m)
            with open(result) as f:
                calls.append(json.load(f)["call_seconds"])
        with open(os.path.join(out, "scene_4096_06.geojson")) as f:
            theirs = sorted(p["properties"]["pixel_centre"] + [p["properties"]["score"]] for p in json.load(f)["features"])
        with open(result) as f:
            ours = sorted(json.load(f)["features"])
    row = {
        "work": "4096x4096 scene, 0.6 m, 3 bands",
        "cli_seconds": statistics.median(cli),
        "python_seconds": statistics.median(py),
        "detect_array_call_seconds": statistics.median(calls),
        "python_over_cli": statistics.median(py) / statistics.median(cli),
        "cli_peak_rss_mb": max(rss_cli),
        "python_peak_rss_mb": max(rss_py),
        "same_detections": ours == theirs,
        "detections": len(ours),
        "rounds": rounds,
    }
    print(f"{'':<34} {'seconds':>8} {'peak RSS MB':>12}")
    print(f"{'rsdetect detect (process)':<34} {row['cli_seconds']:>8.2f} {row['cli_peak_rss_mb']:>12.0f}")
    print(f"{'Python: rasterio + detect_array':<34} {row['python_seconds']:>8.2f} {row['python_peak_rss_mb']:>12.0f}")
    print(f"{'  of which detect_array':<34} {row['detect_array_call_seconds']:>8.2f}")
    ok = row["python_over_cli"] <= 1.10
    print(f"Python / CLI: {row['python_over_cli']:.3f} (target <= 1.10: {'met' if ok else 'MISSED'}), "
          f"same detections: {row['same_detections']} ({row['detections']})")
    with open(out_json, "w") as f:
        json.dump({"python_package": row}, f, indent=2)


if __name__ == "__main__":
    main()
