#!/usr/bin/env python3
"""How a localizer holds up off its own test scenes: false "digit" calls on images without a
digit, and accuracy on digits that are not MNIST.

  .venv/bin/python tools/robustness.py runs/loc/checkpoint.safetensors [--out DIR] [--count N]

Four checks, each an `evaluate` run over the checkpoint's own preset with one thing changed:
  mnist      the preset's test scenes (MNIST test digits): the reference
  fonts      the same scenes (positions, sizes, rotations, noise) with the digits replaced by
             digits of the fonts Debian ships (tools/font_digits.py; never trained on)
  blank      images without a digit and without noise
  noise      images without a digit, noise drawn as the preset draws it, up to 0.4 (the most
             any built-in preset uses)
  noise-0.4  images without a digit, every one at noise 0.4
For the empty images the figure is the false-positive rate: the share of images the model
says hold a digit (presence > 0.5). Writes DIR/robustness.json, DIR/robustness.md (a table),
DIR/presets.json (the presets it made), the evaluate reports and the fonts' mistakes
(DIR/fonts_mistakes.png). DIR defaults to the checkpoint's folder + /robustness.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atomic_file import write_atomically  # noqa: E402
from locdet_safetensors import CheckpointError, read_checkpoint  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_PRESET_NOISE = 0.4  # the largest noise_max of the built-in presets (models/digits/scene.cpp)


def run_evaluate(evaluate, args, report):
    cmd = [evaluate] + args + ["--json", report]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        sys.exit("robustness.py: %s failed:\n%s" % (" ".join(cmd), done.stdout))
    with open(report) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a localizer checkpoint (train_gpu --task localize)")
    parser.add_argument("--out", help="folder for the reports (default: next to the checkpoint)")
    parser.add_argument("--count", type=int, default=1000, help="images per empty-image check")
    parser.add_argument("--evaluate", default=os.path.join(ROOT, "build/bin/evaluate"))
    parser.add_argument("--mnist", default=os.environ.get("LOCDET_MNIST_DIR", os.path.join(ROOT, "data/mnist")))
    parser.add_argument("--fonts", default=os.path.join(ROOT, "data/font-digits"),
                        help="the font digits folder (made by tools/font_digits.py when absent)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda")
    args = parser.parse_args()

    try:
        _, task, run = read_checkpoint(args.checkpoint)
    except CheckpointError as e:
        sys.exit("robustness.py: %s" % e)
    if task != "localize":
        sys.exit("robustness.py: %s is a %s checkpoint; this check is for localizers "
                 "(train_gpu --task localize)" % (args.checkpoint, task))
    if "data" in run:
        sys.exit("robustness.py: %s was trained on a dataset folder; the check renders the scenes of a "
                 "preset (inf265-loc, ayulockin-loc)" % args.checkpoint)
    preset = run["preset"]["name"]
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), "robustness")
    os.makedirs(out, exist_ok=True)
    if not os.path.exists(os.path.join(args.fonts, "t10k-images-idx3-ubyte")):
        subprocess.run([sys.executable, os.path.join(ROOT, "tools/font_digits.py"), "--out", args.fonts,
                        "--mnist", args.mnist], check=True)

    empty = {"no_object_rate": 1.0, "smooth_min": 0.0, "smooth_max": 0.0}
    presets = [
        dict(name="blank", base=preset, noise_min=0.0, noise_max=0.0, **empty),
        dict(name="noise", base=preset, noise_min=0.0, noise_max=MAX_PRESET_NOISE, **empty),
        dict(name="noise-0.4", base=preset, noise_min=MAX_PRESET_NOISE, noise_max=MAX_PRESET_NOISE, **empty),
    ]
    preset_file = os.path.join(out, "presets.json")
    write_atomically(preset_file, json.dumps({"presets": presets}, indent=1).encode())

    common = ["--checkpoint", args.checkpoint, "--device", args.device]
    rows = {}
    for name, extra in [("mnist", ["--mnist", args.mnist]),
                        ("fonts", ["--mnist", args.fonts, "--mistakes", os.path.join(out, "fonts_mistakes.png")])]:
        r = run_evaluate(args.evaluate, common + extra, os.path.join(out, name + ".json"))
        rows[name] = {"images": r["images"], "accuracy": r["accuracy"], "mean_iou": r["mean_iou"],
                      "presence_accuracy": r["presence_accuracy"]}
    for p in presets:
        r = run_evaluate(args.evaluate, common + ["--mnist", args.mnist, "--preset-file", preset_file, "--preset",
                                                  p["name"], "--count", str(args.count)],
                         os.path.join(out, p["name"] + ".json"))
        rows[p["name"]] = {"images": r["images"], "false_positive_rate": 1.0 - r["presence_accuracy"]}

    summary = {"checkpoint": args.checkpoint, "preset": preset, "checks": rows}
    write_atomically(os.path.join(out, "robustness.json"), json.dumps(summary, indent=1).encode())
    lines = ["| check | images | accuracy | mean IoU | presence errors (no digit: false positives) |",
             "|---|---|---|---|---|"]
    for name, r in rows.items():
        if "accuracy" in r:
            lines.append("| %s | %d | %.2f%% | %.4f | %.2f%% |" % (name, r["images"], 100 * r["accuracy"],
                                                                   r["mean_iou"], 100 * (1 - r["presence_accuracy"])))
        else:
            lines.append("| %s | %d | | | %.2f%% |" % (name, r["images"], 100 * r["false_positive_rate"]))
    table = "\n".join(lines) + "\n"
    write_atomically(os.path.join(out, "robustness.md"), table.encode())
    print(table + "wrote %s/robustness.json and robustness.md" % out)


if __name__ == "__main__":
    main()
