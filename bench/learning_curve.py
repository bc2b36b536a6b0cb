#!/usr/bin/env python3
"""The learning curve on NEON crowns (box labels, 0.1 m): F1 after 25, 50,
100 and all labelled crowns of the YELL crop's left part, from the shipped
default model and from scratch, scored on crowns never trained on (the
crop's right part, and OSBS_029) by centre-in-box and by IoU >= 0.4 of the
outlines. Each subset is what a user labels: the crowns of a strip from the
top, with that strip as the labelled area. Box labels teach the network
each crown's extent, so its detections are outlined at the learned size.
Writes out/learning-curve/, bench/learning-curve.json and
bench/learning-curve.png, and prints a table (and a JSON line per run).
Needs ../shared/data/neon and the release build (examples included)."""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEON = os.path.join(ROOT, "..", "shared", "data", "neon")
OUT = os.path.join(ROOT, "out", "learning-curve")
BIN = os.path.join(ROOT, "target", "release", "rsdetect")
PLOT = os.path.join(ROOT, "target", "release", "examples", "learning_curve_plot")
YELL = "2019_YELL_2_541000_4977000_image_crop"
SPLIT_X = 826  # the left 826 px (about 70% of the crowns) train; the rest tests
SIZES = [25, 50, 100, None]  # None: every crown of the training part


def run(args, cwd=ROOT):
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"{' '.join(args)} failed:\n{r.stderr}")
    return r


def boxes(xml):
    text = open(xml).read()
    tags = r"<xmin>([\d.]+)</xmin>\s*<ymin>([\d.]+)</ymin>\s*<xmax>([\d.]+)</xmax>\s*<ymax>([\d.]+)</ymax>"
    return [tuple(float(v) for v in m) for m in re.findall(tags, text)]


def write_csv(path, image, rows):
    with open(path, "w") as f:
        f.write("image_path,xmin,ymin,xmax,ymax,label\n")
        for x0, y0, x1, y1 in rows:
            f.write(f"{image},{x0},{y0},{x1},{y1},Tree\n")


def write_area(path, x1, y1):
    """The labelled strip, columns 0..x1 and rows 0..y1, as a polygon in the
    frame QGIS shows an image without georeferencing in (x = column,
    y = -row): what a user draws over the image."""
    ring = [[0, 0], [0, -y1], [x1, -y1], [x1, 0], [0, 0]]
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    json.dump({"type": "FeatureCollection", "features": [feature]}, open(path, "w"))


def write_configs(folder):
    """The fine-tuning schedule for one small raster, from the shipped model
    and from scratch (the same network, no frozen epochs): one small raster
    is three 256 px blocks, which the schedule as it comes makes one step an
    epoch, too few to learn extents, so both draw at least 128 crops an
    epoch. Returns the two config paths."""
    finetune = open(os.path.join(ROOT, "configs", "train-finetune.toml")).read()
    finetune = re.sub(r"(?m)^min_crops_per_epoch = \d+", "min_crops_per_epoch = 128", finetune)
    # The shipped default model's network, so --init transfers every weight.
    model = '[model]\narch = "resnet-small-heatmap"\nlayers = [2, 2, 2, 2]\npatch = 96\nclass = "tree"\n\n'
    tuned, scratch = os.path.join(folder, "tuned.toml"), os.path.join(folder, "scratch.toml")
    open(tuned, "w").write(model + finetune)
    open(scratch, "w").write(model + finetune.replace("freeze_epochs = 5", "freeze_epochs = 0"))
    return tuned, scratch


def evaluate(model, tag):
    """F1 by centre-in-box and by IoU 0.4 on the test part and OSBS_029."""
    det = os.path.join(OUT, "det", tag)
    run([BIN, "detect", os.path.join(OUT, "yell_test.tif"), os.path.join(NEON, "OSBS_029.tif"),
         "--model", model, "--input-gsd", "0.1", "--out", det, "--force"])
    labels = [os.path.join(OUT, "yell_test.csv"), os.path.join(NEON, "OSBS_029.csv")]
    scores = {}
    for rule in ["center-in-label", "iou:0.4"]:
        report = os.path.join(det, f"eval-{rule.replace(':', '')}.json")
        run([BIN, "evaluate", "--detections", det, "--labels", *labels, "--match", rule, "--out", report])
        scores[rule] = json.load(open(report))["overall"]
    return scores


