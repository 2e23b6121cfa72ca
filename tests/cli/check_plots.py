#!/usr/bin/env python3
"""Checks tools/plot_run.py's figures (run by plots.sh with the project's venv): every curve has
a y-axis label and the run's name in its title, the detector's loss panel shows its class and
box losses, and no two tick labels of the detection confusion matrix overlap."""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("plot_run", os.path.join(here, "..", "..", "tools", "plot_run.py"))
plot_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot_run)

failures = []


def check(name, ok):
    print(("ok   " if ok else "FAIL ") + f"[{name}]")
    if not ok:
        failures.append(name)


detector_records = []
for step in range(1, 6):
    detector_records.append({"kind": "train", "epoch": 1, "step": step * 10, "loss": 2.0 / step,
                             "class_loss": 1.2 / step, "box_loss": 0.8 / step, "lr": 0.001})
detector_records.append({"kind": "val", "epoch": 1, "step": 50, "map": 0.4, "map50": 0.8, "map75": 0.3})
figures = dict(plot_run.curve_figures(detector_records, "det-run"))
check("detector: a loss panel and an AP panel", set(figures) == {"loss", "map"})
for name, fig in figures.items():
    ax = fig.axes[0]
    check(f"detector {name}: y-axis label", bool(ax.get_ylabel()))
    check(f"detector {name}: the run's name in the title", ax.get_title().startswith("det-run"))
lines = [line.get_label() for line in figures["loss"].axes[0].get_lines()]
check("detector loss panel: class and box losses", {"train class_loss", "train box_loss"} <= set(lines))

localizer_records = [{"kind": "train", "epoch": 1, "step": 5, "loss": 1.0, "presence_loss": 0.1,
                      "class_loss": 0.5, "box_loss": 0.3, "location_loss": 0.1, "accuracy": 0.5, "mean_iou": 0.4},
                     {"kind": "val", "epoch": 1, "step": 5, "accuracy": 0.6, "mean_iou": 0.5,
                      "presence_accuracy": 0.9}]
figures = dict(plot_run.curve_figures(localizer_records, "loc-run"))
check("localizer: loss, accuracy and IoU panels", set(figures) == {"loss", "accuracy", "iou"})
check("localizer: every panel labelled and titled",
      all(f.axes[0].get_ylabel() and f.axes[0].get_title().startswith("loc-run") for f in figures.values()))


def overlapping(labels, renderer):
    boxes = [t.get_window_extent(renderer) for t in labels if t.get_text()]
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]


matrix = [[(5 if i == j else 1) for j in range(11)] for i in range(11)]
fig = plot_run.confusion_figure({"map": 0.5, "confusion_matrix": matrix, "classes": list(range(10))}, "det-run")
fig.canvas.draw()
renderer = fig.canvas.get_renderer()
ax = fig.axes[0]
check("confusion: labels are the digits and background",
      [t.get_text() for t in ax.get_xticklabels()] == [str(d) for d in range(10)] + ["background"])
check("confusion: no x tick labels overlap", not overlapping(ax.get_xticklabels(), renderer))
check("confusion: no y tick labels overlap", not overlapping(ax.get_yticklabels(), renderer))
check("confusion: the run's name in the title", ax.get_title().startswith("det-run"))
fig = plot_run.confusion_figure({"map": 0.5, "confusion_matrix": [[3, 1, 0], [0, 4, 1], [1, 0, 0]],
                                 "classes": [0, 1]}, "idet")
check("confusion of a 2-class detector: 0, 1, background",
      [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "1", "background"])
if failures:
    sys.exit(f"{len(failures)} check(s) failed")
print("all checks passed")
