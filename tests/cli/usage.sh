#!/usr/bin/env bash
# How the programs meet a new user (docs/RELIABILITY.md): a mistyped option is named with the
# closest real one before anything else is checked; a machine without a GPU gets one plain
# notice; MNIST is found next to the build from any folder, and when it is nowhere the message
# says where it looked; tools/demo.sh --help prints its usage and starts nothing.
source "$(dirname "$0")/common.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
need train_gpu evaluate predict make_dataset check_mnist
need_mnist
cd "$WORK"

# ---- mistyped options
expect_failure "train_gpu --epoch" 109 "unknown option '--epoch'; did you mean '--epochs'?" "--help" -- \
  "$BIN/train_gpu" --out r --epoch 3
expect_failure "train_gpu --ouut (a required option mistyped)" 109 "unknown option '--ouut'; did you mean '--out'?" -- \
  "$BIN/train_gpu" --ouut r
expect_failure "evaluate --chekpoint" 109 "did you mean '--checkpoint'?" -- "$BIN/evaluate" --chekpoint x
expect_failure "predict --image" 109 "did you mean '--images'?" -- "$BIN/predict" --checkpoint x --image a.png --out o
expect_failure "make_dataset --presets" 109 "did you mean '--preset'?" -- "$BIN/make_dataset" --presets det10
expect_failure "check_mnist --mnsit" 109 "did you mean '--mnist'?" -- "$BIN/check_mnist" --mnsit x
expect_failure "a stray value" 109 "unexpected argument(s): 3" "every value belongs to an option" -- \
  "$BIN/train_gpu" --out r 3
check "nothing was created" test -z "$(ls -A "$WORK" | grep -v -x -e stdout -e stderr)"

# ---- no GPU: one plain notice
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "skip [no-GPU notice]: this machine has a GPU"
else
  "$BIN/train_gpu" --out r "${TINY[@]:2}" --epochs 1 --steps-per-epoch 1 >/dev/null 2>"$WORK/stderr"
  check "the no-GPU notice is printed once, and nothing else about GPUs" \
    test "$(grep -c 'on the CPU' "$WORK/stderr")" = 1 -a "$(grep -c -e GPU -e CUDA "$WORK/stderr")" = 1
  check "it says plainly why" grep -qE "^train_gpu: (no GPU found|this build has no CUDA backend); training on the CPU$" \
    "$WORK/stderr"
  rm -rf r
fi

# ---- MNIST without --mnist or LOCDET_MNIST_DIR
if [ -d "$BIN/../../data/mnist" ]; then
  rc=0
  (cd / && env -u LOCDET_MNIST_DIR "$BIN/check_mnist") >"$WORK/stdout" 2>&1 || rc=$?
  check "check_mnist from / finds data/mnist next to the build (exit $rc)" \
    grep -qF "MNIST verified in $(cd "$BIN/../../data/mnist" && pwd)" "$WORK/stdout"
else
  echo "skip [MNIST next to the build]: $BIN/../../data/mnist does not exist"
fi
# A copy of the program far from any data: the message lists every place it looked.
mkdir -p elsewhere/x/bin elsewhere/cwd
cp "$BIN/check_mnist" elsewhere/x/bin/
(cd elsewhere/cwd && env -u LOCDET_MNIST_DIR ../x/bin/check_mnist) >"$WORK/stdout" 2>"$WORK/stderr" || true
check "no MNIST anywhere: it says where it looked" grep -qF \
  "no MNIST folder found (looked in '$WORK/elsewhere/data/mnist', '$WORK/elsewhere/cwd/data/mnist')" "$WORK/stderr"
check "and how to get it" grep -qF "tools/bootstrap.sh" "$WORK/stderr"
expect_failure "LOCDET_MNIST_DIR pointing nowhere" 1 "looked in '$WORK/nowhere', from \$LOCDET_MNIST_DIR" -- \
  env LOCDET_MNIST_DIR="$WORK/nowhere" "$BIN/check_mnist"

# ---- tools/demo.sh
rc=0
timeout 20 "$root/tools/demo.sh" --help >"$WORK/stdout" 2>&1 || rc=$?
check "demo.sh --help exits 0 (got $rc)" test "$rc" = 0
check "demo.sh --help prints the usage" grep -q "^usage: tools/demo.sh" "$WORK/stdout"
check "demo.sh --help starts nothing" sh -c "! grep -q '^== ' '$WORK/stdout'"
expect_failure "demo.sh with an unknown argument" 2 "unknown argument '--quik'" "usage: tools/demo.sh" -- \
  timeout 20 "$root/tools/demo.sh" --quik
finish
