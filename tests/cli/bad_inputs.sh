#!/usr/bin/env bash
# Bad input at the command line (docs/RELIABILITY.md): each case must exit non-zero with
# a clear message on stderr, and leave every earlier file untouched.
source "$(dirname "$0")/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
need train_gpu evaluate predict
need_mnist

# ---- MNIST
expect_failure "missing MNIST" 1 "does not exist" "tools/bootstrap.sh" -- \
  "$BIN/train_gpu" --out "$WORK/r0" --mnist "$WORK/no_mnist" "${TINY[@]}"
mkdir -p "$WORK/mnist_truncated" "$WORK/mnist_swapped"
for f in train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  ln -s "$LOCDET_MNIST_DIR/$f" "$WORK/mnist_truncated/$f"
  ln -s "$LOCDET_MNIST_DIR/$f" "$WORK/mnist_swapped/$f"
done
head -c 100000 "$LOCDET_MNIST_DIR/train-images-idx3-ubyte" >"$WORK/mnist_truncated/train-images-idx3-ubyte"
cp "$LOCDET_MNIST_DIR/train-labels-idx1-ubyte" "$WORK/mnist_swapped/train-images-idx3-ubyte"
expect_failure "truncated IDX" 1 "truncated" "tools/bootstrap.sh" -- \
  "$BIN/train_gpu" --out "$WORK/r0" --mnist "$WORK/mnist_truncated" "${TINY[@]}"
expect_failure "corrupt MNIST (labels where images belong)" 1 "magic" -- \
  "$BIN/train_gpu" --out "$WORK/r0" --mnist "$WORK/mnist_swapped" "${TINY[@]}"
