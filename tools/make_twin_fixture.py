#!/usr/bin/env python3
"""The localizer twin fixture: PyTorch reproduces OUR checkpoint's outputs and gradients.

Takes a small checkpoint written by train_gpu (nothing is trained here), e.g.
  build/bin/train_gpu --device cpu --epochs 1 --steps-per-epoch 5 --width 4 \
      --val-count 100 --test-count 100 --out /tmp/tw
  tools/torch_env.sh python tools/make_twin_fixture.py --checkpoint /tmp/tw/checkpoint.safetensors
and writes
  tests/golden/localizer_twin.safetensors  the checkpoint without optimizer state (weights,
                                           BN running statistics, run metadata)
  tests/golden/localizer_twin.json         4 fixed images (uint8, image = value / 255), their
                                           labels, and from tools/torch_twin.py in float64:
                                           - eval-mode outputs (presence logit, location
                                             logits, class logits, boxes) per image;
                                           - train-mode loss parts and the gradient of the
                                             loss w.r.t. every parameter (batch statistics).
tests/test_twin_localizer.cpp reads them through our graph, executor and LocalizerPredictor.
Rerunning it with --checkpoint tests/golden/localizer_twin.safetensors reproduces both files
byte for byte (checked with torch 2.15.0).
"""
import argparse
import json
import os

import numpy as np
import torch

import torch_twin as tt


def fixed_batch(height, width):
    """4 images: three with a bright digit-like ring inside a known box, one empty; uint8."""
    rng = np.random.default_rng(2026)
    images = rng.integers(0, 40, size=(4, height, width)).astype(np.uint8)
    labels = np.zeros((4, 6), np.float32)
    yy, xx = np.mgrid[0:height, 0:width]
    # (x1, y1, x2, y2) in pixels, class
    boxes = [((8, 6, 22, 30), 3), ((30, 14, 46, 40), 7), ((40, 2, 54, 22), 0)]
    for i, ((x1, y1, x2, y2), cls) in enumerate(boxes):
        cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
        r = ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2
        ring = (r <= 1.0) & (r >= 0.45)
        images[i][ring] = 230 + (i * 7) % 25
        labels[i] = [1, cx / width, cy / height, (x2 - x1) / width, (y2 - y1) / height, cls]
    return images, labels  # image 3 has no digit


def flat(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="a localizer checkpoint from train_gpu (small width)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "golden"))
    args = ap.parse_args()
    torch.set_num_threads(1)

    tensors, meta, _ = tt.read_safetensors(args.checkpoint)
    weights = {k: v for k, v in tensors.items() if not k.startswith("optim.")}
    ckpt_out = os.path.join(args.out, "localizer_twin.safetensors")
    tt.write_safetensors(ckpt_out, weights, meta)
    size = os.path.getsize(ckpt_out)
    if size > 100 * 1024:
        raise SystemExit("%s is %d bytes; use a smaller --width checkpoint (< 100 KB)" % (ckpt_out, size))

    model, run = tt.load_localizer(ckpt_out)
    model = model.double()
    images_u8, labels = fixed_batch(model.height, model.image_width)
    x = torch.from_numpy((images_u8.astype(np.float32) / np.float32(255))[:, None]).double()

    with torch.no_grad():
        presence, location, classes, boxes = model.eval()(x)

    model.train()
    targets = tt.localizer_targets(labels, model.grid_h, model.grid_w, run["model"]["positive_radius"])
    for k in ("presence", "image_weight", "cell_weight", "target_box"):
        targets[k] = targets[k].double()
    loss, parts = tt.localizer_loss(model, x, targets)
    model.zero_grad()
    loss.backward()
    grads = {name: flat(p.grad) for name, p in model.named_parameters()}

    fixture = {
        "about": "tools/make_twin_fixture.py: PyTorch twin (float64) of the localizer in "
                 "localizer_twin.safetensors; images = images_u8 / 255 (float32)",
        "torch": torch.__version__,
        "model": run["model"],
        "batch": int(x.shape[0]),
        "images_u8": images_u8.reshape(4, -1).tolist(),
        "labels": labels.tolist(),
        "eval": {"presence_logit": flat(presence), "location_logits": flat(location),
                 "class_logits": flat(classes), "boxes": flat(boxes)},
        "train": {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in parts.items()}, "gradients": grads},
    }
    with open(os.path.join(args.out, "localizer_twin.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print("wrote %s (%d bytes) and localizer_twin.json; loss %.6f" % (ckpt_out, size, float(loss.detach())))


if __name__ == "__main__":
    main()
