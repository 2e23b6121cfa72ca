#!/usr/bin/env bash
# The main job on a fresh machine: set-up, build, verify MNIST, export sample datasets,
# train a localizer and a detector (on the GPU when there is one, else the CPU), evaluate
# them on their test splits, draw overlays and plots.
#   tools/demo.sh            the default configurations (CPU: about 25 + 30 minutes on 2 cores)
#   tools/demo.sh --quick    a few minutes: short training, fewer test scenes (a smoke run)
# Runs land in runs/demo-*/; a finished run is reused, an interrupted one resumed, so
# nothing is ever overwritten. Delete a run folder to train it again.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
step() { printf '\n== %s\n' "$*"; }

step "bootstrap"
tools/bootstrap.sh
step "build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
export LOCDET_MNIST_DIR=${LOCDET_MNIST_DIR:-$PWD/data/mnist}

step "MNIST"
build/bin/check_mnist

step "sample datasets (PNG + COCO + preview)"
for preset in inf265-loc det10; do
  out=runs/demo-datasets/$preset
  [ -f "$out/annotations.json" ] || build/bin/make_dataset --preset "$preset" --split test --count 64 --out "$out"
  echo "$out/preview.png"
done

# train NAME ARGS...: trains into runs/NAME unless it is finished; resumes it if interrupted.
train() {
  local name=$1
  shift
  local dir=runs/$name
  if [ -f "$dir/eval.json" ]; then
    echo "$dir is already trained (delete it to train again)"
  elif [ -f "$dir/checkpoint.last.safetensors" ]; then
    build/bin/train_gpu --out "$dir" --resume
  else
    build/bin/train_gpu --out "$dir" "$@"
  fi
}

if [ "$quick" = 1 ]; then
  loc_args=(--epochs 1 --steps-per-epoch 150 --val-count 500 --test-count 1000)
  loc_name=demo-localizer-quick
else
  loc_args=(--epochs 10)
  loc_name=demo-localizer
fi
step "train the localizer (inf265-loc)"
train "$loc_name" --task localize --preset inf265-loc --model small "${loc_args[@]}"

step "evaluate on the test split"
build/bin/evaluate --checkpoint "runs/$loc_name/checkpoint.safetensors" --split test \
  $([ "$quick" = 1 ] && echo "--count 1000") --json "runs/$loc_name/eval_test.json" \
  --overlay "runs/$loc_name/overlays/evaluate.png"

step "plots"
.venv/bin/python tools/plot_run.py "runs/$loc_name"

if [ "$quick" = 1 ]; then
  det_args=(--epochs 1 --steps-per-epoch 150 --val-count 300 --test-count 500)
  det_name=demo-detector-quick
else
  det_args=(--epochs 10)
  det_name=demo-detector
fi
step "train the detector (det10: 1-4 digits of all ten classes)"
train "$det_name" --task detect --preset det10 --model small "${det_args[@]}"
step "evaluate the detector (COCO-style AP)"
build/bin/evaluate --checkpoint "runs/$det_name/checkpoint.safetensors" --split test \
  $([ "$quick" = 1 ] && echo "--count 500") --json "runs/$det_name/eval_test.json"
.venv/bin/python tools/plot_run.py "runs/$det_name"

step "done"
for name in "$loc_name" "$det_name"; do
  echo "runs/$name: config.json, metrics.jsonl, checkpoint.safetensors, eval.json,"
  echo "  overlays/test.png (green: truth, red: prediction), plots/*.png"
done
