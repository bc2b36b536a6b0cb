"""rsdetect against its Python peer (bench/peer.py: PyTorch + rasterio, the
same network, weights, tiling, peaks and suppression), in one run,
alternating, on the NAIP val_socal tiles and on a 4096x4096 0.6 m scene;
both with the shipped model on the CPU. Checks that both find the same
objects, then prints the medians and their ratio, and writes them as JSON
into the file named by its argument (bench/run.sh stores them in
bench/results.json). Needs the full PyTorch wheel and rasterio in .venv
(`make peer`).

    python3 bench/peer_bench.py OUT.json [ROUNDS]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release")
PYTHON = os.path.join(ROOT, ".venv/bin/python")
URBAN = os.path.join(ROOT, "../shared/data/urban-trees")
MODEL = os.path.join(ROOT, "models/weights/default.safetensors")
SCENE = os.path.join(ROOT, "bench/data/scene_4096_06.tif")
# The network's multiply-adds per pixel of a tile, twice: FLOPs.
FLOP_PER_PIXEL = 113_056


def timed(args):
    """Wall seconds and peak RSS (MB) of a command that must succeed."""
    t0 = time.time()
    child = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    secs = time.time() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(args)} failed:\n{child.stderr.read()}")
    return secs, usage.ru_maxrss / 1024


def rsdetect_found(out):
    """Each raster's (centre, score) pairs from detect's GeoJSON outputs."""
    with open(os.path.join(out, "run.json")) as f:
        run = json.load(f)
    found, classified = {}, 0
    for i in run["inputs"]:
        with open(os.path.join(out, i["output"])) as f:
            feats = json.load(f)["features"]
        found[os.path.basename(i["path"])] = sorted((tuple(p["properties"]["pixel_centre"]), p["properties"]["score"])
                                                    for p in feats)
        classified += i["stats"]["classified"]
    return found, classified


def peer_found(path):
    with open(path) as f:
        rasters = json.load(f)["rasters"]
    return {os.path.basename(k): sorted((tuple(d["centre"]), d["score"]) for d in v) for k, v in rasters.items()}


def same(a, b):
    """Whether two runs found the same centres, with scores equal to
    rsdetect's six decimals; the number of detections."""
    if a.keys() != b.keys():
        return False, 0
    n = 0
    for k in a:
        if [c for c, _ in a[k]] != [c for c, _ in b[k]]:
            return False, n
        if any(abs(s - t) > 2e-6 for (_, s), (_, t) in zip(a[k], b[k])):
            return False, n
        n += len(a[k])
    return True, n


def compare(name, rasters, extra, rounds, tmp):
    ours, theirs, rss = [], [], []
    out = os.path.join(tmp, name)
    peer_json = os.path.join(tmp, name + ".json")
    for _ in range(rounds):
        s, m = timed([f"{BIN}/rsdetect", "detect", *extra, "--out", out, "--force", "--device", "cpu"])
        ours.append(s)
        rss.append(m)
        s, _ = timed([PYTHON, "bench/peer.py", MODEL, peer_json, *rasters])
        theirs.append(s)
    found, classified = rsdetect_found(out)
    agree, n = same(found, peer_found(peer_json))
    a, b = statistics.median(ours), statistics.median(theirs)
    return {
        "work": name,
        "rasters": len(rasters),
        "rsdetect_seconds": a,
        "peer_seconds": b,
        "speedup": b / a,
        "rsdetect_runs": ours,
        "peer_runs": theirs,
        "rsdetect_peak_rss_mb": max(rss),
        "tile_pixels": classified,
        "network_gflop_per_s": classified * FLOP_PER_PIXEL / a / 1e9,
        "same_detections": agree,
        "detections": n,
    }


def fp32_peak_gflops():
    """This machine's fp32 matrix-multiply rate on all cores, GFLOP/s: the
    best of PyTorch's (MKL, which takes a slow path on AMD processors) and
    numpy's (OpenBLAS) on 4096x4096 matrices."""
    code = ("import numpy, torch, time\n"
            "best = 0\n"
            "for mm in (lambda a, b: a @ b, lambda a, b: a.numpy() @ b.numpy()):\n"
            "    a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)\n"
            "    mm(a, b)\n"
            "    t = time.time(); [mm(a, b) for _ in range(4)]\n"
            "    best = max(best, 2 * 4096 ** 3 * 4 / (time.time() - t) / 1e9)\n"
            "print(best)\n")
    # OpenBLAS's own kernel choice, not a core type forced for old builds.
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    return max(float(subprocess.check_output([PYTHON, "-c", code], text=True, env=env)) for _ in range(2))


def main():
    out_path = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if subprocess.run([PYTHON, "-c", "import torch, rasterio, safetensors"], capture_output=True).returncode:
        print("skipped the Python peer: run `make peer` (the full PyTorch wheel, rasterio, safetensors)")
        json.dump({}, open(out_path, "w"))
        return
    if not os.path.exists(SCENE):
        os.makedirs(os.path.dirname(SCENE), exist_ok=True)
        subprocess.run([f"{BIN}/examples/synthetic_scene", SCENE, "4096", "7", "DEFLATE", "0.6"], check=True,
                       stderr=subprocess.DEVNULL)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if os.path.isdir(URBAN):
            names = open(os.path.join(URBAN, "val_socal.txt")).read().split()
            tiles = [os.path.join(URBAN, "images", n + ".tif") for n in names]
            rows.append(compare("val_socal (43 tiles of 256 px)", tiles,
                                [os.path.join(URBAN, "images"), "--list", os.path.join(URBAN, "val_socal.txt")], rounds,
                                tmp))
        else:
            print("skipped val_socal: ../shared/data is absent")
        rows.append(compare("4096x4096 scene, 0.6 m", [SCENE], [SCENE], rounds, tmp))
    peak = fp32_peak_gflops()
    print(f"{'work':<32} {'rsdetect s':>10} {'peer s':>8} {'speedup':>8} {'GFLOP/s':>8} {'of peak':>8}  same")
    for r in rows:
        r["fraction_of_fp32_peak"] = r["network_gflop_per_s"] / peak
        print(f"{r['work']:<32} {r['rsdetect_seconds']:>10.2f} {r['peer_seconds']:>8.2f} {r['speedup']:>8.2f} "
              f"{r['network_gflop_per_s']:>8.1f} {r['fraction_of_fp32_peak']:>8.2f}  {r['same_detections']}")
    print(f"fp32 matrix-multiply peak of this machine: {peak:.0f} GFLOP/s")
    json.dump({"peer": rows, "fp32_peak_gflops": peak, "flop_per_pixel": FLOP_PER_PIXEL}, open(out_path, "w"))


if __name__ == "__main__":
    main()
