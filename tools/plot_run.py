#!/usr/bin/env python3
"""Plots a run folder: loss (with each loss term), accuracy / IoU (or mAP) curves and the
confusion matrix, each titled with the run's name.

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


# Panels: (file name, title, y-axis label, keys). The loss panel also takes every "*_loss" key a
# task logs (localizer: presence, location, class, box; detector: class, box).
PANELS = [
    ("loss", "training loss", "loss (per batch)", ["loss"]),
    ("accuracy", "accuracy", "fraction of images", ["accuracy", "presence_accuracy"]),
    ("iou", "mean IoU", "mean IoU with the true box", ["mean_iou"]),
    ("map", "COCO-style AP", "average precision", ["map", "map50", "map75"]),
]


def loss_keys(records):
    parts = sorted({k for r in records for k in r if k.endswith("_loss") and isinstance(r[k], (int, float))})
    return ["loss"] + parts


def curve_figures(records, run_name):
    """[(file name, figure)] for the panels the records have data for."""
    figures = []
    for name, title, ylabel, keys in PANELS:
        if name == "loss":
            keys = loss_keys(records)
        fig, ax = plt.subplots(figsize=(6.5, 4))
        drawn = False
        for kind, style in (("train", "-"), ("val", "o-")):
            for key in keys:
                x, y = series(records, kind, key)
                if x:
                    ax.plot(x, y, style, label=f"{kind} {key}", markersize=3, linewidth=1.5 if key == "loss" else 1)
                    drawn = True
        if not drawn:
            plt.close(fig)
            continue
        ax.set_xlabel("training step")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{run_name}: {title}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        figures.append((name, fig))
    return figures


def confusion_figure(evaluation, run_name):
    matrix = evaluation.get("confusion_matrix")
    if not matrix:
        return None
    # Localization: the 11th label is "no digit"; detection: unmatched boxes ("background").
    extra = "background" if "map" in evaluation else "none"
    digits = evaluation.get("classes") or list(range(len(matrix) - 1))
    labels = evaluation.get("confusion_labels") or [str(d) for d in digits][: len(matrix) - 1] + [extra]
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=90)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=6,
                        color="white" if value > peak / 2 else "black")
    split = evaluation.get("split", "test")
    ax.set_title(f"{run_name}: confusion matrix ({split} split)")
    fig.tight_layout()
    return fig


def plot_curves(records, out, run_name):
    written = []
    for name, fig in curve_figures(records, run_name):
        path = os.path.join(out, f"{name}.png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


def plot_confusion(evaluation, out, run_name):
    fig = confusion_figure(evaluation, run_name)
    if fig is None:
        return []
    path = os.path.join(out, "confusion_matrix.png")
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
    run_name = os.path.basename(os.path.normpath(os.path.abspath(args.run)))
    written = plot_curves(load_metrics(metrics), out, run_name)
    evaluation = os.path.join(args.run, "eval.json")
    if os.path.exists(evaluation):
        with open(evaluation) as f:
            written += plot_confusion(json.load(f), out, run_name)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
