#!/usr/bin/env python3
"""The README's worked example, rerun: from a raster and a labels file to a
trained model, detections with outlines, an evaluation and a suggest round,
printing every command with its output. The raster is the NEON YELL crop
(DeepForest's sample data, MIT; 0.1 m, not georeferenced, so --input-gsd):
its left 826 px stand for the user's imagery, whose top strip they labelled
(crowns.csv, boxes drawn in QGIS or any VOC/CSV tool, and strip.geojson,
the strip), and its right part for imagery they did not label, whose
reference crowns score the result. Needs ../shared/data/neon and the release
build; writes out/worked-example/."""

import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import learning_curve as lc  # noqa: E402  the same crop, split and strips

OUT = os.path.join(lc.ROOT, "out", "worked-example")
LABELLED = 100  # crowns in the labelled strip


def show(args, cwd=OUT):
    """Runs a command in OUT and prints it as the README shows it."""
    shown = ["rsdetect" if a == lc.BIN else a for a in args]
    print("$ " + " ".join(shlex.quote(a) for a in shown), flush=True)
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    text = (r.stderr + r.stdout).rstrip()
    if text:
        print(text)
    if r.returncode not in (0, 1):
        sys.exit(f"failed with exit code {r.returncode}")
    print(flush=True)


def main():
    if not os.path.isdir(lc.NEON):
        print("skipped: ../shared/data/neon is absent (the worked example uses the NEON YELL crop)")
        return
    os.makedirs(OUT, exist_ok=True)
    png = os.path.join(lc.NEON, lc.YELL + ".png")
    crowns = lc.boxes(os.path.join(lc.NEON, lc.YELL + ".xml"))
    subprocess.run(["gdal_translate", "-q", "-srcwin", "0", "0", str(lc.SPLIT_X), "1035", png, "imagery.tif"],
                   cwd=OUT, check=True)
    subprocess.run(["gdal_translate", "-q", "-srcwin", str(lc.SPLIT_X), "0", str(1249 - lc.SPLIT_X), "1035", png,
                    "elsewhere.tif"], cwd=OUT, check=True)
    centre = lambda b: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    train = sorted((b for b in crowns if centre(b)[0] < lc.SPLIT_X), key=lambda b: centre(b)[1])
    cut = (centre(train[LABELLED - 1])[1] + centre(train[LABELLED])[1]) / 2
    lc.write_csv(os.path.join(OUT, "crowns.csv"), "imagery.tif", train[:LABELLED])
    lc.write_area(os.path.join(OUT, "strip.geojson"), lc.SPLIT_X, cut)
    reference = [(max(b[0] - lc.SPLIT_X, 0), b[1], b[2] - lc.SPLIT_X, b[3]) for b in crowns if centre(b)[0] >= lc.SPLIT_X]
    lc.write_csv(os.path.join(OUT, "elsewhere.csv"), "elsewhere.tif", reference)
    show(["head", "-3", "crowns.csv"])
    lc.write_configs(OUT)
    show(["grep", "-n", "^\\[model\\]\\|^arch\\|min_crops", "tuned.toml"])
    show([lc.BIN, "train", "--images", "imagery.tif", "--labels", "crowns.csv", "--areas", "strip.geojson",
          "--input-gsd", "0.1", "--gsd", "0.3", "--init", "default", "--config", "tuned.toml",
          "--out", "crowns.safetensors"])
    show([lc.BIN, "detect", "elsewhere.tif", "--model", "crowns.safetensors", "--input-gsd", "0.1",
          "--out", "detections", "--quicklook", "--force"])
    show(["python3", "-c", "import json; f = json.load(open('detections/elsewhere.geojson'))['features'][0]; "
          "print(f['geometry']['type'], len(f['geometry']['coordinates'][0]), 'corners;', "
          "{k: f['properties'][k] for k in ('score', 'area_m2', 'diameter_m')})"])
    for rule in ["center-in-label", "iou:0.4"]:
        show([lc.BIN, "evaluate", "--detections", "detections", "--labels", "elsewhere.csv", "--match", rule])
    show([lc.BIN, "suggest", "imagery.tif", "--model", "crowns.safetensors", "--input-gsd", "0.1", "-k", "3", "--window", "128",
          "--out", "next.gpkg"])
    show(["ogr2ogr", "-f", "CSV", "/vsistdout/", "next.gpkg", "-select", "rank,uncertainty,uncertain,detections"])


if __name__ == "__main__":
    main()
