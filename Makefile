# rsdetect: `make demo` and `make test` set everything up on a fresh Debian 12
# machine (GDAL from apt, PyTorch 2.11.0 in .venv for libtorch), then run.
# Set-up steps leave stamps in .stamps/, so re-running skips them.

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
TORCH        := 2.11.0
VENV         := .venv
STAMPS       := .stamps
SHARED       := ../shared/data
BIN          := target/release/rsdetect
# CPU-only libtorch: torch's wheel without the multi-gigabyte CUDA libraries it
# would pull in. A machine with a GPU installs the full set: `make cuda`.
TORCH_PKGS   := torch==$(TORCH) nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85
# .cargo/config.toml points LIBTORCH at $(VENV)/libtorch, a link to the wheel's torch.
CARGO        := cargo

URBAN        := $(SHARED)/urban-trees
MODEL        := models/weights/default.safetensors

.PHONY: all setup build demo test bench fmt lint clean cuda sample-tiles eval-val model parity peer python wheel qgis-plugin qgis-test qgis-screenshots

all: build

setup: $(STAMPS)/gdal $(STAMPS)/torch-$(TORCH) $(VENV)/libtorch

$(STAMPS)/gdal:
	@if ! command -v gdal-config >/dev/null || ! command -v ogrinfo >/dev/null; then \
	  echo "installing GDAL (libgdal-dev, gdal-bin) with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgdal-dev gdal-bin libfontconfig1-dev >/dev/null; \
	fi
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/torch-$(TORCH):
	@echo "installing PyTorch $(TORCH) (CPU) into $(VENV) for libtorch"
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --no-deps $(TORCH_PKGS)
	@mkdir -p $(STAMPS) && touch $@

$(VENV)/libtorch: $(STAMPS)/torch-$(TORCH)
	ln -sfn "$$(cd $(VENV)/lib/python3*/site-packages/torch && pwd)" $@

cuda: $(STAMPS)/torch-$(TORCH)
	$(VENV)/bin/pip install -q torch==$(TORCH)

# torchvision parity: torchvision's weights load into our networks and give
# its logits. Python's torch needs the full CUDA wheel set (4.6 GB) to import.
parity: build cuda
	$(VENV)/bin/pip install -q --no-deps torchvision==0.26.0 pillow numpy
	$(CARGO) test --release -p models --test torchvision_parity -- --nocapture

build: setup
	$(CARGO) build --release --workspace --exclude rsdetect-python --examples --bins

# The Python package (python/): PyO3 bindings over the same library, built by
# maturin and installed into .venv, where it finds libtorch and GDAL as the
# binary does. pytest, geopandas, rasterio, tqdm and matplotlib are what its
# tests and README use.
PY_PKGS := maturin==1.16.0 numpy==2.4.6 pytest==9.2.0 geopandas==1.2.0 rasterio==1.4.4 tqdm==4.70.1 matplotlib==3.11.2
$(STAMPS)/python-$(TORCH): $(STAMPS)/torch-$(TORCH)
	$(VENV)/bin/pip install -q $(PY_PKGS)
	@touch $@

python: build $(STAMPS)/python-$(TORCH)
	$(VENV)/bin/maturin develop --release -m python/Cargo.toml

# A wheel in target/wheels/, for this machine's libtorch and GDAL (found by
# rpath, as the binary finds them), so not a manylinux wheel.
wheel: build $(STAMPS)/python-$(TORCH)
	$(VENV)/bin/maturin build --release -m python/Cargo.toml --out target/wheels --compatibility linux --auditwheel skip

# Detect with the shipped model on the sample tiles, then score against their labels.
VAL := ../shared/data/urban-trees

demo: build
	$(BIN) info sample_tiles/
	$(BIN) detect sample_tiles/ --out out/demo --quicklook --force
	$(BIN) evaluate --detections out/demo --labels sample_tiles/neon/OSBS_029.csv sample_tiles/synthetic/shrubs_512.geojson --match distance:6 --out out/demo/eval.json
	$(BIN) explain --detections out/demo --out out/demo/why --top 3
	@if [ -d $(VAL) ]; then \
	  $(BIN) detect $(VAL)/images --list $(VAL)/val_socal.txt --out out/demo/val_socal --force && \
	  $(BIN) evaluate --detections out/demo/val_socal --labels $(VAL)/json --match distance:6 | tail -2; \
	else echo "(../shared/data is absent: the NAIP validation run is skipped)"; fi
	@echo
	@echo "What this shows, in out/demo/ (open the .png files, or the .geojson and .explain.tif in QGIS):"
	@echo "- the shipped model finds every shrub of the synthetic scene and nothing else, each outlined at its size;"
	@echo "  on NAIP urban trees at 0.6 m, what it was made for, it scores F1 0.76 on held-out tiles."
	@echo "- it does NOT apply to the NEON tile: 0.1 m closed forest, 6x finer than its 0.6 m (the warning above);"
	@echo "  it finds 4 of 61 crowns there. Fine-tune on a few labelled tiles: rsdetect train --init default (README)."
	@echo "- why it decided: out/demo/why/ holds, for the 3 best detections of each raster, the map of the pixels"
	@echo "  its score rests on (a GeoTIFF on the raster's grid and a PNG over the image)."

# The shipped model's validation figures, one per year: detect + evaluate on
# val_socal (2020) and val_socal_2018, no tuning flags.
eval-val: build
	@if [ ! -d $(URBAN) ]; then echo "skipped: $(URBAN) is absent (eval-val needs the shared NAIP data)"; exit 0; fi; \
	for set in val_socal val_socal_2018; do \
	  $(BIN) detect $(URBAN)/images --list $(URBAN)/$$set.txt --out out/$$set --force && \
	  $(BIN) evaluate --detections out/$$set --labels $(URBAN)/json --match distance:6 --sweep --out out/$$set/eval.json; \
	done