def main():
    if not os.path.isdir(NEON):
        print("skipped: ../shared/data/neon is absent (the learning curve needs the NEON crowns)")
        return
    os.makedirs(OUT, exist_ok=True)
    png = os.path.join(NEON, YELL + ".png")
    crowns = boxes(os.path.join(NEON, YELL + ".xml"))
    width = 1249
    run(["gdal_translate", "-q", "-of", "GTiff", "-srcwin", "0", "0", str(SPLIT_X), "1035", png,
         os.path.join(OUT, "yell_train.tif")])
    run(["gdal_translate", "-q", "-of", "GTiff", "-srcwin", str(SPLIT_X), "0", str(width - SPLIT_X), "1035", png,
         os.path.join(OUT, "yell_test.tif")])
    centre = lambda b: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    train = sorted((b for b in crowns if centre(b)[0] < SPLIT_X), key=lambda b: centre(b)[1])
    test = [(max(b[0] - SPLIT_X, 0), b[1], b[2] - SPLIT_X, b[3]) for b in crowns if centre(b)[0] >= SPLIT_X]
    write_csv(os.path.join(OUT, "yell_test.csv"), "yell_test.tif", test)
    print(f"YELL crop: {len(train)} crowns to train on (left {SPLIT_X} px), {len(test)} to test, and OSBS_029's 61")
    # From scratch: the shipped network and the fine-tuning schedule, without
    # frozen epochs (nothing to keep).
    tuned_cfg, scratch_cfg = write_configs(OUT)
    rows = []
    base = evaluate("default", "shipped")
    rows.append(("the shipped model alone", 0, base))
    for n in SIZES:
        subset = train if n is None else train[:n]
        # The strip from the top holding exactly these crowns' centres.
        cut = 1035 if n is None else (centre(train[n - 1])[1] + centre(train[n])[1]) / 2
        tag = f"n{len(subset)}"
        labels, area = os.path.join(OUT, f"{tag}.csv"), os.path.join(OUT, f"{tag}-area.geojson")
        write_csv(labels, "yell_train.tif", subset)
        write_area(area, SPLIT_X, cut)
        common = ["train", "--images", os.path.join(OUT, "yell_train.tif"), "--labels", labels, "--areas", area,
                  "--input-gsd", "0.1", "--gsd", "0.3"]
        for how, kind, extra in [("from the shipped model", "tuned", ["--config", tuned_cfg, "--init", "default"]),
                                 ("from scratch", "scratch", ["--config", scratch_cfg])]:
            out = os.path.join(OUT, f"{tag}-{kind}.safetensors")
            run([BIN, *common, *extra, "--out", out])
            scores = evaluate(out, os.path.basename(out).replace(".safetensors", ""))
            rows.append((how, len(subset), scores))
            print(json.dumps({"start": how, "crowns": len(subset), **scores}), flush=True)
    results = os.path.join(ROOT, "bench", "learning-curve.json")
    rows_json = [{"start": how, "crowns": n, **s} for how, n, s in rows]
    json.dump({"rows": rows_json}, open(results, "w"), indent=1, sort_keys=True)
    run([PLOT, results, os.path.join(ROOT, "bench", "learning-curve.png")])
    print()
    print(f"| start | labelled crowns | F1 (centre in box) | F1 (IoU >= 0.4) |")
    print(f"|---|---:|---:|---:|")
    for how, n, s in rows:
        print(f"| {how} | {n} | {s['center-in-label']['f1']:.3f} | {s['iou:0.4']['f1']:.3f} |")


if __name__ == "__main__":
    main()
