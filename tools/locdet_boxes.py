"""Box math of kernels/common/box.h for the tools, in float64 numpy (tools/box_errors.py,
tools/check_onnx.py)."""
import numpy as np


def box_iou(p, t):
    """box_iou of xyxy boxes, arrays [..., 4] (broadcast): 0 unless both overlaps are > 0."""
    p, t = np.asarray(p, np.float64), np.asarray(t, np.float64)
    iw = np.minimum(p[..., 2], t[..., 2]) - np.maximum(p[..., 0], t[..., 0])
    ih = np.minimum(p[..., 3], t[..., 3]) - np.maximum(p[..., 1], t[..., 1])
    overlap = (iw > 0) & (ih > 0)
    inter = np.where(overlap, iw * ih, 0.0)
    union = ((p[..., 2] - p[..., 0]) * (p[..., 3] - p[..., 1]) + (t[..., 2] - t[..., 0]) * (t[..., 3] - t[..., 1])
             - inter)
    return np.divide(inter, union, out=np.zeros_like(inter), where=overlap)
