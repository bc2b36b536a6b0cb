#!/usr/bin/env bash
# The GPU figures of bench/README.md ("On a GPU machine"), on a machine with
# CUDA and PyTorch 2.11.0 in its python3, from the repository's root:
#
#   bench/gpu-bundle.sh && (carry target/gpu-bundle.tar.xz there)
#   bench/gpu-run.sh [SIZE] [RESULTS_DIR]
#
# Unpacks the bundle, shows the devices, times the bare network, writes a
# synthetic SIZE x SIZE scene (default 10000) and runs `rsdetect detect` on
# it: the default command (mixed precision on CUDA), fp32, larger tiles,
# and the CPU beside CUDA in fp32 on a 4096 px scene to compare detections.
# One JSON line per run (seconds, Mpx/s, peak RSS) in RESULTS_DIR/gpu.jsonl.
set -uo pipefail
size=${1:-10000}
res=${2:-${OUT:-/tmp/gpu-results}}
mkdir -p "$res" /tmp/rs /tmp/gpu
tar -xJf target/gpu-bundle.tar.xz -C /tmp/rs || exit 2
. /tmp/rs/rsdetect/env.sh
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "cpus: $(nproc)"
rsdetect devices
model=models/weights/default.safetensors
for tile in 864 2080; do timeout 60 throughput cuda:0 4 "$model" "$tile"; done

scene=/tmp/gpu/scene_$size.tif
small=/tmp/gpu/scene_4096.tif
synthetic_scene "$scene" "$size" 7
synthetic_scene "$small" 4096 7
printf 'reduced_precision = false\n' >/tmp/gpu/fp32.toml
printf 'tile = 2016\n' >/tmp/gpu/tile2016.toml
printf 'tile = 2016\nreduced_precision = false\n' >/tmp/gpu/tile2016_fp32.toml

# LABEL OUT_DIR RASTER ARGS...: one detect run, its wall time and peak RSS.
run() {
  local label=$1 out=$2 raster=$3
  shift 3
  python3 - "$label" "$out" "$raster" "$@" <<'PY' | tee -a "$res/gpu.jsonl"
import json, re, resource, subprocess, sys, time
label, out, raster, *args = sys.argv[1:]
t = time.perf_counter()
p = subprocess.run(["timeout", "240", "rsdetect", "detect", raster, "--out", out, *args],
                   capture_output=True, text=True)
secs = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
row = {"run": label, "rc": p.returncode, "seconds": round(secs, 2), "peak_rss_mb": round(rss)}
try:
    r = json.load(open(f"{out}/run.json"))
    i = r["inputs"][0]
    s = i["stats"]
    side = int(re.search(r"scene_(\d+)", raster).group(1))
    row.update(device=r.get("device"), detections=s["detections"], raster_mpx=round(side * side / 1e6, 1),
               mpx_per_s=round(side * side / 1e6 / secs, 2), network_mpx=round(s["classified"] / 1e6, 1), stage_seconds={k: round(v, 2) for k, v in s["seconds"].items()})
except Exception as e:
    row["error"] = f"{e}: {p.stderr[-800:]}"
print(json.dumps(row))
PY
}

run cuda-default /tmp/gpu/o_default "$scene"
run cuda-fp32 /tmp/gpu/o_fp32 "$scene" --config /tmp/gpu/fp32.toml
run cuda-tile2016 /tmp/gpu/o_t2016 "$scene" --config /tmp/gpu/tile2016.toml
run cuda-tile2016-fp32 /tmp/gpu/o_t2016f "$scene" --config /tmp/gpu/tile2016_fp32.toml
run small-cuda-fp32 /tmp/gpu/s_cuda "$small" --config /tmp/gpu/fp32.toml
run small-cpu-fp32 /tmp/gpu/s_cpu "$small" --config /tmp/gpu/fp32.toml --device cpu
run small-cuda-default /tmp/gpu/s_cuda_mixed "$small"

# Do CUDA and the CPU find the same objects (fp32)? Matched within 1 px.
python3 - /tmp/gpu/s_cuda/scene_4096.geojson /tmp/gpu/s_cpu/scene_4096.geojson /tmp/gpu/s_cuda_mixed/scene_4096.geojson <<'PY' | tee -a "$res/gpu.jsonl"
import json, sys
import numpy as np
def load(p):
    f = json.load(open(p))["features"]
    return np.array([x["properties"]["pixel_centre"] for x in f]), np.array([x["properties"]["score"] for x in f])
cu, cus = load(sys.argv[1]); cp, cps = load(sys.argv[2]); mx, _ = load(sys.argv[3])
def matched(a, b, tol=1.0):
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    return int((d.min(1) < tol).sum())
print(json.dumps({"compare": "cuda fp32 vs cpu fp32", "cuda": len(cu), "cpu": len(cp),
                  "cuda_within_1px_of_cpu": matched(cu, cp), "mixed": len(mx), "mixed_within_1px_of_cpu": matched(mx, cp),
                  "identical_file": open(sys.argv[1]).read() == open(sys.argv[2]).read()}))
PY
cp /tmp/gpu/o_default/run.json "$res/run_default.json" 2>/dev/null
nvidia-smi --query-gpu=memory.used --format=csv,noheader
