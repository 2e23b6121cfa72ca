#!/usr/bin/env python3
"""Plots a run folder: loss, accuracy / IoU (or mAP) curves and the confusion matrix.

    .venv/bin/python tools/plot_run.py runs/NAME [--out runs/NAME/plots]

Reads runs/NAME/metrics.jsonl (one JSON object per line; "kind" is "train" or "val") and,
when present, runs/NAME/eval.json (its "confusion_matrix"). Writes PNGs.
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load_metrics(path):
    records = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                # A run killed mid-write may end in a partial line; everything before it is good.
                print(f"plot_run: skipping unreadable line {number} of {path}", file=sys.stderr)
    return records


def series(records, kind, key):
    points = [(r["step"], r[key]) for r in records if r.get("kind") == kind and key in r and "step" in r]
    return [p[0] for p in points], [p[1] for p in points]


def plot_curves(records, out):
    written = []
    panels = [("loss", ["loss"]), ("accuracy", ["accuracy", "presence_accuracy"]), ("iou", ["mean_iou"]),
              ("map", ["map", "map50", "map75"])]
    for name, keys in panels:
        fig, ax = plt.subplots(figsize=(6, 4))
        drawn = False
        for kind, style in (("train", "-"), ("val", "o-")):
            for key in keys:
                x, y = series(records, kind, key)
                if x:
                    ax.plot(x, y, style, label=f"{kind} {key}", markersize=3)
                    drawn = True
        if drawn:
            ax.set_xlabel("step")
            ax.set_title(name)
            ax.grid(alpha=0.3)
            ax.legend()
            path = os.path.join(out, f"{name}.png")
            fig.tight_layout()
            fig.savefig(path, dpi=120)
            written.append(path)
        plt.close(fig)
    return written


def plot_confusion(evaluation, out):
    matrix = evaluation.get("confusion_matrix")
    if not matrix:
        return []
    # Localization: the 11th label is "no digit"; detection: unmatched boxes ("background").
    extra = "background" if "map" in evaluation else "none"
    labels = evaluation.get("confusion_labels") or [str(i) for i in range(10)] + [extra][: len(matrix) - 10]
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=6,
                        color="white" if value > peak / 2 else "black")
    ax.set_title("confusion matrix")
    path = os.path.join(out, "confusion_matrix.png")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="run folder (runs/NAME)")
    parser.add_argument("--out", help="where to write the PNGs (default RUN/plots)")
    args = parser.parse_args()
    metrics = os.path.join(args.run, "metrics.jsonl")
    if not os.path.exists(metrics):
        sys.exit(f"plot_run: {metrics} not found; is {args.run} a run folder written by train_gpu?")
    out = args.out or os.path.join(args.run, "plots")
    os.makedirs(out, exist_ok=True)
    written = plot_curves(load_metrics(metrics), out)
    evaluation = os.path.join(args.run, "eval.json")
    if os.path.exists(evaluation):
        with open(evaluation) as f:
            written += plot_confusion(json.load(f), out)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
