#!/usr/bin/env python3
"""Digits that are not MNIST: the ten digits of every font installed from Debian packages,
written as an MNIST-format folder, for the out-of-distribution check (tools/robustness.sh).

  .venv/bin/python tools/font_digits.py --out data/font-digits

Each font whose character map has '0'..'9' is rendered large, each digit cropped to its ink,
scaled so that its longer side is 20 px and centred by its centre of mass in 28x28, as MNIST
prepared its digits. Fonts whose ten digits render the same as another font's are dropped
(Debian ships one design under several names), and so are fonts whose "digits" are pictures
(Dingbats and symbol fonts). The test split (t10k-*) holds these digits, cycling through the
fonts, with MNIST's own per-digit counts, so that every program reading an MNIST folder
(evaluate --mnist) renders its usual scenes from them: the same positions, sizes, rotations
and noise as the MNIST test scenes, only the digits differ. The train files are links to the
real MNIST's (nothing trains on this folder; the loader wants all four files).

Also written: fonts.txt (the fonts used, one per line) and fonts.png (every font's ten digits
as the programs see them, one row per font): look at it.

Fonts: tools/bootstrap.sh installs the Debian font packages (fonts-dejavu-core,
fonts-liberation2, fonts-freefont-ttf, fonts-urw-base35, fonts-texgyre, fonts-noto-core,
fonts-crosextra-caladea, fonts-crosextra-carlito). Never trained on: train_gpu reads only
MNIST's train files.
"""
import argparse
import glob
import io
import os
import struct
import sys

import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atomic_file import write_atomically  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FONT_GLOBS = ["/usr/share/fonts/**/*.ttf", "/usr/share/fonts/**/*.otf", "/usr/share/texmf/fonts/**/*.otf"]
# MNIST's test split: images per digit (models/digits/mnist.cpp checks them).
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
# Families whose code points '0'..'9' draw pictures or symbols, not digits.
NOT_DIGITS = ("dingbat", "d050000l", "symbol", "emoji", "music", "math")
# Two fonts are one design when their ten digits differ by less than this (mean absolute
# difference, 0..255): e.g. the Latin digits that Noto's fonts for other scripts share.
SAME_DESIGN = 8.0


def family_name(font):
    for record in font["name"].names:
        if record.nameID == 4:  # full name
            try:
                return record.toUnicode()
            except UnicodeDecodeError:
                continue
    return "?"


def has_digits(path):
    try:
        font = TTFont(path, fontNumber=0, lazy=True)
        cmap = font.getBestCmap() or {}
        name = family_name(font)
    except Exception:  # not a font fontTools reads: skip it
        return None
    if not all(ord(c) in cmap for c in "0123456789"):
        return None
    if any(word in name.lower() for word in NOT_DIGITS):
        return None
    return name


