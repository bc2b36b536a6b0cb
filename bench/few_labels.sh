#!/usr/bin/env bash
# A user's few labels: ten labelled 4-band NAIP tiles of imagery the shipped
# models were not trained on (the first ten of val_socal_2018.txt), trained
# with the plain command (images, labels, output, and --all-labelled: every
# tree of these tiles is labelled), scored on the
# other 33 tiles of that set against the shipped default model alone.
# (A tile without trees has no label file.) Prints both evaluations; writes
# under out/few-labels/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/rsdetect
U=../shared/data/urban-trees
if [ ! -d "$U" ]; then echo "skipped: $U is absent (this needs the shared NAIP data)"; exit 0; fi
OUT=out/few-labels
mkdir -p "$OUT/train" "$OUT/rest"
head -10 "$U/val_socal_2018.txt" > "$OUT/train.txt"
tail -n +11 "$U/val_socal_2018.txt" > "$OUT/rest.txt"
# The ten tiles, and nothing else, in one folder: what a user would have.
for t in $(cat "$OUT/train.txt"); do
  ln -sf "$(realpath "$U/images/$t.tif")" "$OUT/train/$t.tif"
  if [ -f "$U/json/$t.json" ]; then ln -sf "$(realpath "$U/json/$t.json")" "$OUT/train/$t.json"; fi
done
score() { # MODEL NAME
  "$BIN" detect "$U/images" --list "$OUT/rest.txt" --model "$1" --out "$OUT/$2" --force >/dev/null
  "$BIN" evaluate --detections "$OUT/$2" --labels "$U/json" --match distance:6 --out "$OUT/$2/eval.json" 2>&1 | tail -1
}
echo "shipped default model alone, on the other $(wc -l < "$OUT/rest.txt") tiles:"
score default shipped
"$BIN" train --images "$OUT/train" --labels "$OUT/train" --all-labelled --out "$OUT/model.safetensors"
echo "after rsdetect train on the ten tiles:"
score "$OUT/model.safetensors" trained
