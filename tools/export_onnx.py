#!/usr/bin/env python3
"""Exports a locdet checkpoint (localizer or detector) to ONNX, for onnxruntime and other runtimes.

  .venv/bin/python tools/export_onnx.py runs/loc/checkpoint.safetensors loc.onnx

The graph is built from the checkpoint's own run metadata (locdet.run: backbone kind and
width, input size, anchors, NMS settings) and weights with the `onnx` package: opset 17,
input "image" float32 [batch, 1, H, W] with pixel values in [0, 1] (white digit on a dark
background, as our scenes; letterbox other sizes first, as `predict` does), batch dynamic.
Inference batch norm is folded into the convolutions (W' = W * g / sqrt(var + eps),
b' = beta - mean * g / sqrt(var + eps), computed in float64, stored in float32).

Localizer outputs (models/localizer.h; C classes: the 10 digits, or a dataset's):
  presence_logit [N, 1], location_logits [N, cells], class_logits [N, cells, C],
  boxes [N, cells, 4] normalized xyxy            the raw outputs of our inference graph
  presence [N]         sigmoid(presence_logit): a digit is there when > 0.5
  class_probs [N, C]   softmax of the class logits at the chosen cell (argmax of location)
  digit [N] int64      argmax of class_probs (meaningful when presence > 0.5)
  box [N, 4]           the chosen cell's box, xyxy in input pixels (what `predict` reports
                       for an image of the model's size; predict also clips it to the image)
Detector outputs (models/detector.h):
  boxes [N, A, 4] xyxy input pixels, scores [N, A, C] sigmoid per class   before NMS
  det_boxes [N, max_det, 4], det_scores [N, max_det], det_digits [N, max_det] int64 (-1 in
  unused slots), det_count [N] int64: our batched NMS (kernels/cpu/nms.h) inside the
  graph: the pre_nms_topk best (anchor, class) scores per image (TopK), ONNX
  NonMaxSuppression per class (score > score_threshold, IoU > iou_threshold suppresses,
  at most max_det per class), then per image the max_det best by score; equal scores are
  ordered by anchor and class index, as ours (onnxruntime's NMS and TopK break ties by the
  lower index, like our sort).

OUT is written atomically (a temporary file in the same folder, then renamed): it is either
the old file or the complete new one. OUT may not be the checkpoint itself.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atomic_file import write_atomically  # noqa: E402
from locdet_safetensors import CheckpointError, read_checkpoint  # noqa: E402

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    sys.exit("export_onnx: the `onnx` package is missing; run tools/bootstrap.sh (it installs it into .venv) "
             "and use .venv/bin/python")

OPSET = 17
BN_EPS = 1e-5  # Graph::batchnorm's default (engine/graph.h)
MAX_LOG_SCALE = np.float32(4.135166556742356)  # kernels/common/box.h kMaxLogScale
STRIDE = 4  # every backbone (models/backbone.h)
# The plain backbones (models/backbone.cpp kPlainLayouts): convolutions per stage, and each
# stage's channels in units of the width; a 2x2 max pool between stages.
PLAIN_LAYOUTS = {"small": ((2, 2, 2), (1, 2, 4)), "lean": ((1, 2, 3), (1, 2, 4))}
BACKBONES = tuple(PLAIN_LAYOUTS) + ("resnet18",)
KNOWN_BACKBONES = ", ".join(BACKBONES[:-1]) + " and " + BACKBONES[-1]


class ExportError(Exception):
    pass


class GraphBuilder:
    """Nodes and initializers with unique names; each op returns its output name(s)."""

    def __init__(self, tensors):
        self.tensors = tensors
        self.nodes, self.initializers, self.used = [], [], set()
        self.counter = 0

    def name(self, hint):
        self.counter += 1
        return "%s_%d" % (hint, self.counter)

    def weight(self, key):
        if key not in self.tensors:
            raise ExportError("the checkpoint lacks tensor '%s' (was it written by another version of "
                              "train_gpu?)" % key)
        self.used.add(key)
        # A run trained with --ema keeps the weight average beside each parameter: like train_gpu's
        # evaluate and predict, the export uses the average.
        return self.tensors.get("optim.ema." + key, self.tensors[key])

    def const(self, array, hint="const"):
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, hint=None, outputs=1, out_names=None, **attrs):
        names = out_names or [self.name(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=self.name("n_" + op_type), **attrs))
        return names[0] if len(names) == 1 else names

    def i64(self, values, hint="shape"):
        return self.const(np.array(values, dtype=np.int64), hint)

    def f32(self, values, hint="value"):
        return self.const(np.array(values, dtype=np.float32), hint)


# ---- the networks (models/backbone.cpp, models/localizer.cpp, models/detector.cpp) ----------


def conv(g, x, weight, bias, stride):
    k = weight.shape[2]
    return g.op("Conv", [x, g.const(weight, "w"), g.const(bias, "b")], "conv", kernel_shape=[k, k],
                strides=[stride, stride], pads=[k // 2] * 4)


def conv_bn(g, x, prefix, stride, relu=True):
    """PREFIX.conv.weight + PREFIX.bn.* -> one Conv with the inference batch norm folded in."""
    w = g.weight(prefix + ".conv.weight").astype(np.float64)
    gamma = g.weight(prefix + ".bn.weight").astype(np.float64)
    beta = g.weight(prefix + ".bn.bias").astype(np.float64)
    mean = g.weight(prefix + ".bn.running_mean").astype(np.float64)
    var = g.weight(prefix + ".bn.running_var").astype(np.float64)
    scale = gamma / np.sqrt(var + BN_EPS)
    y = conv(g, x, (w * scale[:, None, None, None]).astype(np.float32), (beta - mean * scale).astype(np.float32),
             stride)
    return g.op("Relu", [y]) if relu else y


def maxpool(g, x):
    return g.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])


def backbone(g, x, kind, width):
    """-> (feature map at stride 4, channels)."""
    if kind in PLAIN_LAYOUTS:
        convs, widths = PLAIN_LAYOUTS[kind]
        index = 0
        for stage in range(3):
            if stage > 0:
                x = maxpool(g, x)
            for _ in range(convs[stage]):
                index += 1
                x = conv_bn(g, x, "backbone.conv%d" % index, 1)
        return x, widths[2] * width
    if kind == "resnet18":
        x = conv_bn(g, x, "backbone.stem", 1)
        channels, strides, cin = [width, 2 * width, 4 * width, 8 * width], [1, 2, 2, 1], width
        for stage in range(4):
            for block in range(2):
                prefix = "backbone.layer%d.%d" % (stage + 1, block)
                stride = strides[stage] if block == 0 else 1
                y = conv_bn(g, conv_bn(g, x, prefix + ".a", stride), prefix + ".b", 1, relu=False)
                shortcut = x
                if stride != 1 or cin != channels[stage]:
                    shortcut = conv_bn(g, x, prefix + ".down", stride, relu=False)
                x = g.op("Relu", [g.op("Add", [y, shortcut])])
                cin = channels[stage]
        return x, 8 * width
    raise ExportError("unknown model '%s' in the checkpoint's config; export_onnx knows %s" %
                      (kind, KNOWN_BACKBONES))


def to_cells(g, x, per_row):
    """[N, C, H, W] -> [N, H*W*C/per_row, per_row] (models/cell_ops to_cells, then rows)."""
    return g.op("Reshape", [g.op("Transpose", [x], perm=[0, 2, 3, 1]), g.i64([0, -1, per_row])])


def decode_boxes(g, raw, anchors_xyxy, center_range):
    """raw [N, A, 4] + anchors [A, 4] xyxy -> xyxy boxes (kernels/common/box.h decode_box):
    centre = anchor centre + range * (2 sigmoid(t) - 1), size = anchor size * exp(min(t, max))."""
    a = anchors_xyxy.astype(np.float32)
    # The anchors as the decode kernel converts them per call: xyxy -> cxcywh in float32.
    centre = np.stack([(a[:, 0] + a[:, 2]) * np.float32(0.5), (a[:, 1] + a[:, 3]) * np.float32(0.5)], 1)
    size = np.stack([a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]], 1)
    t_xy, t_wh = g.op("Split", [raw, g.i64([2, 2])], outputs=2, axis=2)
    offset = g.op("Sub", [g.op("Mul", [g.f32(2), g.op("Sigmoid", [t_xy])]), g.f32(1)])
    xy = g.op("Add", [g.const(centre, "anchor_centre"), g.op("Mul", [g.f32(center_range), offset])])
    wh = g.op("Mul", [g.const(size, "anchor_size"), g.op("Exp", [g.op("Min", [t_wh, g.f32(MAX_LOG_SCALE)])])])
    half = g.op("Mul", [g.f32(0.5), wh])
    return g.op("Concat", [g.op("Sub", [xy, half]), g.op("Add", [xy, half])], axis=2)


def expected_edges(g, raw, centres, bins):
    """raw [N, A, 4 * bins] -> xyxy boxes: each edge's distance from the cell centre is the
    expectation of a softmax over 1-pixel bins (models/localizer/model.cpp, box_bins > 0)."""
    rows = g.op("Reshape", [raw, g.i64([0, 0, 4, bins])])
    distances = g.op("MatMul", [g.op("Softmax", [rows], axis=3), g.const(np.arange(bins, dtype=np.float32), "bins")])
    return g.op("Add", [g.op("Mul", [distances, g.f32([-1, -1, 1, 1])]), g.const(centres, "cell_centres")])


def localizer_anchors(model, grid_h, grid_w):
    """models/localizer.cpp cell_anchors, in float32 as there."""
    f = np.float32
    aw = f(model["anchor_w"]) * f(model["image_width"])
    ah = f(model["anchor_h"]) * f(model["height"])
    rows = []
    for r in range(grid_h):
        for c in range(grid_w):
            cx, cy = f(c + 0.5) * f(STRIDE), f(r + 0.5) * f(STRIDE)
            rows.append([cx - aw / f(2), cy - ah / f(2), cx + aw / f(2), cy + ah / f(2)])
    return np.array(rows, dtype=np.float32)


def detector_anchors(model, grid_h, grid_w):
    """kernels/common/anchors.h anchor_box, index (y * W + x) * K + k, float32."""
    f = np.float32
    sizes = [(f(w), f(h)) for w, h in model["anchor_sizes"]]
    rows = []
    for y in range(grid_h):
        for x in range(grid_w):
            for w, h in sizes:
                cx, cy = (f(x) + f(0.5)) * f(STRIDE), (f(y) + f(0.5)) * f(STRIDE)
                rows.append([cx - w * f(0.5), cy - h * f(0.5), cx + w * f(0.5), cy + h * f(0.5)])
    return np.array(rows, dtype=np.float32)


def build_localizer(g, model):
    height, width = model["height"], model["image_width"]
    grid_h, grid_w = height // STRIDE, width // STRIDE
    cells = grid_h * grid_w
    classes = len(model.get("classes", range(10)))  # C: the digits, or a dataset's classes
    features, _ = backbone(g, "image", model["model"], model["width"])

    pooled = g.op("Flatten", [g.op("GlobalAveragePool", [features])])
    presence_w, presence_b = g.weight("head.presence.weight"), g.weight("head.presence.bias")
    g.op("Gemm", [pooled, g.const(presence_w, "w"), g.const(presence_b, "b")], out_names=["presence_logit"],
         transB=1)

    h = features
    for i in range(model.get("head_convs", 1)):
        h = conv_bn(g, h, "head.conv" if i == 0 else "head.conv%d" % (i + 1), 1)
    out = conv(g, h, g.weight("head.out.weight"), g.weight("head.out.bias"), 1)
    bins = int(model.get("box_bins", 0))
    box_channels = 4 * bins if bins > 0 else 4
    rows = to_cells(g, out, 1 + classes + box_channels)  # [N, cells, 1 + C + box channels]
    global_head = model.get("class_head", "cell") == "global"
    location, _, raw = g.op("Split", [rows, g.i64([1, classes, box_channels])], outputs=3, axis=2,
                            out_names=["location_3d", "cell_class_logits" if global_head else "class_logits",
                                       "raw_box"])
    if global_head:  # image-level class logits added to every cell's
        coarse = conv_bn(g, maxpool(g, features), "head.global.conv", 1)
        image = g.op("Gemm", [g.op("Flatten", [g.op("GlobalAveragePool", [coarse])]),
                              g.const(g.weight("head.global.weight"), "w"), g.const(g.weight("head.global.bias"), "b")],
                     transB=1)
        g.op("Add", ["cell_class_logits", g.op("Unsqueeze", [image, g.i64([1])])], out_names=["class_logits"])
    g.op("Reshape", [location, g.i64([0, cells])], out_names=["location_logits"])
    f = np.float32
    center_range = (f(model["positive_radius"]) + f(0.5)) * f(STRIDE)
    if bins > 0:
        centres = localizer_anchors(dict(model, anchor_w=0.0, anchor_h=0.0), grid_h, grid_w)
        boxes_px = expected_edges(g, raw, centres, bins)
    else:
        boxes_px = decode_boxes(g, raw, localizer_anchors(model, grid_h, grid_w), center_range)
    to_normalized = np.array([f(1) / f(width), f(1) / f(height), f(1) / f(width), f(1) / f(height)], np.float32)
    g.op("Mul", [boxes_px, g.const(to_normalized, "to_normalized")], out_names=["boxes"])

    # What predict reports: the most likely cell's class and box, presence as a probability.
    g.op("Sigmoid", [g.op("Reshape", ["presence_logit", g.i64([-1])])], out_names=["presence"])
    cell = g.op("ArgMax", ["location_logits"], axis=1, keepdims=1)  # [N, 1]; ties: the first, as ours
    class_at = g.op("GatherND", ["class_logits", cell], batch_dims=1)  # [N, C]
    g.op("Softmax", [class_at], out_names=["class_probs"], axis=1)
    g.op("ArgMax", [class_at], out_names=["digit"], axis=1, keepdims=0)
    box_at = g.op("GatherND", ["boxes", cell], batch_dims=1)  # [N, 4] normalized
    g.op("Mul", [box_at, g.f32([width, height, width, height])], out_names=["box"])

    n, fl, i64 = "batch", TensorProto.FLOAT, TensorProto.INT64
    return [helper.make_tensor_value_info("presence_logit", fl, [n, 1]),
            helper.make_tensor_value_info("location_logits", fl, [n, cells]),
            helper.make_tensor_value_info("class_logits", fl, [n, cells, classes]),
            helper.make_tensor_value_info("boxes", fl, [n, cells, 4]),
            helper.make_tensor_value_info("presence", fl, [n]),
            helper.make_tensor_value_info("class_probs", fl, [n, classes]),
            helper.make_tensor_value_info("digit", i64, [n]),
            helper.make_tensor_value_info("box", fl, [n, 4])]


def batched_nms(g, nms, classes, digits, num_anchors):
    """boxes [N, A, 4], scores [N, A, C] -> det_* outputs; kernels/cpu/nms.h in ONNX ops."""
    if not nms["score_threshold"] >= 0:
        raise ExportError("the checkpoint's NMS score threshold %s is negative; the exported graph needs >= 0"
                          % nms["score_threshold"])
    max_det = int(nms["max_det"])
    # 1. The pre_nms_topk best (anchor, class) pairs per image; the rest get score -1, below any
    #    threshold. TopK breaks ties by the lower flat index a * C + c, as our sort does.
    flat = g.op("Reshape", ["scores", g.i64([0, -1])])  # [N, A*C]
    k = min(int(nms["pre_nms_topk"]), num_anchors * classes)
    top_values, top_index = g.op("TopK", [flat, g.i64([k])], outputs=2, axis=1, largest=1, sorted=1)
    minus_one = g.op("ConstantOfShape", [g.op("Shape", [flat])],
                     value=numpy_helper.from_array(np.array([-1], np.float32)))
    kept = g.op("ScatterElements", [minus_one, top_index, top_values], axis=1)
    kept_nca = g.op("Transpose", [g.op("Reshape", [kept, g.i64([0, num_anchors, classes])])], perm=[0, 2, 1])
    # 2. Greedy NMS per class: [K, 3] rows (image, class, anchor), by image, class, score.
    selected = g.op("NonMaxSuppression", ["boxes", kept_nca, g.i64([max_det]), g.f32([nms["iou_threshold"]]),
                                          g.f32([nms["score_threshold"]])])
    image, cls, anchor = g.op("Split", [selected, g.i64([1, 1, 1])], outputs=3, axis=1)
    image_anchor = g.op("Concat", [image, anchor], axis=1)
    score = g.op("GatherND", [kept_nca, selected])  # [K]
    # 3. Per image by score descending, equal scores by flat index a * C + c ascending, as ours:
    #    TopK keeps equal values in input order (stable), so sort by the flat index, then by
    #    score, then by image (each key exact in float32: indices < 2^24).
    count_k = g.op("Shape", [score])

    def stable_sort(order, key, largest):
        key_f = g.op("Cast", [g.op("Reshape", [key, g.i64([-1])])], to=TensorProto.FLOAT)
        key_now = key_f if order is None else g.op("Gather", [key_f, order])
        step = g.op("TopK", [key_now, count_k], outputs=2, axis=0, largest=largest, sorted=1)[1]
        return step if order is None else g.op("Gather", [order, step])

    flat_index = g.op("Add", [g.op("Mul", [anchor, g.i64(classes)]), cls])
    order = stable_sort(stable_sort(stable_sort(None, flat_index, 0), score, 1), image, 0)
    image_s = g.op("Gather", [g.op("Reshape", [image, g.i64([-1])]), order])  # [K] int64
    # Rank within its image = position - first position of that image.
    batch = g.op("Slice", [g.op("Shape", ["image"]), g.i64([0]), g.i64([1])])
    zeros_n = g.op("ConstantOfShape", [batch], value=numpy_helper.from_array(np.array([0], np.int64)))
    ones_k = g.op("ConstantOfShape", [count_k], value=numpy_helper.from_array(np.array([1], np.int64)))
    per_image = g.op("ScatterElements", [zeros_n, image_s, ones_k], axis=0, reduction="add")  # [N]
    first = g.op("CumSum", [per_image, g.i64(0)], exclusive=1)
    position = g.op("Range", [g.i64(0), g.op("Squeeze", [count_k]), g.i64(1)])
    rank = g.op("Sub", [position, g.op("Gather", [first, image_s])])
    keep = g.op("Squeeze", [g.op("NonZero", [g.op("Less", [rank, g.i64(max_det)])]), g.i64([0])])
    kept_order = g.op("Gather", [order, keep])
    slot = g.op("Concat", [g.op("Unsqueeze", [g.op("Gather", [image_s, keep]), g.i64([1])]),
                           g.op("Unsqueeze", [g.op("Gather", [rank, keep]), g.i64([1])])], axis=1)  # [K', 2]
    # 4. Scatter into the same fixed layout as our NMS op.
    out_shape = g.op("Concat", [batch, g.i64([max_det])], axis=0)
    zero_f = numpy_helper.from_array(np.array([0], np.float32))
    g.op("ScatterND", [g.op("ConstantOfShape", [g.op("Concat", [out_shape, g.i64([4])], axis=0)], value=zero_f),
                       slot, g.op("Gather", [g.op("GatherND", ["boxes", image_anchor]), kept_order])],
         out_names=["det_boxes"])
    g.op("ScatterND", [g.op("ConstantOfShape", [out_shape], value=zero_f), slot, g.op("Gather", [score, kept_order])],
         out_names=["det_scores"])
    digit = g.op("Gather", [g.const(np.array(digits, np.int64), "digits"),
                            g.op("Gather", [g.op("Reshape", [cls, g.i64([-1])]), kept_order])])
    g.op("ScatterND", [g.op("ConstantOfShape", [out_shape], value=numpy_helper.from_array(np.array([-1], np.int64))),
                       slot, digit], out_names=["det_digits"])
    g.op("Min", [per_image, g.i64([max_det])], out_names=["det_count"])


def build_detector(g, model):
    height, width = model["height"], model["image_width"]
    grid_h, grid_w = height // STRIDE, width // STRIDE
    digits = [int(d) for d in model["classes"]]
    classes, k = len(digits), len(model["anchor_sizes"])
    num_anchors = grid_h * grid_w * k
    h, _ = backbone(g, "image", model["model"], model["width"])
    for i in range(int(model["head_convs"])):
        h = conv_bn(g, h, "head.conv%d" % i, 1)
    out = conv(g, h, g.weight("head.out.weight"), g.weight("head.out.bias"), 1)
    rows = to_cells(g, out, classes + 4)  # [N, A, C + 4], anchor a = (y * W + x) * K + k
    logits, raw = g.op("Split", [rows, g.i64([classes, 4])], outputs=2, axis=2)
    f = np.float32
    prior = f(model["prior"])
    prior_logit = -np.log((f(1) - prior) / prior).astype(np.float32)  # fixed offset (RetinaNet's prior)
    g.op("Sigmoid", [g.op("Add", [logits, g.f32([prior_logit] * classes)])], out_names=["scores"])
    center_range = f(model["center_range"]) * f(STRIDE)
    decoded = decode_boxes(g, raw, detector_anchors(model, grid_h, grid_w), center_range)
    g.op("Identity", [decoded], out_names=["boxes"])
    batched_nms(g, model["nms"], classes, digits, num_anchors)

    n, fl, i64 = "batch", TensorProto.FLOAT, TensorProto.INT64
    max_det = int(model["nms"]["max_det"])
    return [helper.make_tensor_value_info("boxes", fl, [n, num_anchors, 4]),
            helper.make_tensor_value_info("scores", fl, [n, num_anchors, classes]),
            helper.make_tensor_value_info("det_boxes", fl, [n, max_det, 4]),
            helper.make_tensor_value_info("det_scores", fl, [n, max_det]),
            helper.make_tensor_value_info("det_digits", i64, [n, max_det]),
            helper.make_tensor_value_info("det_count", i64, [n])]


def export(checkpoint):
    """checkpoint path -> onnx.ModelProto (checked)."""
    tensors, task, run = read_checkpoint(checkpoint)
    model = run["model"]
    try:
        if model["model"] not in BACKBONES:
            raise ExportError("unknown model '%s' in the checkpoint's config; export_onnx knows %s" %
                              (model["model"], KNOWN_BACKBONES))
        if model["height"] % STRIDE or model["image_width"] % STRIDE:
            raise ExportError("input size %dx%d is not a multiple of 4" % (model["height"], model["image_width"]))
        g = GraphBuilder(tensors)
        outputs = build_localizer(g, model) if task == "localize" else build_detector(g, model)
    except KeyError as e:
        raise ExportError("the checkpoint's run metadata lacks %s" % e) from None
    unused = sorted(k for k in tensors if k not in g.used and not k.startswith("optim."))
    if unused:
        raise ExportError("the checkpoint holds weights this exporter does not know (%s); was it written by "
                          "a newer train_gpu?" % ", ".join(unused[:5]))
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, model["height"],
                                                                       model["image_width"]])
    graph = helper.make_graph(g.nodes, "locdet_" + task, [image], outputs, g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="locdet",
                              doc_string=__doc__.split("\n\n")[0])
    proto.ir_version = 8  # opset 17's IR version: readable by older runtimes too
    for key, value in (("locdet.task", task), ("locdet.run", json.dumps(run)),
                       ("locdet.checkpoint", os.path.basename(checkpoint))):
        proto.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="checkpoint written by train_gpu (e.g. runs/loc/checkpoint.safetensors)")
    ap.add_argument("out", help="the ONNX file to write (e.g. loc.onnx)")
    args = ap.parse_args()
    try:
        if os.path.exists(args.out) and os.path.exists(args.checkpoint) and os.path.samefile(args.out,
                                                                                             args.checkpoint):
            raise ExportError("OUT '%s' is the checkpoint itself; choose another file name, e.g. model.onnx" %
                              args.out)
        folder = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(folder):
            raise ExportError("the folder of '%s' does not exist; create it first" % args.out)
        proto = export(args.checkpoint)
        data = proto.SerializeToString()
        write_atomically(args.out, data)
    except (CheckpointError, ExportError, OSError) as e:
        sys.exit("export_onnx: error: %s" % e)
    run = json.loads(next(p.value for p in proto.metadata_props if p.key == "locdet.run"))
    m = run["model"]
    print("wrote %s (%d bytes): %s, model %s width %d, input [batch, 1, %d, %d], opset %d" %
          (args.out, len(data), "localizer" if run["task"] == "localize" else "detector", m["model"], m["width"],
           m["height"], m["image_width"], OPSET))


if __name__ == "__main__":
    main()
