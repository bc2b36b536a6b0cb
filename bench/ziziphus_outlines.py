#!/usr/bin/env python3
"""How well outlines fit real shrubs: the Ziziphus lotus scene (Google Earth,
no georeferencing, 0.1 m declared), trained on the shrubs of its top strip
(rows 0-640) as a user labels them in QGIS, scored on shrubs below the strip
that we outlined by hand as polygons (examples/ziziphus/shrub_outlines.csv,
pixel columns and rows; never trained on).

Two labellings of the strip are compared: boxes only (examples/ziziphus.py),
and the same boxes with the four strip shrubs we outlined given as
polygons. For each, the median IoU of the detections' outlines with the
outlined shrubs below the strip (matched centre in polygon), and the area
error. Needs ../shared/data/ziziphus and the release build; writes
out/ziziphus-outlines/ and prints a JSON line per labelling."""

import csv
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import learning_curve  # noqa: E402  (its command runner)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "rsdetect")
SCENE = os.path.join(ROOT, "..", "shared", "data", "ziziphus", "zone-test-1.jpg")
SHRUBS = os.path.join(ROOT, "examples", "ziziphus", "shrubs.csv")
OUTLINES = os.path.join(ROOT, "examples", "ziziphus", "shrub_outlines.csv")
OUT = os.path.join(ROOT, "out", "ziziphus-outlines")
WIDTH, STRIP = 1945, 640


def run(args):
    return learning_curve.run(args, cwd=OUT)


def qgis_frame(ring):
    """Pixel (column, row) corners as a closed ring in the frame QGIS shows
    an image without georeferencing in (x = column, y = -row)."""
    pts = [[x, -y] for x, y in ring]
    return {"type": "Polygon", "coordinates": [pts + [pts[0]]]}


def feature(ring):
    return {"type": "Feature", "properties": {"label": "Ziziphus"}, "geometry": qgis_frame(ring)}


def write(name, features):
    json.dump({"type": "FeatureCollection", "features": features}, open(os.path.join(OUT, name), "w"))


def main():
    if not os.path.isfile(SCENE):
        print("skipped: ../shared/data/ziziphus is absent (the Ziziphus scene)")
        return
    os.makedirs(OUT, exist_ok=True)
    image = os.path.join(OUT, "zone-test-1.jpg")
    if not os.path.lexists(image):
        os.symlink(os.path.realpath(SCENE), image)
    boxes = [tuple(float(r[k]) for k in ("xmin", "ymin", "xmax", "ymax")) for r in csv.DictReader(open(SHRUBS))]
    outlines = {}
    for r in csv.DictReader(open(OUTLINES)):
        pts = re.findall(r"([\d.]+) ([\d.]+)", r["outline"])
        outlines[int(r["shrub"])] = [(float(x), float(y)) for x, y in pts[:-1]]
    in_strip = lambda i: (boxes[i - 1][1] + boxes[i - 1][3]) / 2 < STRIP
    box_ring = lambda b: [(b[0], b[1]), (b[2], b[1]), (b[2], b[3]), (b[0], b[3])]
    strip = [i for i in range(1, len(boxes) + 1) if in_strip(i)]
    scored = [i for i in sorted(outlines) if not in_strip(i)]
    write("strip.geojson", [feature(box_ring((0, 0, WIDTH, STRIP)))])
    write("below-outlines.geojson", [feature(outlines[i]) for i in scored])
    write("boxes.geojson", [feature(box_ring(boxes[i - 1])) for i in strip])
    write("polygons.geojson", [feature(outlines.get(i) or box_ring(boxes[i - 1])) for i in strip])
    print(f"{len(strip)} strip shrubs ({sum(i in outlines for i in strip)} outlined), "
          f"{len(scored)} outlined shrubs below the strip to score on", flush=True)
    for labelling in ["boxes", "polygons"]:
        model = f"{labelling}.safetensors"
        run([BIN, "train", "--images", "zone-test-1.jpg", "--labels", f"{labelling}.geojson", "--areas",
             "strip.geojson", "--input-gsd", "0.1", "--out", model])
        found = f"found-{labelling}"
        run([BIN, "detect", "zone-test-1.jpg", "--model", model, "--input-gsd", "0.1", "--out", found, "--force",
             "--quicklook"])
        report = f"{found}/outlines.json"
        run([BIN, "evaluate", "--detections", found, "--labels", "below-outlines.geojson", "--match",
             "center-in-label", "--out", report])
        r = json.load(open(os.path.join(OUT, report)))
        print(json.dumps({"labelling": labelling, "matched": r["overall"]["tp"], "of": len(scored), **r["shape"]}),
              flush=True)


if __name__ == "__main__":
    main()
