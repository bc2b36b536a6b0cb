"""rsdetect against its Python peer (bench/peer.py: PyTorch + rasterio, the
same network, weights, tiling, peaks and suppression), in one run,
alternating, on the NAIP val_socal tiles and on a 4096x4096 0.6 m scene;
both with the shipped model on the CPU, like for like: fp32 against fp32,
and where the CPU has bf16 instructions, rsdetect in bf16 against the peer
under bf16 autocast. Checks that both find the same objects, then prints
the medians and their ratios, and writes them as JSON into the file named
by its argument (bench/run.sh stores them in bench/results.json). Needs the
full PyTorch wheel and rasterio in .venv (`make peer`).

"Useful" network FLOPs count each raster pixel once (what the network has
to do); the tile pixels rsdetect scores include the halo it reads around
each tile's core, counted apart.

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


def agreement(a, b):
    """How two runs' detections agree: the number at the same centre in both,
    the number in one only, and the largest score difference at the same
    centre."""
    both = only = 0
    worst = 0.0
    for k in set(a) | set(b):
        mine, theirs = dict(a.get(k, [])), dict(b.get(k, []))
        for c, s in mine.items():
            if c in theirs:
                both += 1
                worst = max(worst, abs(s - theirs[c]))
            else:
                only += 1
        only += sum(1 for c in theirs if c not in mine)
    return both, only, worst


def precision_config(tmp, bf16):
    """A detect config that fixes rsdetect's precision."""
    path = os.path.join(tmp, "bf16.toml" if bf16 else "fp32.toml")
    with open(path, "w") as f:
        f.write(f"reduced_precision = {'true' if bf16 else 'false'}\n")
    return path


def compare(name, rasters, extra, rounds, tmp, bf16):
    ours, theirs, rss = [], [], []
    precision = "bf16" if bf16 else "fp32"
    out = os.path.join(tmp, f"{name}-{precision}")
    peer_json = out + ".json"
    config = precision_config(tmp, bf16)
    for _ in range(rounds):
        s, m = timed([f"{BIN}/rsdetect", "detect", *extra, "--config", config, "--out", out, "--force", "--device",
                      "cpu"])
        ours.append(s)
        rss.append(m)
        s, _ = timed([PYTHON, "bench/peer.py", *(["--bf16"] if bf16 else []), MODEL, peer_json, *rasters])
        theirs.append(s)
    found, classified = rsdetect_found(out)
    both, only, worst = agreement(found, peer_found(peer_json))
    a, b = statistics.median(ours), statistics.median(theirs)
    pixels = sum(raster_pixels(r) for r in rasters)
    return {
        "work": name,
        "precision": precision,
        "rasters": len(rasters),
        "rsdetect_seconds": a,
        "peer_seconds": b,
        "speedup": b / a,
        "rsdetect_runs": ours,
        "peer_runs": theirs,
        "rsdetect_peak_rss_mb": max(rss),
        "raster_pixels": pixels,
        "tile_pixels": classified,
        "useful_gflop_per_s": pixels * FLOP_PER_PIXEL / a / 1e9,
        "network_gflop_per_s": classified * FLOP_PER_PIXEL / a / 1e9,
        # fp32 on both sides: the same centres, scores as close as the halo
        # allows (bench/README.md); bf16 rounds differently on each side.
        "same_detections": only == 0 and worst <= 0.005,
        "detections_both": both,
        "detections_one_side_only": only,
        "max_score_difference": worst,
    }


def raster_pixels(path):
    out = subprocess.check_output(["gdalinfo", "-json", path], text=True)
    w, h = json.loads(out)["size"]
    return w * h


def matmul_peak_gflops(bf16):
    """This machine's matrix-multiply rate on all cores, GFLOP/s, on 4096x4096
    matrices: in fp32 the best of PyTorch's (MKL, which takes a slow path on
    AMD processors) and numpy's (OpenBLAS); in bf16 PyTorch's (oneDNN)."""
    code = ("import numpy, torch, time, sys\n"
            "bf16 = sys.argv[1] == 'bf16'\n"
            "best = 0\n"
            "mms = [lambda a, b: a @ b] + ([] if bf16 else [lambda a, b: a.numpy() @ b.numpy()])\n"
            "for mm in mms:\n"
            "    a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)\n"
            "    if bf16: a, b = a.bfloat16(), b.bfloat16()\n"
            "    mm(a, b)\n"
            "    t = time.time(); [mm(a, b) for _ in range(4)]\n"
            "    best = max(best, 2 * 4096 ** 3 * 4 / (time.time() - t) / 1e9)\n"
            "print(best)\n")
    # OpenBLAS's own kernel choice, not a core type forced for old builds.
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    arg = "bf16" if bf16 else "fp32"
    return max(float(subprocess.check_output([PYTHON, "-c", code, arg], text=True, env=env)) for _ in range(2))


def cpu_has_bf16():
    try:
        return "avx512_bf16" in open("/proc/cpuinfo").read() or "amx_bf16" in open("/proc/cpuinfo").read()
    except OSError:
        return False


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
    precisions = [False, True] if cpu_has_bf16() else [False]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for bf16 in precisions:
            if os.path.isdir(URBAN):
                names = open(os.path.join(URBAN, "val_socal.txt")).read().split()
                tiles = [os.path.join(URBAN, "images", n + ".tif") for n in names]
                rows.append(compare("val_socal (43 tiles of 256 px)", tiles,
                                    [os.path.join(URBAN, "images"), "--list", os.path.join(URBAN, "val_socal.txt")],
                                    rounds, tmp, bf16))
            else:
                print("skipped val_socal: ../shared/data is absent")
            rows.append(compare("4096x4096 scene, 0.6 m", [SCENE], [SCENE], rounds, tmp, bf16))
    peaks = {("bf16" if b else "fp32"): matmul_peak_gflops(b) for b in precisions}
    print(f"{'work':<32} {'prec':>5} {'rsdetect s':>10} {'peer s':>8} {'speedup':>8} {'useful GFLOP/s':>15} "
          f"{'of peak':>8} {'tile px/raster px':>18}  agreement")
    for r in rows:
        r["fraction_of_peak"] = r["useful_gflop_per_s"] / peaks[r["precision"]]
        print(f"{r['work']:<32} {r['precision']:>5} {r['rsdetect_seconds']:>10.2f} {r['peer_seconds']:>8.2f} "
              f"{r['speedup']:>8.2f} {r['useful_gflop_per_s']:>15.1f} {r['fraction_of_peak']:>8.2f} "
              f"{r['tile_pixels'] / r['raster_pixels']:>18.3f}  {r['detections_both']} same centre, "
              f"{r['detections_one_side_only']} one side only, scores within {r['max_score_difference']:.4f}")
    for p, g in peaks.items():
        print(f"{p} matrix-multiply peak of this machine: {g:.0f} GFLOP/s")
    json.dump({"peer": rows, "matmul_peak_gflops": peaks, "flop_per_pixel": FLOP_PER_PIXEL}, open(out_path, "w"))


if __name__ == "__main__":
    main()