def mnist_normalize(glyph):
    """A glyph's ink (uint8, white on black) -> 28x28 the MNIST way: longer side 20 px,
    centre of mass at the centre."""
    ys, xs = np.nonzero(glyph > 0)
    if len(ys) == 0:
        return None
    ink = Image.fromarray(glyph[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
    scale = 20.0 / max(ink.size)
    size = (max(1, round(ink.size[0] * scale)), max(1, round(ink.size[1] * scale)))
    small = np.asarray(ink.resize(size, Image.LANCZOS), dtype=np.float64)
    total = small.sum()
    if total <= 0:
        return None
    cy = (small.sum(1) * np.arange(small.shape[0])).sum() / total
    cx = (small.sum(0) * np.arange(small.shape[1])).sum() / total
    top, left = int(round(14 - cy)), int(round(14 - cx))
    top = min(max(top, 0), 28 - small.shape[0])
    left = min(max(left, 0), 28 - small.shape[1])
    out = np.zeros((28, 28), np.float64)
    out[top:top + small.shape[0], left:left + small.shape[1]] = small
    return np.clip(out, 0, 255).astype(np.uint8)


def render_digits(path):
    try:
        font = ImageFont.truetype(path, 96)
    except OSError:
        return None
    digits = []
    for c in "0123456789":
        canvas = Image.new("L", (192, 192), 0)
        ImageDraw.Draw(canvas).text((40, 20), c, fill=255, font=font)
        digit = mnist_normalize(np.asarray(canvas))
        if digit is None:
            return None
        digits.append(digit)
    return digits


def idx_bytes(array, magic):
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def preview(fonts, path):
    rows = []
    for digits in fonts:
        rows.append(np.concatenate(digits, axis=1))
    sheet = np.concatenate(rows, axis=0)
    columns = 4  # fonts side by side, so that the sheet is not one long strip
    per = (len(rows) + columns - 1) // columns
    sheet = np.pad(sheet, ((0, per * columns * 28 - sheet.shape[0]), (0, 0)))
    blocks = [sheet[i * per * 28:(i + 1) * per * 28] for i in range(columns)]
    sheet = np.concatenate([np.pad(b, ((0, 0), (0, 8)), constant_values=64) for b in blocks], axis=1)
    png = io.BytesIO()
    Image.fromarray(sheet).save(png, format="PNG")
    write_atomically(path, png.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder to write (created; its files are replaced)")
    parser.add_argument("--mnist", default=os.environ.get("LOCDET_MNIST_DIR", os.path.join(ROOT, "data/mnist")),
                        help="the real MNIST folder whose train files the links point at")
    parser.add_argument("--seed", type=int, default=0, help="order in which the fonts are cycled")
    args = parser.parse_args()

    train = [os.path.join(os.path.abspath(args.mnist), f) for f in
             ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")]
    for f in train:
        if not os.path.exists(f):
            sys.exit(f"font_digits.py: {f} not found: run tools/bootstrap.sh first (or pass --mnist DIR)")

    out_real = os.path.realpath(args.out)
    if out_real == os.path.realpath(args.mnist):
        sys.exit(f"font_digits.py: --out {args.out} is the MNIST folder itself; choose another folder")
    for f in train:
        link = os.path.join(args.out, os.path.basename(f))
        if os.path.lexists(link) and not os.path.islink(link):
            sys.exit(f"font_digits.py: {link} is a real file, not one of this tool's links: --out holds other "
                     "data; choose another folder")

    paths = sorted({p for g in FONT_GLOBS for p in glob.glob(g, recursive=True)})
    fonts, names = [], []
    for path in paths:
        name = has_digits(path)
        if name is None:
            continue
        digits = render_digits(path)
        if digits is None:
            continue
        stack = np.stack(digits).astype(np.float32)
        if any(np.abs(stack - np.stack(other)).mean() < SAME_DESIGN for other in fonts):
            continue
        fonts.append(digits)
        names.append(f"{name}\t{path}")
    if len(fonts) < 10:
        sys.exit(f"font_digits.py: only {len(fonts)} usable fonts found under {', '.join(FONT_GLOBS)}: "
                 "run tools/bootstrap.sh (it installs the font packages)")

    rng = np.random.default_rng(args.seed)
    images, labels = [], []
    for digit, count in enumerate(TEST_COUNTS):
        order = rng.permutation(len(fonts))
        for i in range(count):
            images.append(fonts[order[i % len(fonts)]][digit])
            labels.append(digit)
    shuffle = rng.permutation(len(labels))
    images = np.stack(images)[shuffle]
    labels = np.array(labels, np.uint8)[shuffle]

    os.makedirs(args.out, exist_ok=True)
    write_atomically(os.path.join(args.out, "t10k-images-idx3-ubyte"), idx_bytes(images, 0x803))
    write_atomically(os.path.join(args.out, "t10k-labels-idx1-ubyte"), idx_bytes(labels, 0x801))
    for f in train:
        link = os.path.join(args.out, os.path.basename(f))
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(f, link)
    write_atomically(os.path.join(args.out, "fonts.txt"), ("\n".join(names) + "\n").encode())
    preview(fonts, os.path.join(args.out, "fonts.png"))
    print(f"font_digits.py: {len(fonts)} fonts ({len(paths)} font files looked at) -> {args.out}: "
          f"10,000 test digits, fonts.txt, fonts.png")


if __name__ == "__main__":
    main()
