#!/usr/bin/env python3
"""The README's Google Earth example, rerun: the Ziziphus lotus scene of
Guirado et al. 2017 (a Google Earth export, no georeferencing), shrubs of its
top strip labelled as a user labels them in QGIS over the image (boxes in the
frame QGIS shows it in: x = column, y = -row), the strip as the labelled area,
the plain `rsdetect train`, `detect` on the whole scene, the quicklook, and
the shrubs below the strip (labelled by us, never trained on) scoring it.

examples/ziziphus/shrubs.csv holds our own boxes of the scene's shrubs
(pixel columns and rows); the image stays in ../shared/data/ziziphus (it has
no licence). Needs the release build; writes out/ziziphus/.

    python3 examples/ziziphus.py [--strip ROWS]   # default 640
"""

import argparse
import csv
import json
import os
import shlex
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BIN = os.path.join(ROOT, "target", "release", "rsdetect")
SCENE = os.path.join(ROOT, "..", "shared", "data", "ziziphus", "zone-test-1.jpg")
SHRUBS = os.path.join(ROOT, "examples", "ziziphus", "shrubs.csv")
WIDTH = 1945


def show(args, cwd):
    """Runs a command in `cwd` and prints it as the README shows it."""
    shown = ["rsdetect" if a == BIN else a for a in args]
    print("$ " + " ".join(shlex.quote(a) for a in shown), flush=True)
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    text = "\n".join(l for l in (r.stderr + r.stdout).splitlines() if not l.startswith("epoch "))
    if text:
        print(text)
    if r.returncode not in (0, 1):
        sys.exit(f"failed with exit code {r.returncode}")
    print(flush=True)


def box_polygon(x0, y0, x1, y1):
    """A box of pixel edges as a polygon in QGIS's frame of the image."""
    return {"type": "Polygon", "coordinates": [[[x0, -y0], [x0, -y1], [x1, -y1], [x1, -y0], [x0, -y0]]]}


def collection(features):
    return {"type": "FeatureCollection", "features": features}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strip", type=int, default=640, help="rows of the labelled strip")
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "ziziphus"))
    ap.add_argument("--no-areas", action="store_true", help="train without --areas (labels' hull)")
    a = ap.parse_args()
    if not os.path.isfile(SCENE):
        print("skipped: ../shared/data/ziziphus is absent (the example uses the Ziziphus scene)")
        return
    os.makedirs(a.out, exist_ok=True)
    # The export as the user keeps it, beside their labels.
    image = os.path.join(a.out, "zone-test-1.jpg")
    if not os.path.lexists(image):
        os.symlink(os.path.realpath(SCENE), image)
    rows = [dict(r) for r in csv.DictReader(open(SHRUBS))]
    boxes = [(float(r["xmin"]), float(r["ymin"]), float(r["xmax"]), float(r["ymax"]), r["label"]) for r in rows]
    mid = lambda b: (b[1] + b[3]) / 2
    strip = [b for b in boxes if mid(b) < a.strip]
    below = [b for b in boxes if mid(b) >= a.strip]
    # What the user digitised in QGIS: the strip's shrubs and the strip.
    labels = [{"type": "Feature", "properties": {"label": b[4]}, "geometry": box_polygon(*b[:4])} for b in strip]
    json.dump(collection(labels), open(os.path.join(a.out, "shrubs.geojson"), "w"))
    area = {"type": "Feature", "properties": {}, "geometry": box_polygon(0, 0, WIDTH, a.strip)}
    json.dump(collection([area]), open(os.path.join(a.out, "strip.geojson"), "w"))
    # The shrubs below the strip, to score on: pixel boxes.
    with open(os.path.join(a.out, "below.csv"), "w") as f:
        f.write("image_path,xmin,ymin,xmax,ymax\n")
        for b in below:
            f.write(f"zone-test-1.jpg,{b[0]},{b[1]},{b[2]},{b[3]}\n")

    areas = [] if a.no_areas else ["--areas", "strip.geojson"]
    show([BIN, "train", "--images", "zone-test-1.jpg", "--labels", "shrubs.geojson", *areas, "--input-gsd", "0.1",
          "--out", "ziziphus.safetensors"], a.out)
    show([BIN, "detect", "zone-test-1.jpg", "--model", "ziziphus.safetensors", "--input-gsd", "0.1", "--out", "found",
          "--quicklook", "--force"], a.out)
    # Only detections below the strip are scored: the strip was trained on.
    found = json.load(open(os.path.join(a.out, "found", "zone-test-1.geojson")))
    row = lambda p: p["pixel_centre"][1] if "pixel_centre" in p else (p["pixel_bbox"][1] + p["pixel_bbox"][3]) / 2
    kept = [f for f in found["features"] if row(f["properties"]) >= a.strip]
    found["features"] = kept
    json.dump(found, open(os.path.join(a.out, "found", "below-strip.geojson"), "w"))
    print(f"{len(strip)} shrubs labelled in rows 0-{a.strip}; {len(below)} below, {len(kept)} detections there\n")
    show([BIN, "evaluate", "--detections", "found/below-strip.geojson", "--labels", "below.csv",
          "--match", "center-in-label", "--out", "below.json"], a.out)


if __name__ == "__main__":
    main()
