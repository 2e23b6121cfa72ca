#!/usr/bin/env python3
"""Checks an exported model (tools/export_onnx.py) against our own outputs with onnxruntime.

  build/bin/evaluate --checkpoint C --split test --count 500 --dump dump.safetensors
  .venv/bin/python tools/export_onnx.py C model.onnx
  .venv/bin/python tools/check_onnx.py model.onnx dump.safetensors [--json figures.json]

The dump holds the exact float images our evaluator rendered, their labels, our raw outputs
and our report (evaluate --dump). onnxruntime (CPU) runs the ONNX file on the same images in
batches of --batch (so the dynamic batch dimension is exercised), then:
  localizer: max |difference| of each raw output (presence_logit, location_logits,
             class_logits, boxes) <= --tolerance (default 1e-4); the chosen cell, the digit
             and the presence decision identical for every image; accuracy identical and
             mean IoU within 1e-5 of our report (both recomputed here with the seed's
             definitions, engine/eval/localization.h, which must first reproduce our report
             from our own outputs).
  detector:  max |difference| of the scores <= --tolerance and of the boxes (pixels) <=
             --tolerance x the image size; the NMS outputs identical image by image (digits in
             order; boxes and scores within those tolerances), except images where the
             first difference is a decision on a threshold that float rounding can tip (a
             score within --tolerance of the score threshold or of its neighbour, an IoU
             within 1e-4 of the NMS threshold), which are counted and listed;
             AP@[.5:.95], AP50 and AP75 by pycocotools within
             --ap-tolerance (default 0.001) of our report, whose AP pycocotools must first
             reproduce from our own detections.
Prints the figures; exits 1 when a check fails, 77 when onnxruntime or pycocotools is missing.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from locdet_boxes import box_iou  # noqa: E402
from locdet_safetensors import CheckpointError, read_safetensors  # noqa: E402

try:
    import onnxruntime as ort
except ImportError:
    print("SKIP: onnxruntime is missing; run tools/bootstrap.sh and use .venv/bin/python")
    sys.exit(77)


class Checks:
    def __init__(self):
        self.failed, self.figures = [], {}

    def check(self, name, ok, detail):
        print("%s %s: %s" % ("ok  " if ok else "FAIL", name, detail))
        if not ok:
            self.failed.append(name)


def run_onnx(model_path, images, batch, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    parts = {n: [] for n in names}
    for first in range(0, len(images), batch):
        for n, value in zip(names, session.run(None, {"image": images[first:first + batch]})):
            parts[n].append(value)
    return {n: np.concatenate(v) for n, v in parts.items()}


def max_diff(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise SystemExit("shape mismatch: ONNX %s vs ours %s" % (a.shape, b.shape))
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def localization_metrics(presence_logit, digit, box, labels):
    """engine/eval/localization.h: accuracy and mean IoU over the images that hold a digit."""
    f = np.float32
    with_digit = correct = 0
    iou_sum = 0.0
    for p, d, b, l in zip(presence_logit, digit, box, labels):
        if not l[0] > 0.5:
            continue
        with_digit += 1
        present = p > 0
        correct += int(present and int(d) == int(l[5]))
        if present:
            truth = [l[1] - l[3] / f(2), l[2] - l[4] / f(2), l[1] + l[3] / f(2), l[2] + l[4] / f(2)]
            iou_sum += float(box_iou(b, truth))
    return (correct / with_digit if with_digit else 0.0), (iou_sum / with_digit if with_digit else 0.0)


def check_localizer(checks, dump, out, report, tolerance):
    ours = {k: dump[k] for k in ("presence_logit", "location_logits", "class_logits", "boxes")}
    for name, value in ours.items():
        d = max_diff(out[name], value)
        checks.figures["max_diff_" + name] = d
        checks.check("raw output %s" % name, d <= tolerance, "max |ONNX - ours| %.3g (tolerance %g)" % (d, tolerance))
    n = len(dump["image"])
    rows = np.arange(n)
    cell = np.argmax(ours["location_logits"], axis=1)  # std::max_element: the first maximum
    digit = np.argmax(ours["class_logits"][rows, cell], axis=1)
    box = ours["boxes"][rows, cell]
    onnx_cell = np.argmax(out["location_logits"], axis=1)
    checks.check("chosen cell", np.array_equal(onnx_cell, cell), "%d of %d images the same" %
                 (int(np.sum(onnx_cell == cell)), n))
    checks.check("digit", np.array_equal(out["digit"], digit), "%d of %d images the same" %
                 (int(np.sum(out["digit"] == digit)), n))
    present, onnx_present = ours["presence_logit"][:, 0] > 0, out["presence"] > 0.5
    checks.check("presence decision", np.array_equal(onnx_present, present), "%d of %d images the same" %
                 (int(np.sum(onnx_present == present)), n))
    height, width = dump["image"].shape[2:]
    scale = np.array([width, height, width, height], np.float32)
    checks.figures["max_diff_box_pixels"] = max_diff(out["box"], box * scale)
    logits = ours["class_logits"][rows, cell].astype(np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    checks.figures["max_diff_class_probs"] = max_diff(out["class_probs"], probs / probs.sum(axis=1, keepdims=True))
    print("     box in pixels: max |ONNX - ours| %.3g; class probabilities: %.3g" %
          (checks.figures["max_diff_box_pixels"], checks.figures["max_diff_class_probs"]))

    labels = dump["label"]
    acc, miou = localization_metrics(ours["presence_logit"][:, 0], digit, box, labels)
    checks.check("our outputs reproduce our report", acc == report["accuracy"] and abs(miou - report["mean_iou"]) < 1e-9,
                 "accuracy %.6f vs %.6f, mean IoU %.9f vs %.9f" % (acc, report["accuracy"], miou, report["mean_iou"]))
    onnx_acc, onnx_miou = localization_metrics(out["presence_logit"][:, 0], out["digit"], out["box"] / scale, labels)
    checks.figures.update({"accuracy": report["accuracy"], "mean_iou": report["mean_iou"], "onnx_accuracy": onnx_acc,
                           "onnx_mean_iou": onnx_miou})
    checks.check("accuracy", onnx_acc == report["accuracy"], "ONNX %.4f%%, ours %.4f%%" %
                 (100 * onnx_acc, 100 * report["accuracy"]))
    checks.check("mean IoU", abs(onnx_miou - report["mean_iou"]) <= 1e-5, "ONNX %.6f, ours %.6f (difference %.2g)" %
                 (onnx_miou, report["mean_iou"], onnx_miou - report["mean_iou"]))


def coco_ap(dump, digits, det_boxes, det_scores, det_digits, det_count):
    """pycocotools AP of the detections, with our evaluator's class indices and xywh boxes."""
    try:
        import make_coco_fixtures
    except ImportError:
        print("SKIP: pycocotools is missing; run tools/bootstrap.sh")
        sys.exit(77)
    index = {d: i for i, d in enumerate(digits)}
    gts, dts = [], []
    for img in range(len(dump["image"])):
        for box, digit in zip(dump["gt_boxes"][img], dump["gt_digits"][img]):
            if digit >= 0 and int(digit) in index:
                x1, y1, x2, y2 = (float(v) for v in box)
                gts.append({"image": img, "class": index[int(digit)], "bbox": [x1, y1, x2 - x1, y2 - y1]})
        for k in range(int(det_count[img])):
            x1, y1, x2, y2 = (float(v) for v in det_boxes[img, k])
            dts.append({"image": img, "class": index[int(det_digits[img, k])], "bbox": [x1, y1, x2 - x1, y2 - y1],
                        "score": float(det_scores[img, k])})
    return make_coco_fixtures.evaluate(len(dump["image"]), len(digits), gts, dts)


