#!/usr/bin/env python3
"""Whether a model's scores read as probabilities on imagery the map was not
fitted on. The map from raw score to probability is fitted by `rsdetect
calibrate` on both validation sets (as `make model` fits the shipped ones),
on one year's (val_socal, 2020; val_socal_2018) to be scored on the other,
and on half the places of both years (tiles with odd numbers) to be scored
on the other half; each fitted copy then detects with the default command,
and `rsdetect evaluate` reports precision, recall, F1 and the expected
calibration error of the scores (10 bins).

    bench/calibration.py [MODEL]      (default: the shipped default model)

Needs ../shared/data/urban-trees and the release build; writes
out/calibration/ and prints a table and a JSON line per fit."""

import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "rsdetect")
URBAN = os.path.join(ROOT, "..", "shared", "data", "urban-trees")
OUT = os.path.join(ROOT, "out", "calibration")
SETS = ["val_socal", "val_socal_2018"]
HALVES = [f"{s}-{half}" for half in ("odd", "even") for s in SETS]
# What each map is fitted on, and what it is then scored on.
FITS = {
    "both": (SETS, SETS),
    "val_socal": (["val_socal"], SETS),
    "val_socal_2018": (["val_socal_2018"], SETS),
    "odd places": (HALVES[:2], HALVES[2:]),
}


def list_path(name):
    """A set's list: the shared one, or half of it written under out/."""
    if name in SETS:
        return os.path.join(URBAN, f"{name}.txt")
    return os.path.join(OUT, f"{name}.txt")


def write_halves():
    """Each validation list split by the tile's place number (CITY_YEAR_N):
    the same places fall in the same half in both years."""
    for s in SETS:
        tiles = open(os.path.join(URBAN, f"{s}.txt")).read().split()
        for half, parity in (("odd", 1), ("even", 0)):
            chosen = [t for t in tiles if int(os.path.splitext(os.path.basename(t))[0].rsplit("_", 1)[1]) % 2 == parity]
            open(os.path.join(OUT, f"{s}-{half}.txt"), "w").write("\n".join(chosen) + "\n")


def run(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def main():
    if not os.path.isdir(URBAN):
        print("skipped: ../shared/data/urban-trees is absent (the NAIP validation sets)")
        return
    model = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models", "weights", "default.safetensors")
    os.makedirs(OUT, exist_ok=True)
    write_halves()
    images, labels = os.path.join(URBAN, "images"), os.path.join(URBAN, "json")
    rows = []
    for fit, (fit_sets, scored_sets) in FITS.items():
        copy = os.path.join(OUT, f"fit-{fit.replace(' ', '-')}.safetensors")
        shutil.copyfile(model, copy)
        lists = [a for s in fit_sets for a in ("--list", list_path(s))]
        run([BIN, "calibrate", "--model", copy, "--images", images, *lists, "--labels", labels, "--device", "cpu"])
        for s in scored_sets:
            out = os.path.join(OUT, f"fit-{fit.replace(' ', '-')}-on-{s}")
            run([BIN, "detect", images, "--list", list_path(s), "--model", copy, "--out", out, "--force"])
            report = os.path.join(out, "eval.json")
            run([BIN, "evaluate", "--detections", out, "--labels", labels, "--match", "distance:6", "--out", report])
            r = json.load(open(report))
            row = {"fitted_on": fit, "scored_on": s, "held_out": s not in fit_sets,
                   "precision": round(r["overall"]["precision"], 4), "recall": round(r["overall"]["recall"], 4),
                   "f1": round(r["overall"]["f1"], 4),
                   "ece": round(r["calibration"]["expected_calibration_error"], 4),
                   "detections": r["overall"]["tp"] + r["overall"]["fp"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print("| fitted on | scored on | held out | P / R / F1 | ECE |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['fitted_on']} | {r['scored_on']} | {'yes' if r['held_out'] else 'no'} | "
              f"{r['precision']:.3f} / {r['recall']:.3f} / {r['f1']:.3f} | {r['ece']:.3f} |")


if __name__ == "__main__":
    main()
