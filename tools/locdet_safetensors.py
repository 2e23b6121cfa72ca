"""Our safetensors files from Python with numpy only (no torch, no `safetensors` package): the
format is an 8-byte little-endian header length, a JSON header and raw little-endian data.
Used by tools/torch_twin.py, tools/export_onnx.py and tools/check_onnx.py.

read_checkpoint() adds what engine/checkpoint.cpp and models/*_task.cpp check before they
trust a file: locdet's metadata (locdet.task, locdet.run), with errors that say what to do.
"""
import json
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8}


class CheckpointError(Exception):
    """A file that is not what the caller needs; the message says what to pass instead."""


def read_safetensors(path):
    """Returns (tensors: name -> np.ndarray, metadata: dict, header: dict)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CheckpointError("cannot read '%s': %s" % (path, e.strerror or e)) from None
    try:
        (n,) = struct.unpack("<Q", data[:8])
        if n > len(data) - 8:
            raise ValueError("header length %d exceeds the file's %d bytes" % (n, len(data)))
        header = json.loads(data[8:8 + n])
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
        base = 8 + n
        tensors = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] not in _DTYPES:
                raise ValueError("tensor '%s' has dtype %s" % (name, info["dtype"]))
            begin, end = info["data_offsets"]
            if not 0 <= begin <= end <= len(data) - base:
                raise ValueError("tensor '%s' lies outside the file" % name)
            arr = np.frombuffer(data[base + begin:base + end], dtype=_DTYPES[info["dtype"]])
            tensors[name] = arr.reshape(info["shape"]).copy()
    except (struct.error, ValueError, KeyError, TypeError) as e:
        raise CheckpointError("'%s' is not a readable safetensors file (%s)" % (path, e)) from None
    return tensors, header.get("__metadata__", {}) or {}, header


def write_safetensors(path, tensors, metadata):
    """tensors: name -> np.ndarray (float32/int32/...), written in sorted name order."""
    inv = {v: k for k, v in _DTYPES.items()}
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        raw = arr.tobytes()
        header[name] = {"dtype": inv[arr.dtype.type], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_checkpoint(path):
    """A checkpoint written by train_gpu -> (tensors, task "localize"|"detect", run dict)."""
    tensors, meta, _ = read_safetensors(path)
    if "locdet.task" not in meta or "locdet.run" not in meta:
        raise CheckpointError("'%s' is a safetensors file without locdet's run metadata; pass a checkpoint "
                              "written by train_gpu" % path)
    task = meta["locdet.task"]
    if task not in ("localize", "detect"):
        raise CheckpointError("'%s' is a checkpoint of a '%s' model; only localizers (localize) and "
                              "detectors (detect) are known" % (path, task))
    try:
        run = json.loads(meta["locdet.run"])
        run["model"]["model"]
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError("'%s' has unreadable run metadata (%s)" % (path, e)) from None
    return tensors, task, run