def first_difference(a, b, box_tolerance, tolerance):
    """Index of the first detection where two (boxes, scores, digits, count) lists differ; None if equal."""
    for j in range(max(a[3], b[3])):
        if j >= a[3] or j >= b[3] or a[2][j] != b[2][j] or np.max(np.abs(a[0][j] - b[0][j])) > box_tolerance or \
                abs(float(a[1][j]) - float(b[1][j])) > tolerance:
            return j
    return None


def at_threshold(a, b, j, nms, tolerance):
    """Whether the detections at j, where the lists part, are numerical ties that two runtimes
    may decide either way: a score within `tolerance` of the score threshold or of a different
    neighbouring score (an order swap; exactly equal scores must keep our index order), or an
    IoU within 1e-4 of the NMS threshold with an earlier detection of the same digit (IoU
    computed here in float64)."""
    def iou(p, t):
        return float(box_iou(p, t))

    for boxes, scores, digits, count in (a, b):
        for i in (j, j + 1):
            if i >= count:
                continue
            if abs(float(scores[i]) - nms["score_threshold"]) <= tolerance or \
                    (i > 0 and 0 < abs(float(scores[i]) - float(scores[i - 1])) <= tolerance):
                return True
            for boxes2, _, digits2, count2 in (a, b):
                if any(digits2[e] == digits[i] and abs(iou(boxes[i], boxes2[e]) - nms["iou_threshold"]) <= 1e-4
                       for e in range(min(j, count2))):
                    return True
    return False


