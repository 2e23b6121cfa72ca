#!/usr/bin/env python3
"""Builds the COCO-eval fixtures in tests/fixtures/coco/ (run from the repo root):

    .venv/bin/python tools/make_coco_fixtures.py

Each case is a small synthetic ground-truth / detection set made with a fixed seed, evaluated
by pycocotools' COCOeval (bbox, iscrowd 0, maxDets [1, 10, 100], all area ranges computed but
our evaluator only reproduces area "all"). The fixture stores the inputs in our own compact
form (class index 0..C-1, image index 0..N-1, boxes xywh) and what pycocotools reports:
stats[0..11], per-class AP (mean of precision[:, :, k, area all, maxDets 100] over entries
> -1, -1 when the class has no GT), per-class recall@100, and the interpolated precision at
IoU .5 for each class (the PR curve). tests/test_eval_coco.cpp checks our evaluator against it.
"""
import contextlib
import io
import json
import os

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

OUT = os.path.join("tests", "fixtures", "coco")


def jitter_box(rng, box, scale):
    x, y, w, h = box
    dx, dy = rng.normal(0, scale * w), rng.normal(0, scale * h)
    sw, sh = np.exp(rng.normal(0, scale)), np.exp(rng.normal(0, scale))
    return [float(x + dx), float(y + dy), float(w * sw), float(h * sh)]


def make_case(seed, num_images, num_classes, max_gt, miss_p, fp_rate, jitter, quantize_scores=None,
              no_gt_classes=(), empty_images=(), dup_p=0.0):
    rng = np.random.default_rng(seed)
    gts, dts = [], []
    for img in range(num_images):
        n = 0 if img in empty_images else int(rng.integers(1, max_gt + 1))
        for _ in range(n):
            c = int(rng.integers(0, num_classes))
            while c in no_gt_classes:
                c = int(rng.integers(0, num_classes))
            w, h = float(rng.uniform(8, 30)), float(rng.uniform(8, 30))
            box = [float(rng.uniform(0, 60 - w)), float(rng.uniform(0, 48 - h)), w, h]
            gts.append({"image": img, "class": c, "bbox": box})
            if rng.random() >= miss_p:
                pc = c if rng.random() > 0.1 else int(rng.integers(0, num_classes))  # some wrong classes
                dts.append({"image": img, "class": pc, "bbox": jitter_box(rng, box, jitter),
                            "score": float(rng.uniform(0.3, 1.0))})
                if rng.random() < dup_p:  # duplicate detection of the same object
                    dts.append({"image": img, "class": pc, "bbox": jitter_box(rng, box, jitter),
                                "score": float(rng.uniform(0.1, 0.9))})
        for _ in range(int(rng.poisson(fp_rate))):  # false positives, any class (also no-GT classes)
            w, h = float(rng.uniform(5, 25)), float(rng.uniform(5, 25))
            dts.append({"image": img, "class": int(rng.integers(0, num_classes)),
                        "bbox": [float(rng.uniform(0, 60 - w)), float(rng.uniform(0, 48 - h)), w, h],
                        "score": float(rng.uniform(0.0, 0.8))})
    if quantize_scores:
        for d in dts:  # coarse scores: many exact ties, within and across images
            d["score"] = float(np.round(d["score"] * quantize_scores) / quantize_scores)
    return gts, dts


def evaluate(num_images, num_classes, gts, dts):
    gt_json = {
        "images": [{"id": i + 1, "width": 60, "height": 48} for i in range(num_images)],
        "categories": [{"id": c + 1, "name": str(c)} for c in range(num_classes)],
        "annotations": [{"id": k + 1, "image_id": g["image"] + 1, "category_id": g["class"] + 1,
                         "bbox": g["bbox"], "area": g["bbox"][2] * g["bbox"][3], "iscrowd": 0}
                        for k, g in enumerate(gts)],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt_json
        coco_gt.createIndex()
        res = [{"image_id": d["image"] + 1, "category_id": d["class"] + 1, "bbox": d["bbox"],
                "score": d["score"]} for d in dts]
        coco_dt = coco_gt.loadRes(res) if res else COCO()
        if not res:
            coco_dt.dataset = {"images": gt_json["images"], "categories": gt_json["categories"],
                               "annotations": []}
            coco_dt.createIndex()
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    prec = ev.eval["precision"]  # [T, R, K, A, M]
    rec = ev.eval["recall"]  # [T, K, A, M]
    per_class_ap, per_class_ar, pr50 = [], [], []
    for k in range(num_classes):
        p = prec[:, :, k, 0, -1]
        per_class_ap.append(float(np.mean(p[p > -1])) if np.any(p > -1) else -1.0)
        r = rec[:, k, 0, -1]
        per_class_ar.append(float(np.mean(r[r > -1])) if np.any(r > -1) else -1.0)
        pr50.append([float(v) for v in prec[0, :, k, 0, -1]])
    stats = [float(s) for s in ev.stats]
    return {"stats": stats, "map": stats[0], "map50": stats[1], "map75": stats[2], "ar100": stats[8],
            "per_class_ap": per_class_ap, "per_class_ar100": per_class_ar, "pr50": pr50}


CASES = {
    # name: (seed, images, classes, max gt, miss p, fp rate, jitter, options)
    "basic": (1, 20, 3, 4, 0.1, 0.5, 0.05, {}),
    "noisy": (2, 30, 10, 4, 0.3, 2.0, 0.15, {"dup_p": 0.3}),
    "ties": (3, 25, 4, 3, 0.15, 1.0, 0.08, {"quantize_scores": 4, "dup_p": 0.2}),
    "empty_and_missing_class": (4, 15, 5, 3, 0.2, 1.0, 0.1, {"no_gt_classes": (2,), "empty_images": (0, 7)}),
    "perfect": (5, 10, 2, 4, 0.0, 0.0, 0.0, {}),
    "crowded": (6, 3, 2, 40, 0.1, 250.0, 0.1, {"dup_p": 0.5}),  # > 100 detections per image and class
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (seed, n_img, n_cls, max_gt, miss, fp, jit, opts) in CASES.items():
        gts, dts = make_case(seed, n_img, n_cls, max_gt, miss, fp, jit, **opts)
        expected = evaluate(n_img, n_cls, gts, dts)
        fixture = {"name": name, "num_images": n_img, "num_classes": n_cls, "gt": gts, "dt": dts,
                   "expected": expected}
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(fixture, f, separators=(",", ":"))
        print(f"{name}: {len(gts)} gt, {len(dts)} dt, mAP {expected['map']:.4f} "
              f"AP50 {expected['map50']:.4f} AR100 {expected['ar100']:.4f}")


if __name__ == "__main__":
    main()
