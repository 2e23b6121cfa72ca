#!/usr/bin/env bash
# The main job on a fresh machine: set-up, build the programs it uses, verify MNIST, export
# sample datasets, train a localizer and a detector (on the GPU when there is one, else the
# CPU), evaluate them on their test splits, draw overlays and plots. See usage() below.
set -euo pipefail
usage() {
  cat <<'USAGE'
usage: tools/demo.sh [--quick]

Sets up the machine (tools/bootstrap.sh), builds the programs into build/bin/, verifies MNIST,
exports sample datasets (runs/demo-datasets/), then trains and evaluates:
  runs/demo-localizer/   the localizer on inf265-loc (one digit or none per image)
  runs/demo-detector/    the detector on det10 (1-4 digits of all ten classes)
Each run folder gets config.json, metrics.jsonl, checkpoint.safetensors, eval.json,
overlays/test.png (the first test scenes), overlays/test_mistakes.png (the first ones the
model got wrong) and plots/*.png.

  (no option)  the README's configurations: on a 2-core CPU about 18-27 + 36 minutes of training
  --quick      150 steps per model and fewer test scenes, in runs/demo-*-quick/: a smoke run
               that takes minutes; its accuracy and AP are expected to be low
  -h, --help   this text

A finished run is reused and an interrupted one resumed, so nothing is overwritten; delete a
run folder to train it again.
USAGE
}
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "tools/demo.sh: unknown argument '$arg'" >&2
      usage >&2
      exit 2
      ;;
  esac
done
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

step "bootstrap"
tools/bootstrap.sh
step "build (the programs the demo runs)"
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target check_mnist make_dataset train_gpu evaluate predict
export LOCDET_MNIST_DIR=${LOCDET_MNIST_DIR:-$PWD/data/mnist}

step "MNIST"
build/bin/check_mnist

step "sample datasets (PNG + COCO + preview)"
for preset in inf265-loc det10; do
  out=runs/demo-datasets/$preset
  [ -f "$out/annotations.json" ] || build/bin/make_dataset --preset "$preset" --split test --count 64 --out "$out"
  echo "$out/preview.png"
done

# train NAME ARGS...: trains into runs/NAME; a finished run is left as it is (train_gpu says
# so), an interrupted one resumed.
train() {
  local name=$1
  shift
  local dir=runs/$name
  if [ -f "$dir/checkpoint.last.safetensors" ]; then
    build/bin/train_gpu --out "$dir" --resume
  else
    build/bin/train_gpu --out "$dir" "$@"
  fi
}

if [ "$quick" = 1 ]; then
  loc_args=(--epochs 1 --steps-per-epoch 150 --val-count 500 --test-count 1000)
  loc_name=demo-localizer-quick
else
  loc_args=(--epochs 11)
  loc_name=demo-localizer
fi
step "train the localizer (inf265-loc)"
train "$loc_name" --task localize --preset inf265-loc --model small "${loc_args[@]}"

step "evaluate on the test split (and draw the scenes it got wrong)"
build/bin/evaluate --checkpoint "runs/$loc_name/checkpoint.safetensors" --split test \
  $([ "$quick" = 1 ] && echo "--count 1000") --json "runs/$loc_name/eval_test.json" \
  --mistakes "runs/$loc_name/overlays/test_mistakes.png"

step "plots"
.venv/bin/python tools/plot_run.py "runs/$loc_name"

if [ "$quick" = 1 ]; then
  det_args=(--epochs 1 --steps-per-epoch 150 --val-count 300 --test-count 500)
  det_name=demo-detector-quick
else
  det_args=(--head-convs 2 --epochs 28 --augment shear=0.3,stroke=0.5)
  det_name=demo-detector
fi
step "train the detector (det10: 1-4 digits of all ten classes)"
train "$det_name" --task detect --preset det10 --model small "${det_args[@]}"
step "evaluate the detector (COCO-style AP)"
build/bin/evaluate --checkpoint "runs/$det_name/checkpoint.safetensors" --split test \
  $([ "$quick" = 1 ] && echo "--count 500") --json "runs/$det_name/eval_test.json" \
  --mistakes "runs/$det_name/overlays/test_mistakes.png"
.venv/bin/python tools/plot_run.py "runs/$det_name"

step "done"
for name in "$loc_name" "$det_name"; do
  echo "runs/$name: config.json, metrics.jsonl, checkpoint.safetensors, eval.json,"
  echo "  overlays/test.png (the first test scenes), overlays/test_mistakes.png (the ones it got wrong),"
  echo "  plots/*.png. In the overlays green is the truth, red a right prediction, yellow a mistake."
done
if [ "$quick" = 1 ]; then
  echo "(--quick trains 150 steps per model: low accuracy and AP are expected; tools/demo.sh trains fully)"
fi
