"""The Python peer of `rsdetect detect` for the shipped heatmap model: what a
competent PyTorch + rasterio user would write to run the same network with
the same weights over the same rasters, without rsdetect. `make bench` times
it against `rsdetect detect` (bench/peer_bench.py) and checks that both find
the same objects.

It does what rsdetect's dense mode does for a heatmap network, without
test-time augmentation: tiles of 672 px with 96 px of overlap on every side
(clipped at the raster's edge), each band minus the model's mean over its
standard deviation, zero padding to the network's stride, the sigmoid of the
object logit, peaks (3x3 local maxima of at least 0.02), the model's score
threshold, pixels with data only, centres inside the tile's core, then one
suppression by distance over the whole raster (the model's 4 m, highest
score first). The network runs in evaluation mode under inference_mode,
channels-last, on all cores (PyTorch's default).

    python3 bench/peer.py [--bf16] MODEL.safetensors OUT.json RASTER...

With --bf16 the network runs under `torch.autocast("cpu", dtype=torch.bfloat16)`,
as a competent user would on a CPU with bf16 instructions. Where the model
file maps raw scores to probabilities (`score_map`), peaks are found on the
raw scores and each is reported, and held against the threshold, mapped.

OUT.json holds, per raster, each detection's pixel centre and score, as
rsdetect's GeoJSON `centre` and `score` properties give them.
"""

import json
import math
import sys
import time

import numpy as np
import rasterio
import torch
import torch.nn.functional as F
from rasterio.windows import Window
from safetensors import safe_open
from torch import nn

TILE = 672
OVERLAP = 96
PEAK_FLOOR = 0.02


class BasicBlock(nn.Module):
    def __init__(self, c_in, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or c_in != planes:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class HeatmapResNet(nn.Module):
    """A ResNet trunk with a small stem and a feature-pyramid decoder, with
    torchvision's names for the trunk (as rsdetect's model files have)."""

    def __init__(self, in_channels, width, layers, decoder_width, outputs):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        c_in, channels = width, []
        for i, n in enumerate(layers):
            planes = width << i
            blocks = [BasicBlock(c_in if b == 0 else planes, planes, 2 if i > 0 and b == 0 else 1) for b in range(n)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            c_in = planes
            channels.append(planes)
        self.stages = len(layers)
        self.decoder = nn.Module()
        self.decoder.lateral = nn.ModuleList(nn.Conv2d(c, decoder_width, 1) for c in channels)
        self.decoder.smooth = nn.ModuleList(
            nn.Sequential(nn.Conv2d(decoder_width, decoder_width, 3, 1, 1, bias=False), nn.BatchNorm2d(decoder_width),
                          nn.ReLU(inplace=True))
            for _ in channels[1:])
        self.head = nn.Sequential(nn.Conv2d(decoder_width, decoder_width, 3, 1, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(decoder_width, outputs, 1))
        self.stride = 1 << (len(layers) - 1)

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        stages = []
        for i in range(self.stages):
            y = getattr(self, f"layer{i + 1}")(y)
            stages.append(y)
        last = self.stages - 1
        y = self.decoder.lateral[last](stages[last])
        for i in reversed(range(last)):
            skip = self.decoder.lateral[i](stages[i])
            y = F.interpolate(y, size=skip.shape[2:], mode="nearest") + skip
            y = self.decoder.smooth[i](y)
        return self.head(y)


def load(path):
    """The network in evaluation mode and the model file's metadata."""
    with safe_open(path, "pt") as f:
        meta = json.loads(f.metadata()["rsdetect"])
        weights = {k: f.get_tensor(k) for k in f.keys()}
    arch = meta["arch"]
    assert arch["kind"] == "resnet" and arch["head"]["kind"] == "heatmap", "the peer runs heatmap ResNets"
    net = HeatmapResNet(len(meta["bands"]), arch["width"], arch["layers"], arch["head"]["width"],
                        len(meta["classes"]) - 1)
    net.load_state_dict(weights, strict=False)
    return net.eval().to(memory_format=torch.channels_last), meta


def suppress(dets, distance):
    """Of detections closer than `distance` pixels, the highest scoring (then
    topmost, then leftmost) stays."""
    dets.sort(key=lambda d: (-d[2], d[1], d[0]))
    cell, kept, grid = distance, [], {}
    for x, y, s in dets:
        gx, gy = int(math.floor(x / cell)), int(math.floor(y / cell))
        near = any((x - qx) ** 2 + (y - qy) ** 2 < distance * distance
                   for i in (-1, 0, 1) for j in (-1, 0, 1) for qx, qy in grid.get((gx + i, gy + j), ()))
        if not near:
            grid.setdefault((gx, gy), []).append((x, y))
            kept.append((x, y, s))
    return kept


def probability(raw, score_map):
    """A raw score as the model file reports it: through its map, if any
    (a logistic on the raw score's log-odds, computed in double precision)."""
    if score_map is None:
        return raw
    r = min(max(float(raw), 1e-6), 1 - 1e-6)
    z = score_map["slope"] * math.log(r / (1 - r)) + score_map["intercept"]
    return 1 / (1 + math.exp(-z))


def detect(net, meta, path, bf16):
    bands = meta["bands"]
    mean = torch.tensor(meta["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(meta["std"]).view(1, -1, 1, 1)
    threshold, score_map, found = meta["score_threshold"], meta.get("score_map"), []
    with rasterio.open(path) as ds:
        gsd = abs(ds.transform.a)
        for row in range(0, ds.height, TILE):
            for col in range(0, ds.width, TILE):
                x0, y0 = max(col - OVERLAP, 0), max(row - OVERLAP, 0)
                x1, y1 = min(col + TILE + OVERLAP, ds.width), min(row + TILE + OVERLAP, ds.height)
                window = Window(x0, y0, x1 - x0, y1 - y0)
                pixels = ds.read(bands, window=window).astype(np.float32)
                valid = torch.from_numpy(ds.dataset_mask(window=window) > 0)
                x = (torch.from_numpy(pixels).unsqueeze(0) - mean) / std
                h, w = x.shape[2:]
                x = F.pad(x, (0, -w % net.stride, 0, -h % net.stride)).contiguous(memory_format=torch.channels_last)
                with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    logits = net(x)[0, meta["positive"] - 1, :h, :w].float()
                scores = torch.sigmoid(logits)
                peaks = (scores == F.max_pool2d(scores[None, None], 3, 1, 1)[0, 0]) & (scores >= PEAK_FLOOR) & valid
                for r, c in peaks.nonzero().tolist():
                    cx, cy = x0 + c + 0.5, y0 + r + 0.5
                    score = probability(scores[r, c].item(), score_map)
                    if col <= cx < col + TILE and row <= cy < row + TILE and score >= threshold:
                        found.append((cx, cy, score))
    return suppress(found, meta["suppression_m"] / gsd)


def main():
    args = sys.argv[1:]
    bf16 = "--bf16" in args
    model, out, *rasters = [a for a in args if a != "--bf16"]
    torch.set_grad_enabled(False)
    net, meta = load(model)
    t0 = time.time()
    results = {}
    for path in rasters:
        results[path] = [{"centre": [x, y], "score": s} for x, y, s in detect(net, meta, path, bf16)]
    json.dump({"seconds": time.time() - t0, "rasters": results}, open(out, "w"))


if __name__ == "__main__":
    main()