# The set-up step (bootstrap's fetch_mnist.py) stops on a damaged copy instead of passing it.
mkdir -p "$WORK/mnist_one_byte"
cp "$LOCDET_MNIST_DIR"/*-ubyte "$WORK/mnist_one_byte/"
printf '\x07' | dd of="$WORK/mnist_one_byte/train-labels-idx1-ubyte" bs=1 seek=2 conv=notrunc 2>/dev/null
expect_failure "one corrupted header byte stops the set-up" 1 "train-labels-idx1-ubyte" "IDX magic 0x701" -- \
  env LOCDET_MNIST_DIR="$WORK/mnist_one_byte" python3 "$(dirname "$0")/../../tools/fetch_mnist.py"

# ---- absurd flags
expect_failure "negative batch" 1 "--batch must be 1..4096, got -1" -- "$BIN/train_gpu" --out "$WORK/r0" --batch -1 --device cpu
expect_failure "zero epochs" 1 "--epochs must be >= 1" -- "$BIN/train_gpu" --out "$WORK/r0" --epochs 0 --device cpu
expect_failure "weight average decay of 1" 1 "--ema must be in [0, 1)" -- "$BIN/train_gpu" --out "$WORK/r0" --ema 1 --device cpu
expect_failure "unknown preset" 1 "unknown preset 'nope'" "known presets" -- "$BIN/train_gpu" --out "$WORK/r0" --preset nope --device cpu
expect_failure "unknown model" 1 "unknown model 'nope'" -- "$BIN/train_gpu" --out "$WORK/r0" --model nope --device cpu
expect_failure "unknown box loss" 1 "unknown box loss" -- "$BIN/train_gpu" --out "$WORK/r0" --box-loss foo --device cpu
expect_failure "unknown device" 1 "tpu" -- "$BIN/train_gpu" --out "$WORK/r0" --device tpu
expect_failure "box bins too few for the boxes" 1 "use --box-bins 21" -- \
  "$BIN/train_gpu" --out "$WORK/r0" --preset ayulockin-loc --box-bins 8 --device cpu
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "skip [--device cuda without a GPU]: this machine has a GPU"
else
  expect_failure "--device cuda without a GPU" 1 "--device cuda" "use --device cpu" -- \
    "$BIN/train_gpu" --out "$WORK/r0" --device cuda
fi

# ---- a finished tiny run: the files every later case must leave untouched
"$BIN/train_gpu" --out "$WORK/run" "${TINY[@]}" --epochs 1 --steps-per-epoch 3 >"$WORK/train.log" 2>&1 ||
  { cat "$WORK/train.log"; echo "FAIL: the tiny training run failed"; exit 1; }
snapshot "$WORK/run" >"$WORK/run.sha"

expect_failure "existing run without --resume" 1 "--resume" -- "$BIN/train_gpu" --out "$WORK/run" "${TINY[@]}"
expect_unchanged "existing run without --resume" "$WORK/run" "$WORK/run.sha"

# A binned head's bins cannot change: --init-from onto bigger digits than they reach is refused.
"$BIN/train_gpu" --out "$WORK/binned" "${TINY[@]}" --epochs 1 --steps-per-epoch 2 --box-bins 22 >/dev/null 2>&1
echo '[{"name": "big", "base": "inf265-loc", "scale_min": 1.5, "scale_max": 1.7}]' >"$WORK/big.json"
expect_failure "--init-from a head whose bins miss the new boxes" 1 "use --box-bins 27 for a new model" \
  "bins cannot change" "--init-from $WORK/binned" -- "$BIN/train_gpu" --out "$WORK/r_big" \
  --init-from "$WORK/binned/checkpoint.safetensors" --preset big --preset-file "$WORK/big.json" --device cpu \
  --epochs 1 --steps-per-epoch 1 --val-count 8 --test-count 8
check "the refused --init-from made no run folder" test ! -e "$WORK/r_big"

# ---- unwritable output: a path under a regular file (ENOTDIR; permission tests skip as root)
echo "keep me" >"$WORK/a_file"
expect_failure "train --out under a file" 1 "Not a directory" -- "$BIN/train_gpu" --out "$WORK/a_file/run" "${TINY[@]}"
expect_failure "evaluate --json under a file" 1 "Not a directory" -- \
  "$BIN/evaluate" --checkpoint "$WORK/run/checkpoint.safetensors" --device cpu --count 8 --json "$WORK/a_file/eval.json"
check "the regular file is untouched" test "$(cat "$WORK/a_file")" = "keep me"

# ---- bad checkpoints
mkdir -p "$WORK/ckpt"
good=$WORK/run/checkpoint.safetensors
size=$(stat -c %s "$good")
head -c $((size / 2)) "$good" >"$WORK/ckpt/truncated.safetensors"
head -c 5 "$good" >"$WORK/ckpt/tiny.safetensors"
python3 "$here/edit_checkpoint.py" "$good" "$WORK/ckpt/garbled.safetensors" garble
python3 "$here/edit_checkpoint.py" "$good" "$WORK/ckpt/other_task.safetensors" task=segment
python3 "$here/edit_checkpoint.py" "$good" "$WORK/ckpt/wider.safetensors" width=8
echo "not a checkpoint at all" >"$WORK/ckpt/text.safetensors"
snapshot "$WORK/ckpt" >"$WORK/ckpt.sha"
eval_args=(--device cpu --count 8)
expect_failure "truncated safetensors" 1 "truncated" -- "$BIN/evaluate" --checkpoint "$WORK/ckpt/truncated.safetensors" "${eval_args[@]}"
expect_failure "safetensors shorter than its length field" 1 "truncated" -- "$BIN/evaluate" --checkpoint "$WORK/ckpt/tiny.safetensors" "${eval_args[@]}"
expect_failure "garbled safetensors header" 1 "garbled" -- "$BIN/evaluate" --checkpoint "$WORK/ckpt/garbled.safetensors" "${eval_args[@]}"
expect_failure "text file as checkpoint" 1 "not a safetensors file" -- "$BIN/evaluate" --checkpoint "$WORK/ckpt/text.safetensors" "${eval_args[@]}"
expect_failure "checkpoint of another model" 1 "segment" -- "$BIN/evaluate" --checkpoint "$WORK/ckpt/other_task.safetensors" "${eval_args[@]}"
expect_failure "checkpoint of another width" 1 "does not match the model" "shape of" -- \
  "$BIN/evaluate" --checkpoint "$WORK/ckpt/wider.safetensors" "${eval_args[@]}"
expect_failure "predict with a truncated checkpoint" 1 "truncated" -- \
  "$BIN/predict" --checkpoint "$WORK/ckpt/truncated.safetensors" --images "$WORK/a_file" --out "$WORK/pred0" --device cpu
expect_unchanged "bad checkpoints" "$WORK/ckpt" "$WORK/ckpt.sha"
expect_unchanged "the run" "$WORK/run" "$WORK/run.sha"

# ---- bad images
mkdir -p "$WORK/img" "$WORK/pred"
echo "this is not an image" >"$WORK/img/notes.png"
: >"$WORK/img/empty.png"
printf 'P5\n0 5\n255\n' >"$WORK/img/zero_width.pgm"
echo "earlier output" >"$WORK/pred/notes.json"
snapshot "$WORK/pred" >"$WORK/pred.sha"
for image in notes.png empty.png zero_width.pgm; do
  expect_failure "predict on $image" 1 "skipping" "cannot read image" -- \
    "$BIN/predict" --checkpoint "$good" --images "$WORK/img/$image" --out "$WORK/pred" --device cpu
done
expect_unchanged "predict output folder after bad images" "$WORK/pred" "$WORK/pred.sha"
finish
