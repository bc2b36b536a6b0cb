"""Exports torchvision models with random weights, an input and their logits,
as safetensors files, for the Rust parity test (torchvision_parity.rs).

Usage: python torchvision_export.py OUT_DIR
Exit code 3 when torch or torchvision cannot be imported (the test skips).
"""
import json
import struct
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    import torchvision
except Exception as e:  # noqa: BLE001 - any import failure means "cannot run here"
    print(f"cannot import torch/torchvision: {e}", file=sys.stderr)
    sys.exit(3)

DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def save(path, tensors):
    """Writes tensors in the safetensors format (header JSON, then data)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    models = {
        "resnet18": lambda: torchvision.models.resnet18(weights=None, num_classes=10),
        "resnet50": lambda: torchvision.models.resnet50(weights=None, num_classes=10),
        "googlenet": lambda: torchvision.models.googlenet(weights=None, num_classes=10, aux_logits=True, init_weights=True),
    }
    for name, make in models.items():
        torch.manual_seed(0)
        model = make()
        # Random running statistics, so that batch norm's mapping is tested too.
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        model.eval()
        x = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            logits = model(x)
        save(out / f"{name}.safetensors", model.state_dict())
        save(out / f"{name}.io.safetensors", {"input": x, "logits": logits})
        print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, torchvision {torchvision.__version__}")


if __name__ == "__main__":
    main(sys.argv[1])
