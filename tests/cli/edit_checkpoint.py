#!/usr/bin/env python3
"""Rewrites a safetensors checkpoint's metadata (standard library only), for the CLI tests:
  edit_checkpoint.py IN OUT task=NAME        sets locdet.task
  edit_checkpoint.py IN OUT width=N          sets the model width in locdet.run
  edit_checkpoint.py IN OUT run.A.B=JSON     sets any field of locdet.run (e.g. run.model.nms.max_det=20)
  edit_checkpoint.py IN OUT tensor.NAME=JSON sets an F32 tensor: a number fills it, a list gives every value
  edit_checkpoint.py IN OUT garble           overwrites header bytes with junk
  edit_checkpoint.py IN OUT fill=TENSOR:V    sets every element of an F32 tensor to V
"""
import json
import struct
import sys

src, dst, edit = sys.argv[1:4]
data = open(src, "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8 : 8 + n])
body = data[8 + n :]
if edit == "garble":
    out = bytearray(data)
    out[8 + n // 3 : 8 + n // 3 + 16] = b"\x00{]\xff garbled \x01\x02"
    open(dst, "wb").write(bytes(out))
    sys.exit(0)
key, value = edit.split("=", 1)
if key == "fill":
    name, number = value.rsplit(":", 1)
    info = header[name]
    assert info["dtype"] == "F32", info
    begin, end = info["data_offsets"]
    body = body[:begin] + struct.pack("<f", float(number)) * ((end - begin) // 4) + body[end:]
    open(dst, "wb").write(data[: 8 + n] + body)
    sys.exit(0)
meta = header.setdefault("__metadata__", {})
if key == "task":
    meta["locdet.task"] = value
elif key.startswith("run."):
    run = json.loads(meta["locdet.run"])
    *path, last = key.split(".")[1:]
    node = run
    for part in path:
        node = node[part]
    node[last] = json.loads(value)
    meta["locdet.run"] = json.dumps(run)
elif key.startswith("tensor."):
    name = key[len("tensor."):]
    info = header[name]
    begin, end = info["data_offsets"]
    count = (end - begin) // 4
    values = json.loads(value)
    values = values if isinstance(values, list) else [values] * count
    if info["dtype"] != "F32" or len(values) != count:
        sys.exit("tensor %s is %s with %d values" % (name, info["dtype"], count))
    body = body[:begin] + struct.pack("<%df" % count, *values) + body[end:]
elif key == "width":
    run = json.loads(meta["locdet.run"])
    run["model"]["width"] = int(value)
    meta["locdet.run"] = json.dumps(run)
else:
    sys.exit("unknown edit " + edit)
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + body)
