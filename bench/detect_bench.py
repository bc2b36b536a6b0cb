"""Benchmarks of `rsdetect detect` as users run it (make bench, after the
raster and classifier sections of bench/run.sh): end-to-end scaling, the
pipeline's efficiency against the bare network, the paper's sliding grid on
the Ziziphus scene, dense against per-window scoring, and preprocessing
candidates against the sliding window. Prints tables; returns its figures as
JSON into the file named by its argument, for bench/run.sh to store."""

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release")
DATA = os.path.join(ROOT, "bench/data")
SHARED = os.path.join(ROOT, "../shared/data")
MODEL = os.path.join(ROOT, "models/weights/default.safetensors")


def high_water_mb(pid):
    """The process's peak resident memory so far (VmHWM), MB; None once gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmHWM"))
    except (OSError, StopIteration):
        return None


def run(args, samples=None):
    """Runs a command; returns (wall seconds, its peak RSS in MB, its stdout).
    With a list as `samples`, appends (seconds, peak RSS so far) five times a
    second."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.time()
        child = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=err, text=True)
        while True:
            pid, status, usage = os.wait4(child.pid, 0 if samples is None else os.WNOHANG)
            if pid:
                break
            hwm = high_water_mb(child.pid)
            if hwm is not None:
                samples.append((time.time() - t0, hwm))
            time.sleep(0.2)
        secs = time.time() - t0
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code not in (0, 1):
            sys.exit(f"{' '.join(args)} failed ({code}):\n{err.read()}")
        return secs, usage.ru_maxrss / 1024, out.read()


def detect(inputs, out, extra=(), samples=None):
    secs, rss, _ = run([f"{BIN}/rsdetect", "detect", *inputs, "--out", out, "--force", "--device", "cpu", *extra],
                       samples)
    with open(os.path.join(out, "run.json")) as f:
        return secs, rss, json.load(f)


