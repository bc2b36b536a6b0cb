#!/usr/bin/env bash
# make bench: figures for bench/README.md, as a table on stdout and
# bench/results.json. Scenes are generated once into bench/data/ (ignored by
# git); real data is read from ../shared/data when present.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release
DATA=bench/data
mkdir -p "$DATA"
results=()

scene() { # SIZE -> path of a synthetic scene of SIZE x SIZE pixels
  local path="$DATA/scene_$1.tif"
  if [ ! -f "$path" ]; then
    echo "generating $path (once)" >&2
    "$BIN/examples/synthetic_scene" "$path.tmp.tif" "$1" 7 >&2
    mv "$path.tmp.tif" "$path"; mv "$path.tmp.geojson" "$DATA/scene_$1.geojson"
  fi
  echo "$path"
}

row() { # LABEL JSON-LINE -> one table row
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.loads(sys.argv[2])
print(f"{sys.argv[1]:<28} {r['width'] * r['height']:>12,} {r['seconds']:>10.2f} {r['mpx_per_s']:>10.1f} {r['peak_rss_mb']:>12.1f}")
PY
}

echo "## Raster layer: read every window (1024 px tiles, 32 px overlap, 3 bands)"
printf '%-28s %12s %10s %10s %12s\n' raster pixels seconds Mpx/s "peak RSS MB"
for size in 1000 5000 20000; do
  path=$(scene "$size")
  line=$("$BIN/examples/scan_raster" "$path" 1024 32)
  results+=("$line")
  row "scene_$size.tif" "$line"
done

if [ -d ../shared/data/ziziphus ]; then
  line=$("$BIN/examples/scan_raster" ../shared/data/ziziphus/zone-test-1.jpg 512 32)
  results+=("$line")
  row "zone-test-1.jpg (JPEG)" "$line"
else
  echo "skipped the Ziziphus scene: ../shared/data is absent"
fi

echo
echo "## Classifier forward pass, CPU (windows/s: a patch classifier's patches, a heatmap network's pixels)"
printf '%-22s %12s %6s %6s %6s %14s\n' arch parameters patch batch tile windows/s
arch_lines=()
while IFS= read -r line; do
  arch_lines+=("$line")
  python3 - "$line" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"{r['arch']:<22} {r['parameters']:>12,} {r['patch']:>6} {r['batch']:>6} {r['tile']:>6} {r['windows_per_s']:>14.1f}")
PY
done < <("$BIN/examples/throughput" cpu 3)
printf '%s\n' "${arch_lines[@]}" > bench/classifier.jsonl

echo
for size in 1000 5000 20000; do scene "$size" >/dev/null; done
python3 bench/detect_bench.py "$DATA/detect.json"
detect_json=$(cat "$DATA/detect.json")

echo
echo "## rsdetect against the Python peer (PyTorch + rasterio), CPU, alternating, medians of 3"
python3 bench/peer_bench.py "$DATA/peer.json"
peer_json=$(cat "$DATA/peer.json")

echo
echo "## The Python package: Model.detect_array against the command line, alternating, medians of 3"
"$PWD/.venv/bin/python" bench/python_bench.py "$DATA/python.json"
python_json=$(cat "$DATA/python.json")

python3 - "$detect_json" "$peer_json" "$python_json" "${results[@]}" <<'PY'
import json, platform, os, sys, datetime
detect = json.loads(sys.argv[1])
peer = json.loads(sys.argv[2])
python_package = json.loads(sys.argv[3])
rows = [json.loads(a) for a in sys.argv[4:]]
out = {
    "date": datetime.date.today().isoformat(),
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    "raster_scan": rows,
    "classifier_cpu": [json.loads(l) for l in open("bench/classifier.jsonl") if l.strip()],
    **detect,
    **peer,
    **python_package,
    "targets": {"python_detect_array_over_cli_max": 1.10, "peer_speedup_4096_min": 2.0, "peer_speedup_val_tiles_min": 1.5, "fraction_of_peak_min": 0.65,"raster_scan_peak_rss_mb_max": 1536, "detect_peak_rss_mb_max": 1536,
                "detect_efficiency_min": 0.9,
                "detect_default_command_mpx_per_s_min": 0.5, "ziziphus_paper_grid_seconds_max_cpu": 5.0},
}
print()
for r in rows + detect.get("detect_scaling", []):
    if r.get("raster", "").endswith("_20000.tif"):
        ok = r["peak_rss_mb"] < 1536
        print(f"{r['raster']} peak RSS {r['peak_rss_mb']:.0f} MB: target < 1536 MB {'met' if ok else 'MISSED'}")
for r in detect.get("detect_scaling", []):
    ok = r["efficiency"] >= 0.9
    print(f"detect efficiency on {r['raster']}: {r['efficiency']:.2f} (target >= 0.9: {'met' if ok else 'MISSED'})")
for r in detect.get("ziziphus", []):
    # The target is for the paper's network family; resnet-small's stride-1
    # stem makes it a heavier network, reported in the table only.
    if r["mode"] == "paper grid" and r["arch"] == "googlenet-small":
        ok = r["seconds"] <= 5.0
        print(f"paper grid, {r['arch']}: {r['seconds']:.2f} s (target <= 5 s on 2 CPU cores: {'met' if ok else 'MISSED'})")
for r in peer.get("peer", []):
    want = 2.0 if r["work"].startswith("4096") else 1.5
    print(f"{r['work']}, {r['precision']}: {r['speedup']:.2f}x the peer (target >= {want}: "
          f"{'met' if r['speedup'] >= want else 'MISSED'}), same detections: {r['same_detections']}")
    if r["work"].startswith("4096"):
        # Useful FLOPs: each raster pixel once; the val tiles' runs are
        # mostly start-up, so the target is the scene's.
        ok = r["fraction_of_peak"] >= 0.65
        print(f"  useful network FLOPs at {r['fraction_of_peak']:.2f} of the {r['precision']} matrix-multiply peak "
              f"(target >= 0.65: {'met' if ok else 'MISSED'})")
with open("bench/results.json", "w") as f:
    json.dump(out, f, indent=2)
print("wrote bench/results.json")
PY