# Reproduces each shipped model byte for byte (about two and a half hours on
# 2 CPU cores), in stages under out/models/, each copied with its log,
# curves, operating-point plot and reliability diagram into models/weights/:
# the 2020 RGB model (configs/train-naip-trees.toml), tuned on both years
# (configs/train-naip-trees-2years-tune.toml), tuned longer into the default
# (configs/train-naip-trees-2years-longer.toml), which starts the RGB +
# near-IR model (the two-year tuning, its near-IR weights starting at zero).
# Each stage ends by choosing the operating point and fitting the map from
# raw score to probability on both years' validation tiles.
TRAIN_SETS   := --list $(URBAN)/train_socal.txt --list $(URBAN)/train_socal_2018.txt \
                --val-list $(URBAN)/val_socal.txt --val-list $(URBAN)/val_socal_2018.txt
STAGES       := out/models
model: build
	@if [ ! -d $(URBAN) ]; then echo "skipped: $(URBAN) is absent (training needs the shared NAIP data)"; exit 0; fi; \
	$(BIN) train --images $(URBAN)/images --list $(URBAN)/train_socal.txt --val-list $(URBAN)/val_socal.txt \
	  --labels $(URBAN)/json --bands 1,2,3 --config configs/train-naip-trees.toml --device cpu \
	  --out $(STAGES)/rgb-2020.safetensors && \
	$(BIN) train --images $(URBAN)/images $(TRAIN_SETS) --labels $(URBAN)/json --bands 1,2,3 \
	  --config configs/train-naip-trees-2years-tune.toml --init $(STAGES)/rgb-2020.safetensors --device cpu \
	  --out $(STAGES)/rgb-2years.safetensors && \
	$(BIN) train --images $(URBAN)/images $(TRAIN_SETS) --labels $(URBAN)/json --bands 1,2,3 \
	  --config configs/train-naip-trees-2years-longer.toml --init $(STAGES)/rgb-2years.safetensors --device cpu \
	  --out $(STAGES)/default.safetensors && \
	$(BIN) train --images $(URBAN)/images $(TRAIN_SETS) --labels $(URBAN)/json --bands 1,2,3,4 \
	  --config configs/train-naip-trees-2years-tune.toml --init $(STAGES)/default.safetensors --device cpu \
	  --out $(STAGES)/rgbn.safetensors && \
	for m in default rgbn; do \
	  for part in safetensors log.csv curves.png operating-point.png reliability.png; do cp $(STAGES)/$$m.$$part models/weights/; done; \
	done

test: build python
	$(CARGO) test --release --workspace --exclude rsdetect-python
	$(VENV)/bin/python -m pytest -q python/tests
	$(MAKE) --no-print-directory qgis-test

# The QGIS plugin as a zip that QGIS installs (Plugins > Manage and Install
# Plugins > Install from ZIP).
qgis-plugin:
	@mkdir -p target
	rm -f target/rsdetect-qgis.zip
	cd qgis && python3 -c 'import pathlib, zipfile; z = zipfile.ZipFile("../target/rsdetect-qgis.zip", "w", zipfile.ZIP_DEFLATED); [z.write(p) for p in sorted(pathlib.Path("rsdetect").rglob("*")) if "__pycache__" not in p.parts]'
	@echo "target/rsdetect-qgis.zip"

# The README's screenshots, from a real QGIS under Xvfb (xvfb, qgis):
# qgis/screenshots/detect-dialog.png and results.png.
qgis-screenshots: build
	T=$$(mktemp -d) && mkdir -p $$T/profiles/default/python/plugins $$T/profiles/default/QGIS && \
	ln -s $(CURDIR)/qgis/rsdetect $$T/profiles/default/python/plugins/rsdetect && \
	printf '[PythonPlugins]\nrsdetect=true\n' > $$T/profiles/default/QGIS/QGIS3.ini && \
	RSDETECT_ROOT=$(CURDIR) RSDETECT_BINARY=$(CURDIR)/$(BIN) xvfb-run -a -s "-screen 0 1280x900x24" \
	  qgis --nologo --noversioncheck --profiles-path $$T --code qgis/tools/screenshots.py

# The provider in a real QGIS (Debian's qgis and python3-qgis, headless):
# skipped with a message where QGIS is not installed; CI installs it.
qgis-test: build
	@if ! command -v qgis_process.bin >/dev/null; then \
	  echo "skipped the QGIS provider's tests: QGIS is not installed (apt-get install qgis python3-qgis)"; \
	else QT_QPA_PLATFORM=offscreen /usr/bin/python3 -m unittest discover -s qgis/tests -v; fi

# The Python peer that `make bench` times detect against (bench/peer.py):
# the full PyTorch wheel set, as `make parity`, with rasterio and safetensors.
peer: $(STAMPS)/peer
$(STAMPS)/peer: $(STAMPS)/torch-$(TORCH)
	$(VENV)/bin/pip install -q torch==$(TORCH) rasterio==1.4.4 safetensors==0.7.0 numpy
	@touch $@

bench: build peer python
	bench/run.sh

fmt:
	cargo fmt --all

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

# Regenerates the synthetic sample scene (byte-identical for the same seed).
sample-tiles: build
	target/release/examples/synthetic_scene sample_tiles/synthetic/shrubs_512.tif 512 1

clean:
	cargo clean
	rm -rf $(STAMPS)
