#!/usr/bin/env python3
"""Compares two safetensors checkpoints (standard library only), for the CLI tests:
  compare_checkpoints.py A B weights TOL   every model weight (not optim.*, not batch-norm running
                                           statistics) of A is within TOL of B's; prints the largest gap
  compare_checkpoints.py A B all 0         A and B hold the same tensors, bit for bit (their
                                           metadata, e.g. the training time, may differ)
  compare_checkpoints.py A - step N        A's optimizer step counter (optim.step) is N
Exits 1 with the reason otherwise.
"""
import json
import struct
import sys

FORMATS = {"F32": "f", "F64": "d", "I64": "q", "I32": "i"}


def load(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        code = FORMATS[info["dtype"]]
        count = (end - begin) // struct.calcsize(code)
        tensors[name] = struct.unpack(f"<{count}{code}", body[begin:end])
    return tensors


a_path, b_path, what, value = sys.argv[1:5]
a = load(a_path)
if what == "step":
    step = a["optim.step"][0]
    if step != int(value):
        sys.exit(f"{a_path}: optim.step is {step}, expected {value}")
    print(f"optim.step {step}")
    sys.exit(0)
b = load(b_path)
if what == "all":
    differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    if differ:
        sys.exit(f"{len(differ)} tensors differ, e.g. {differ[:5]}")
    print(f"{len(a)} tensors, bit for bit the same")
    sys.exit(0)
names = [k for k in a if not k.startswith("optim.") and "running" not in k]
if not names or set(names) - set(b):
    sys.exit(f"weights missing from {b_path}: {sorted(set(names) - set(b))}")
gap = max(abs(x - y) for k in names for x, y in zip(a[k], b[k]))
print(f"{len(names)} weight tensors, largest gap {gap:.3g}")
sys.exit(0 if gap <= float(value) else 1)
