#!/usr/bin/env python3
"""Reads a run folder's TensorBoard events with TensorBoard's own EventAccumulator (which
checks every record's CRC) and compares them with the run's metrics.jsonl:

  read_tensorboard.py RUN                 every numeric field of every record in
                                          metrics.jsonl is the scalar KIND/FIELD at its step
                                          (as float32), one image val/overlay per epoch whose
                                          PNG size matches; prints the tags
  read_tensorboard.py RUN --same-as OTHER  RUN was interrupted and resumed: TensorBoard must
                                          show OTHER's curves (an uninterrupted run of the
                                          same config): the same steps, each once, with the
                                          same loss and validation values
Exits 1 with the reason on a mismatch.
"""
import argparse
import glob
import json
import os
import struct
import sys

import numpy as np
from tensorboard.backend.event_processing import event_accumulator as ea

# Fields that depend on the machine's speed, not on the run's numbers.
TIMING = ("images_per_second", "elapsed_s", "seconds")


def load(run):
    acc = ea.EventAccumulator(run, size_guidance={ea.SCALARS: 0, ea.IMAGES: 0})
    acc.Reload()
    return acc


def records(run):
    """metrics.jsonl records (a killed run may have left a torn line: skipped, as a reader would)."""
    out = []
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check_against_metrics(run, acc):
    tags = acc.Tags()
    scalars = {t: {e.step: e.value for e in acc.Scalars(t)} for t in tags["scalars"]}
    expected = 0
    for r in records(run):
        for key, value in r.items():
            if key == "step" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            tag = "%s/%s" % (r["kind"], key)
            got = scalars.get(tag, {}).get(r["step"])
            if got is None:
                fail("%s at step %d is missing (tags: %s)" % (tag, r["step"], sorted(scalars)))
            if got != float(np.float32(value)):
                fail("%s at step %d is %r, metrics.jsonl says %r" % (tag, r["step"], got, value))
            expected += 1
    epochs = max(r["epoch"] for r in records(run) if r["kind"] == "val")
    images = acc.Images("val/overlay")
    if len(images) != epochs:
        fail("%d val/overlay images for %d epochs" % (len(images), epochs))
    png = open(os.path.join(run, "overlays", "val.png"), "rb").read()
    width, height = struct.unpack(">II", png[16:24])
    last = images[-1]
    if last.encoded_image_string != png or (last.width, last.height) != (width, height):
        fail("the last val/overlay image is not overlays/val.png (%dx%d)" % (width, height))
    val_steps = [r["step"] for r in records(run) if r["kind"] == "val"]
    if [i.step for i in images] != val_steps:
        fail("val/overlay steps %s, validation steps %s" % ([i.step for i in images], val_steps))
    print("%s: %d scalar tags, %d values = metrics.jsonl, %d images %dx%d at steps %s" %
          (run, len(scalars), expected, len(images), width, height, val_steps))
    print("  tags: " + " ".join(sorted(scalars)))


def check_same_curves(run, acc, other):
    files = glob.glob(os.path.join(run, "events.out.tfevents.*"))
    steps = [r["step"] for r in records(run) if r["kind"] == "train"]
    if len(steps) == len(set(steps)):
        fail("metrics.jsonl of %s repeats no step: the run was not resumed after a crash" % run)
    ref = load(other)
    compared = 0
    for tag in ref.Tags()["scalars"]:
        if tag.split("/")[1] in TIMING:
            continue
        want = [(e.step, e.value) for e in ref.Scalars(tag)]
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        if got != want:
            diff = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
            fail("%s: %d points, uninterrupted %d; first difference at index %d: %s vs %s" %
                 (tag, len(got), len(want), diff, got[diff:diff + 2], want[diff:diff + 2]))
        compared += len(got)
    print("%s: %d event files, %d steps logged twice in metrics.jsonl; TensorBoard shows the uninterrupted "
          "run's curves (%d values compared)" % (run, len(files), len(steps) - len(set(steps)), compared))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--same-as")
    args = ap.parse_args()
    acc = load(args.run)
    if args.same_as:
        check_same_curves(args.run, acc, args.same_as)
    else:
        check_against_metrics(args.run, acc)


if __name__ == "__main__":
    main()