def check_detector(checks, dump, out, report, run, tolerance, ap_tolerance):
    height, width = dump["image"].shape[2:]
    d = max_diff(out["scores"], dump["scores"])
    checks.figures["max_diff_scores"] = d
    checks.check("raw output scores", d <= tolerance, "max |ONNX - ours| %.3g (tolerance %g)" % (d, tolerance))
    d = max_diff(out["boxes"], dump["boxes"])
    checks.figures["max_diff_boxes_pixels"] = d
    box_tolerance = tolerance * max(height, width)
    checks.check("raw output boxes", d <= box_tolerance, "max |ONNX - ours| %.3g pixels (tolerance %g)" %
                 (d, box_tolerance))
    digits = [int(c) for c in run["model"]["classes"]]
    our_digits = np.where(dump["det_classes"] >= 0, np.array(digits)[np.maximum(dump["det_classes"], 0)], -1)
    same = int(np.sum(np.asarray(out["det_count"]) == dump["det_count"]))
    n = len(dump["image"])
    nms = run["model"]["nms"]
    identical, boundary = 0, []
    for img in range(n):
        theirs = (out["det_boxes"][img], out["det_scores"][img], out["det_digits"][img], int(out["det_count"][img]))
        mine = (dump["det_boxes"][img], dump["det_scores"][img], our_digits[img], int(dump["det_count"][img]))
        first = first_difference(theirs, mine, box_tolerance, tolerance)
        if first is None:
            identical += 1
        elif at_threshold(theirs, mine, first, nms, tolerance):
            boundary.append(img)
    checks.figures.update({"images_same_detection_count": same, "images_identical_detections": identical,
                           "images_differing_at_a_threshold": boundary,
                           "detections": int(np.sum(dump["det_count"])), "onnx_detections": int(np.sum(out["det_count"]))})
    checks.check("NMS outputs", identical + len(boundary) == n,
                 "%d of %d images with identical detections (digits in order, boxes within %g px, scores within "
                 "%g), %d differing only where a decision sits on a threshold (%s); %d detections here, %d ours" %
                 (identical, n, box_tolerance, tolerance, len(boundary), boundary[:5] or "none",
                  int(np.sum(out["det_count"])), int(np.sum(dump["det_count"]))))
    ours = coco_ap(dump, digits, dump["det_boxes"], dump["det_scores"], our_digits, dump["det_count"])
    checks.check("pycocotools reproduces our report from our detections", abs(ours["map"] - report["map"]) <= 1e-6,
                 "AP %.6f vs %.6f" % (ours["map"], report["map"]))
    onnx = coco_ap(dump, digits, out["det_boxes"], out["det_scores"], out["det_digits"], out["det_count"])
    for key, label in (("map", "AP@[.5:.95]"), ("map50", "AP50"), ("map75", "AP75")):
        diff = onnx[key] - report[key]
        checks.figures[key] = report[key]
        checks.figures["onnx_" + key] = onnx[key]
        checks.check(label, abs(diff) <= ap_tolerance, "ONNX %.4f, ours %.4f (difference %.2g, tolerance %g)" %
                     (onnx[key], report[key], diff, ap_tolerance))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", help="the exported model (tools/export_onnx.py)")
    ap.add_argument("dump", help="evaluate --dump output for the same checkpoint")
    ap.add_argument("--batch", type=int, default=128, help="onnxruntime batch size")
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime threads")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--ap-tolerance", type=float, default=1e-3)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    try:
        dump, meta, _ = read_safetensors(args.dump)
    except CheckpointError as e:
        sys.exit("check_onnx: error: %s" % e)
    if "locdet.report" not in meta:
        sys.exit("check_onnx: error: '%s' is not a dump written by evaluate --dump" % args.dump)
    task, run, report = meta["locdet.task"], json.loads(meta["locdet.run"]), json.loads(meta["locdet.report"])
    if not os.path.exists(args.onnx):
        sys.exit("check_onnx: error: '%s' does not exist; make it with tools/export_onnx.py" % args.onnx)
    import onnx
    model_meta = {p.key: p.value for p in onnx.load(args.onnx, load_external_data=False).metadata_props}
    onnx_run = json.loads(model_meta.get("locdet.run", "{}"))
    if model_meta.get("locdet.task") != task or onnx_run.get("model") != run["model"]:
        sys.exit("check_onnx: error: '%s' holds another model than the checkpoint the dump was made with (%s)" %
                 (args.onnx, meta.get("locdet.checkpoint")))
    out = run_onnx(args.onnx, dump["image"], args.batch, args.threads)
    print("%s: %d scenes of split %s, onnxruntime %s, batches of %d" %
          (args.onnx, len(dump["image"]), meta.get("locdet.split"), ort.__version__, args.batch))
    checks = Checks()
    if task == "localize":
        check_localizer(checks, dump, out, report, args.tolerance)
    else:
        check_detector(checks, dump, out, report, run, args.tolerance, args.ap_tolerance)
    if args.json:
        checks.figures.update({"task": task, "scenes": len(dump["image"]), "checkpoint": meta.get("locdet.checkpoint"),
                               "onnxruntime": ort.__version__, "failed": checks.failed})
        with open(args.json, "w") as f:
            json.dump(checks.figures, f, indent=2)
    if checks.failed:
        print("%d check(s) failed: %s" % (len(checks.failed), ", ".join(checks.failed)))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