def config(name, text):
    path = os.path.join(DATA, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def raw_rate(model, tile, bf16):
    """The bare network's pixels a second on tiles of `tile` px, in the
    precision detect ran in."""
    args = [f"{BIN}/examples/throughput", "cpu", "5", model, str(tile)]
    _, _, out = run(args)
    lines = [json.loads(line) for line in out.strip().splitlines()]
    return next(r for r in lines if r["mixed_precision"] == bf16)["windows_per_s"]


def patch_model(arch, patch):
    """A patch classifier of `arch` at `patch` px, untrained (speed does not
    depend on the weights), made by `rsdetect train --epochs 0`."""
    path = os.path.join(DATA, f"{arch}-{patch}.safetensors")
    if not os.path.exists(path):
        cfg = config(f"{arch}-{patch}.toml", f'[model]\narch = "{arch}"\npatch = {patch}\n[train]\nepochs = 0\n')
        scene = "sample_tiles/synthetic/shrubs_512.tif"
        run([f"{BIN}/rsdetect", "train", "--images", scene, "--labels", "sample_tiles/synthetic/shrubs_512.geojson",
             "--val-images", scene, "--config", cfg, "--out", path, "--device", "cpu", "--no-calibrate"])
    return path


def main():
    results = {}
    fast = config("no-tta.toml", "tta = false\n")

    print("## detect end to end: the shipped model, CPU, no test-time augmentation")
    print(f"{'raster':<18} {'Mpx':>8} {'seconds':>9} {'Mpx/s':>7} {'peak RSS MB':>12} {'at half-time':>13} "
          f"{'efficiency':>11}")
    raw = None
    rows = []
    for size in (1000, 5000, 20000):
        scene = os.path.join(DATA, f"scene_{size}.tif")
        samples = []
        secs, rss, r = detect([scene], os.path.join(DATA, f"detect_{size}"), ["--config", fast], samples)
        # Flat memory: the high-water mark half-way through is the final one.
        half = max((m for t, m in samples if t <= secs / 2), default=0.0)
        stats = r["inputs"][0]["stats"]
        if raw is None:
            # Tiles as detect read them: the core and its halo on both sides.
            tile = r["config"]["tile"] + 2 * r["config"]["halo"]
            raw = raw_rate(MODEL, tile, "(bf16)" in r["device"])
        # Windows (pixels) the network scored per second of the whole run,
        # against the bare network on tiles of the same size.
        eff = stats["classified"] / stats["seconds"]["total"] / raw
        row = {"raster": f"scene_{size}.tif", "mpx": size * size / 1e6, "seconds": secs, "peak_rss_mb": rss,
               "peak_rss_mb_half_time": half, "windows_scored": stats["classified"], "raw_windows_per_s": raw,
               "efficiency": eff}
        rows.append(row)
        print(f"{row['raster']:<18} {row['mpx']:>8.1f} {secs:>9.1f} {row['mpx'] / secs:>7.2f} {rss:>12.0f} {half:>13.0f} "
              f"{eff:>11.2f}")
    results["detect_scaling"] = rows

    # The default command as a user types it (no config, no flags): one
    # pass per tile unless the model's operating point asks for more.
    scene = os.path.join(DATA, "scene_5000.tif")
    secs, rss, r = detect([scene], os.path.join(DATA, "detect_default"))
    row = {"raster": "scene_5000.tif", "mpx": 25.0, "seconds": secs, "mpx_per_s": 25.0 / secs, "peak_rss_mb": rss,
           "tta": r["model"]["meta"]["tta"]}
    results["detect_default_command"] = row
    print(f"\nthe default command (no flags) on scene_5000.tif: {secs:.1f} s, {row['mpx_per_s']:.2f} Mpx/s, "
          f"peak RSS {rss:.0f} MB, test-time augmentation {'on' if row['tta'] else 'off'} (target >= 0.5 Mpx/s, "
          f"< 1536 MB)")

    zz = os.path.join(SHARED, "ziziphus/zone-test-1.jpg")
    if os.path.exists(zz):
        print("\n## The paper's grid on the Ziziphus scene (64 px windows, stride 19), and preprocessing")
        print(f"{'model':<28} {'mode':<12} {'windows':>8} {'seconds':>9} {'windows/s':>10}")
        rows = []
        for arch in ("googlenet-small", "resnet-small"):
            model = patch_model(arch, 64)
            for mode, extra in (("paper grid", ["--config", "configs/guirado2017.toml"]),
                                ("candidates", ["--mode", "candidates"])):
                secs, _, r = detect([zz], os.path.join(DATA, "ziziphus"), ["--model", model, *extra])
                n = r["inputs"][0]["stats"]["classified"]
                rows.append({"arch": arch, "mode": mode, "windows": n, "seconds": secs})
                print(f"{arch + ' 64 px':<28} {mode:<12} {n:>8,} {secs:>9.2f} {n / secs:>10.0f}")
        secs, _, r = detect([zz], os.path.join(DATA, "ziziphus"), ["--config", fast, "--input-gsd", "0.6"])
        n = r["inputs"][0]["stats"]["classified"]
        rows.append({"arch": "shipped heatmap", "mode": "dense", "windows": n, "seconds": secs})
        print(f"{'shipped heatmap':<28} {'dense':<12} {n:>8,} {secs:>9.2f} {n / secs:>10.0f}")
        results["ziziphus"] = rows
    else:
        print("\nskipped the Ziziphus scene: ../shared/data is absent")

    print("\n## Dense against per-window scoring (the shipped model)")
    urban = os.path.join(SHARED, "urban-trees")
    if os.path.exists(urban):
        names = [l.strip() for l in open(os.path.join(urban, "val_socal.txt")) if l.strip()][:2]
        rasters = [os.path.join(urban, "images", n + ".tif") for n in names]
    else:
        rasters = [os.path.join(ROOT, "sample_tiles/synthetic/shrubs_512.tif")]
    sliding = config("sliding.toml", 'tta = false\nmode = "sliding"\n[sliding]\nstride_px = 4\n')
    t_dense, _, rd = detect(rasters, os.path.join(DATA, "dense"), ["--config", fast])
    t_slide, _, rs = detect(rasters, os.path.join(DATA, "sliding"), ["--config", sliding])
    _, _, out = run([f"{BIN}/examples/dense_agreement", MODEL, *rasters])
    agree = json.loads(out.strip().splitlines()[-1])
    _, _, out = run([f"{BIN}/rsdetect", "evaluate", "--detections", os.path.join(DATA, "dense"),
                     "--labels", os.path.join(DATA, "sliding/detections.geojson"), "--match", "distance:1.5",
                     "--out", os.path.join(DATA, "dense-vs-sliding.json")])
    with open(os.path.join(DATA, "dense-vs-sliding.json")) as f:
        f1 = json.load(f)["overall"]["f1"]
    n_dense = sum(i["stats"]["classified"] for i in rd["inputs"])
    n_slide = sum(i["stats"]["classified"] for i in rs["inputs"])
    speedup = (n_dense / t_dense) / (n_slide / t_slide)
    print(f"{len(rasters)} rasters: dense {n_dense:,} windows in {t_dense:.1f} s, sliding (stride 4) "
          f"{n_slide:,} windows in {t_slide:.1f} s: {speedup:.0f}x more windows per second")
    print(f"per-window scores against the dense map at {agree['windows']:,} window centres: Spearman "
          f"{agree['spearman']:.4f}, largest difference {agree['max_abs_diff']:.4f}; detections F1 between "
          f"the two runs {f1:.4f}")
    results["dense_vs_sliding"] = {"rasters": len(rasters), "dense_windows": n_dense, "dense_seconds": t_dense,
                                   "sliding_windows": n_slide, "sliding_seconds": t_slide,
                                   "speedup_windows_per_s": speedup, "agreement": agree, "detection_f1": f1}
    with open(sys.argv[1], "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
