#!/usr/bin/env python3
"""Where a localizer's misread digits go, from `evaluate --dump`.

    build/bin/evaluate --checkpoint runs/loc/checkpoint.safetensors --split val --dump val.safetensors
    .venv/bin/python tools/class_errors.py val.safetensors

Reproduces evaluate's accuracy (over the images with a digit: right presence and right class) and
presence accuracy, then splits the errors by the digit's true class and what it was read as, by
its size (the longer side of its box), by the background's noise strength (twice the mean of the
pixels outside the box: the renderers draw noise * U with U uniform in [0, 1]), by whether the
chosen cell is the one the box's centre lies in, and by how sure the model was. A bin whose error
rate is far above the overall one is where the missing accuracy is; one that holds few images
cannot hold much of it, however bad it is.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from box_errors import load_dump  # noqa: E402


def softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def table(title, bins, names, wrong, total_wrong):
    """One line per bin: images, errors, error rate, share of all errors."""
    print("\n%s" % title)
    print("  %-14s %7s %7s %8s %9s" % ("", "images", "errors", "rate", "of errors"))
    for name, members in zip(names, bins):
        n, e = int(members.sum()), int((wrong & members).sum())
        rate = 100.0 * e / n if n else 0.0
        print("  %-14s %7d %7d %7.2f%% %8.1f%%" % (name, n, e, rate, 100.0 * e / max(total_wrong, 1)))


def quantile_bins(values, count):
    """Up to `count` bins of about equal size (fewer where values repeat)."""
    edges = np.unique(np.quantile(values, np.linspace(0, 1, count + 1)))
    if len(edges) == 1:
        return [np.ones_like(values, dtype=bool)], ["all %.2f" % edges[0]]
    inner = edges[1:-1]
    index = np.searchsorted(inner, values, side="right")
    return ([index == k for k in range(len(edges) - 1)],
            ["%.2f-%.2f" % (lo, hi) for lo, hi in zip(edges[:-1], edges[1:])])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dump", help="a localizer's `evaluate --dump` file")
    parser.add_argument("--bins", type=int, default=5, help="quantile bins for size and noise (default 5)")
    args = parser.parse_args()
    if args.bins < 1:
        parser.error("--bins must be >= 1, got %d" % args.bins)
    dump = load_dump(args.dump, "class_errors.py")
    if "class_logits" not in dump:
        raise SystemExit("class_errors.py: %s has no class_logits: write it again with this version's "
                         "'evaluate --dump'" % args.dump)

    images = dump["image"].astype(np.float64)[:, 0]
    n, height, width = images.shape
    label = dump["label"].astype(np.float64)
    rows = np.arange(n)
    cells = dump["location_logits"].shape[1]
    cell = np.argmax(dump["location_logits"], axis=1)
    logits = dump["class_logits"].reshape(n, cells, -1)[rows, cell]
    probs = softmax(logits.astype(np.float64))
    read = np.argmax(logits, axis=1)
    present = dump["presence_logit"][:, 0] > 0
    has = label[:, 0] > 0.5
    truth = np.where(has, label[:, 5], -1).astype(int)
    classes = logits.shape[1]

    wrong = has & ~(present & (read == truth))
    digits = int(has.sum())
    print("%d images, %d with a digit: accuracy %.2f%% (%d misread, %d of them said 'no digit'); presence "
          "accuracy %.2f%% (%d blank images called a digit)" %
          (n, digits, 100.0 * (1 - wrong.sum() / max(digits, 1)), wrong.sum(), (has & ~present).sum(),
           100.0 * np.mean(present == has), (~has & present).sum()))
    if not has.any():
        raise SystemExit("class_errors.py: no image of %s holds a digit" % args.dump)
    total = int(wrong.sum())

    # Restrict everything below to images with a digit.
    images, label, truth, read, probs, cell, present, wrong = (
        a[has] for a in (images, label, truth, read, probs, cell, present, wrong))
    box = np.stack([(label[:, 1] - label[:, 3] / 2) * width, (label[:, 2] - label[:, 4] / 2) * height,
                    (label[:, 1] + label[:, 3] / 2) * width, (label[:, 2] + label[:, 4] / 2) * height], axis=1)

    table("by true class", [truth == c for c in range(classes)], [str(c) for c in range(classes)], wrong, total)
    pairs = {}
    for t, r, p in zip(truth[wrong], read[wrong], present[wrong]):
        key = "%d as %s" % (t, r if p else "no digit")
        pairs[key] = pairs.get(key, 0) + 1
    top = sorted(pairs.items(), key=lambda kv: -kv[1])[:10]
    print("\nmost common misreadings: " + ", ".join("%s (%d)" % kv for kv in top))

    size = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
    bins, names = quantile_bins(size, args.bins)
    table("by digit size (the box's longer side, pixels)", bins, names, wrong, total)

    outside = np.ones_like(images, dtype=bool)
    for k, (x1, y1, x2, y2) in enumerate(np.round(box).astype(int)):
        outside[k, max(y1 - 2, 0):y2 + 2, max(x1 - 2, 0):x2 + 2] = False
    noise = 2 * np.array([img[o].mean() if o.any() else 0.0 for img, o in zip(images, outside)])
    bins, names = quantile_bins(noise, args.bins)
    table("by background noise strength (2 x mean outside the box)", bins, names, wrong, total)

    stride = next((s for s in (1, 2, 4, 8, 16, 32) if -(-height // s) * -(-width // s) == cells), None)
    if stride is not None:
        gw = -(-width // stride)
        centre_cell = (np.minimum(((box[:, 1] + box[:, 3]) / 2 // stride).astype(int), -(-height // stride) - 1) * gw
                       + np.minimum(((box[:, 0] + box[:, 2]) / 2 // stride).astype(int), gw - 1))
        own = cell == centre_cell
        table("by the chosen cell (stride %d)" % stride, [own, ~own], ["box centre's", "another"], wrong, total)

    sure = probs.max(axis=1)
    edges = [0.0, 0.5, 0.9, 0.99, 1.01]
    table("by the model's confidence in what it read", [(sure >= lo) & (sure < hi) for lo, hi in zip(edges[:-1], edges[1:])],
          ["<0.5", "0.5-0.9", "0.9-0.99", ">=0.99"], wrong, total)
    second = np.argsort(probs, axis=1)[:, -2]
    misread = wrong & present
    print("\nof the %d read as another digit, the true one was the second choice for %d" %
          (misread.sum(), (second[misread] == truth[misread]).sum()))


if __name__ == "__main__":
    sys.exit(main())
