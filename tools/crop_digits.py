#!/usr/bin/env python3
"""Every digit of a CSV dataset cut out of its scene: a classification set where each image is
one digit, framed by its true box. Trained on with `train_gpu --data`, it answers "how well does
a network read these digits when it is handed the right box?" (the README's oracle probe for the
localizer's accuracy).

  build/bin/make_dataset --preset inf265-loc --split train --count 60000 --format png,csv --out scenes/train
  (the same for val and test)
  .venv/bin/python tools/crop_digits.py scenes crops
  build/bin/train_gpu --task localize --data crops --input 28x28 --width 32 --epochs 15 --out runs/crops

DATASET is a folder with annotations.csv (`file, x1, y1, x2, y2, class` in pixels, the CSV that
`make_dataset --format csv` writes) or one with train/, val/ and test/ such folders. For each box:
the square around its centre whose side is the box's longer side times --margin plus --pad
pixels, resampled bilinearly to --size x --size (black outside the scene). OUT gets the same
layout: images/ and an annotations.csv whose box is the digit's box inside the crop. Scenes
without a digit have nothing to crop and are left out. OUT must not exist: it is written beside
itself under a temporary name and renamed when complete.
"""
import argparse
import csv
import os
import shutil
import sys
import tempfile

from PIL import Image

SPLITS = ("train", "val", "test")
COLUMNS = ["file", "x1", "y1", "x2", "y2", "class"]


def fail(message):
    raise SystemExit("crop_digits.py: " + message)


def read_rows(folder):
    path = os.path.join(folder, "annotations.csv")
    if not os.path.isfile(path):
        fail("%s has no annotations.csv: write the scenes with `make_dataset --format png,csv`" % folder)
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != COLUMNS:
            fail("%s: the header must be %s, got %s" % (path, ",".join(COLUMNS), header))
        rows = []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(COLUMNS):
                fail("%s:%d: expected %d fields, got %d" % (path, line, len(COLUMNS), len(row)))
            if not row[5].strip():
                continue  # a scene without a digit
            try:
                box = [float(v) for v in row[1:5]]
            except ValueError:
                fail("%s:%d: the box must be four numbers, got %s" % (path, line, row[1:5]))
            if not (box[2] > box[0] and box[3] > box[1]):
                fail("%s:%d: empty box %s" % (path, line, box))
            rows.append((row[0], box, row[5].strip()))
    return rows


def crop_split(source, target, size, margin, pad):
    rows = read_rows(source)
    os.makedirs(os.path.join(target, "images"))
    out_rows, seen, scene_file, scene = [], {}, None, None
    for file, (x1, y1, x2, y2), label in rows:
        if file != scene_file:  # a scene's rows are adjacent: each scene is read once
            path = os.path.join(source, file)
            try:
                scene, scene_file = Image.open(path).convert("L"), file
            except OSError as e:
                fail("cannot read %s: %s" % (path, e))
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        side = max(x2 - x1, y2 - y1) * margin + pad
        window = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
        crop = scene.transform((size, size), Image.Transform.EXTENT, window, Image.Resampling.BILINEAR,
                               fillcolor=0)
        stem = os.path.splitext(os.path.basename(file))[0]
        seen[stem] = seen.get(stem, -1) + 1
        name = "images/%s_%d.png" % (stem, seen[stem])
        crop.save(os.path.join(target, name))
        k = size / side
        box = [(x1 - window[0]) * k, (y1 - window[1]) * k, (x2 - window[0]) * k, (y2 - window[1]) * k]
        out_rows.append([name] + ["%.3f" % v for v in box] + [label])
    with open(os.path.join(target, "annotations.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(out_rows)
    return len(out_rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", help="folder with annotations.csv, or with train/ val/ test/ such folders")
    parser.add_argument("out", help="new folder for the crops (must not exist)")
    parser.add_argument("--size", type=int, default=28, help="crop side in pixels (default 28)")
    parser.add_argument("--margin", type=float, default=1.15, help="crop side / the box's longer side (1.15)")
    parser.add_argument("--pad", type=float, default=2.0, help="pixels added to the crop side (2)")
    args = parser.parse_args()
    if args.size < 4 or args.margin < 1.0 or args.pad < 0:
        fail("need --size >= 4, --margin >= 1 and --pad >= 0")
    if os.path.exists(args.out):
        fail("%s exists: name a new folder (nothing was written)" % args.out)
    splits = [s for s in SPLITS if os.path.isdir(os.path.join(args.dataset, s))]
    if not splits and not os.path.isfile(os.path.join(args.dataset, "annotations.csv")):
        fail("%s has neither annotations.csv nor train/ val/ test/ folders" % args.dataset)

    parent = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="." + os.path.basename(os.path.abspath(args.out)) + ".", dir=parent)
    try:
        for split in splits or [""]:
            count = crop_split(os.path.join(args.dataset, split), os.path.join(work, split), args.size,
                               args.margin, args.pad)
            print("%s: %d digits" % (split or args.dataset, count))
        os.rename(work, args.out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    print("wrote %s" % args.out)


if __name__ == "__main__":
    sys.exit(main())
