#!/usr/bin/env python3
"""Where a localizer's mean IoU goes: its box errors in pixels, from `evaluate --dump`.

    build/bin/evaluate --checkpoint runs/ayu/checkpoint.safetensors --split val --dump val.safetensors
    .venv/bin/python tools/box_errors.py val.safetensors

Prints the mean IoU the dump's outputs give (the figure `evaluate` reported), the error of the
box centre and of its size, and the IoU with the true size kept (what the centre alone costs).

On patch-box scenes (every box the 28x28 MNIST patch, nothing drawn outside it: ayulockin-loc)
it also scores two boxes placed from the ink's centre of mass. MNIST centred each digit by
translating it a whole number of pixels, so the centre of mass lies up to one pixel right of and
below the patch centre: a box at the centre of mass minus 14.5 pixels, not knowing that rounding,
is off by up to half a pixel on each axis; the same centre of mass rounded down to whole pixels
gives the patch exactly. The first is what a regression smooth in the digit's position reaches,
the second shows the rounding is all that separates it from an exact box.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from locdet_boxes import box_iou as iou  # noqa: E402
from locdet_safetensors import CheckpointError, read_safetensors  # noqa: E402

PATCH = 28.0


def load_dump(path, tool="box_errors.py"):
    """A localizer's dump, or exit with what to pass instead (messages name `tool`)."""
    try:
        dump = read_safetensors(path)[0]
    except CheckpointError as e:
        raise SystemExit("%s: %s: pass a file written by 'evaluate --checkpoint CKPT --dump FILE'" % (tool, e))
    missing = [k for k in ("image", "label", "presence_logit", "location_logits", "boxes") if k not in dump]
    if missing:
        raise SystemExit("%s: %s is not a localizer's dump (no %s): detectors are scored with "
                         "the AP report of 'evaluate'" % (tool, path, ", ".join(missing)))
    return dump


def centred(centre, size):
    return np.concatenate([centre - size / 2, centre + size / 2], axis=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dump", help="a localizer's `evaluate --dump` file")
    args = parser.parse_args()
    dump = load_dump(args.dump)

    images = dump["image"].astype(np.float64)[:, 0]
    n, height, width = images.shape
    scale = np.array([width, height, width, height], np.float64)
    rows = np.arange(n)
    cell = np.argmax(dump["location_logits"], axis=1)
    box = dump["boxes"][rows, cell].astype(np.float64) * scale
    label = dump["label"].astype(np.float64)
    present = dump["presence_logit"][:, 0] > 0
    has = label[:, 0] > 0.5
    truth = np.stack([(label[:, 1] - label[:, 3] / 2) * width, (label[:, 2] - label[:, 4] / 2) * height,
                      (label[:, 1] + label[:, 3] / 2) * width, (label[:, 2] + label[:, 4] / 2) * height], axis=1)
    if not has.any():
        raise SystemExit("box_errors.py: no image of %s holds a digit" % args.dump)

    # evaluate's mean IoU: over the images with a digit, 0 where the model says "no digit".
    scored = np.where(present[has], iou(box[has], truth[has]), 0.0)
    print("%d images, %d with a digit; the model's mean IoU %.4f (%d said 'no digit')" %
          (n, has.sum(), scored.mean(), (~present[has]).sum()))
    keep = has & present
    box, truth, images = box[keep], truth[keep], images[keep]
    centre = lambda b: np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)
    size = lambda b: np.stack([b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)
    error = centre(box) - centre(truth)
    print("centre error (pixels): x mean %+.3f, mean |.| %.3f; y mean %+.3f, mean |.| %.3f" %
          (error[:, 0].mean(), np.abs(error[:, 0]).mean(), error[:, 1].mean(), np.abs(error[:, 1]).mean()))
    print("size (pixels): width %.2f +- %.2f (truth %.2f), height %.2f +- %.2f (truth %.2f)" %
          (size(box)[:, 0].mean(), size(box)[:, 0].std(), size(truth)[:, 0].mean(),
           size(box)[:, 1].mean(), size(box)[:, 1].std(), size(truth)[:, 1].mean()))
    print("the model's centres with the true sizes: mean IoU %.4f" % iou(centred(centre(box), size(truth)), truth).mean())

    grid = np.round(truth)  # the preset's boxes are whole pixels; the labels hold them as fractions
    if not (np.allclose(truth, grid, atol=1e-3) and np.all(size(grid) == PATCH)):
        return  # not patch boxes: no centre-of-mass reference
    outside = np.ones_like(images, dtype=bool)
    for k, (x1, y1, x2, y2) in enumerate(grid.astype(int)):
        outside[k, y1:y2, x1:x2] = False
    if np.any(images[outside] != 0):
        return  # a background: the centre of mass would not be the ink's
    truth = grid
    ink = images.sum(axis=(1, 2))
    xs, ys = np.arange(width) + 0.5, np.arange(height) + 0.5
    mass = np.stack([(images.sum(axis=1) * xs).sum(axis=1) / ink, (images.sum(axis=2) * ys).sum(axis=1) / ink], axis=1)
    offset = mass - PATCH / 2 - truth[:, :2]  # the centre of mass's place in its patch, minus 14
    print("patch boxes: the ink's centre of mass lies %.2f..%.2f px (x) and %.2f..%.2f px (y) right of / below "
          "the patch centre" % (offset[:, 0].min(), offset[:, 0].max(), offset[:, 1].min(), offset[:, 1].max()))
    smooth = centred(mass - 0.5, np.full_like(mass, PATCH))
    floor = centred(np.floor(mass - PATCH / 2) + PATCH / 2, np.full_like(mass, PATCH))
    print("box at the centre of mass - 0.5 px (MNIST's rounding unknown): mean IoU %.4f" % iou(smooth, truth).mean())
    print("box at the centre of mass rounded down to whole pixels: mean IoU %.4f, %.1f%% exact" %
          (iou(floor, truth).mean(), 100 * np.mean(np.all(floor == truth, axis=1))))
    frac = offset - 0.5  # the error of the smooth box
    for axis, name in ((0, "x"), (1, "y")):
        r = np.corrcoef(error[:, axis], frac[:, axis])[0, 1]
        print("%s: the model's centre error correlates %+.2f with the smooth box's; what is left after it: %.3f px rms" %
              (name, r, np.sqrt(np.mean((error[:, axis] - frac[:, axis]) ** 2))))


if __name__ == "__main__":
    sys.exit(main())
