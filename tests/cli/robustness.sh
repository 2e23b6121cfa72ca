#!/usr/bin/env bash
# The robustness check (docs/ROBUSTNESS.md): tools/font_digits.py makes an MNIST-format folder
# of font digits that the programs load like MNIST (official per-digit counts, a sheet to look
# at), and tools/robustness.py scores a localizer on it and on images without a digit. A tiny
# localizer is trained here; its figures mean nothing, the plumbing is what is checked: the
# empty-image presets really hold no digit, the fonts really replace the digits, every figure
# is a rate, and a detector or a broken checkpoint is refused with what to pass instead.
source "$(dirname "$0")/common.sh"
need train_gpu evaluate check_mnist
need_mnist
need_python numpy PIL fontTools

# ---- the font digits
rc=0
"$PY" "$ROOT/tools/font_digits.py" --out "$WORK/fonts" --mnist "$LOCDET_MNIST_DIR" >"$WORK/fonts.txt" 2>&1 || rc=$?
cat "$WORK/fonts.txt"
check "font_digits.py made the folder (exit $rc)" test "$rc" = 0
check "the loader takes it as an MNIST folder" "$BIN/check_mnist" --mnist "$WORK/fonts"
check "at least 40 distinct fonts, each listed once" test "$(sort -u "$WORK/fonts/fonts.txt" | wc -l)" -ge 40
check "no dingbats or symbol font among them" bash -c "! grep -qiE 'dingbat|D050000L|symbol' '$WORK/fonts/fonts.txt'"
check "the sheet to look at" test -s "$WORK/fonts/fonts.png"
check "the test digits are not MNIST's" bash -c "! cmp -s '$WORK/fonts/t10k-images-idx3-ubyte' '$LOCDET_MNIST_DIR/t10k-images-idx3-ubyte'"

# Never over the user's data: not into the MNIST folder, not over a real file.
expect_failure "font_digits.py --out the MNIST folder" 1 "is the MNIST folder itself" -- \
  "$PY" "$ROOT/tools/font_digits.py" --out "$LOCDET_MNIST_DIR" --mnist "$LOCDET_MNIST_DIR"
mkdir "$WORK/mine" && printf 'mine' >"$WORK/mine/train-images-idx3-ubyte"
expect_failure "font_digits.py over a real file" 1 "is a real file" -- \
  "$PY" "$ROOT/tools/font_digits.py" --out "$WORK/mine" --mnist "$LOCDET_MNIST_DIR"
check "that file untouched, nothing written beside it" bash -c \
  "[ \"\$(cat '$WORK/mine/train-images-idx3-ubyte')\" = mine ] && [ \"\$(ls '$WORK/mine')\" = train-images-idx3-ubyte ]"

# ---- the check on a tiny localizer
"$BIN/train_gpu" --task localize --out "$WORK/loc" "${TINY[@]}" --epochs 1 --steps-per-epoch 60 >/dev/null 2>&1
rc=0
"$PY" "$ROOT/tools/robustness.py" "$WORK/loc/checkpoint.safetensors" --out "$WORK/rob" --fonts "$WORK/fonts" \
  --count 64 --evaluate "$BIN/evaluate" --mnist "$LOCDET_MNIST_DIR" >"$WORK/rob.txt" 2>&1 || rc=$?
cat "$WORK/rob.txt"
check "robustness.py ran (exit $rc)" test "$rc" = 0
check "its figures" "$PY" - "$WORK/rob" <<'PY'
import json, os, sys
out = sys.argv[1]
checks = json.load(open(os.path.join(out, "robustness.json")))["checks"]
assert set(checks) == {"mnist", "fonts", "blank", "noise", "noise-0.4"}, checks
for name in ("blank", "noise", "noise-0.4"):
    report = json.load(open(os.path.join(out, name + ".json")))
    assert report["images"] == 64 and report["images_with_digit"] == 0, (name, report["images_with_digit"])
    assert 0.0 <= checks[name]["false_positive_rate"] <= 1.0
for name in ("mnist", "fonts"):
    assert checks[name]["images"] == 10000 and 0.0 <= checks[name]["accuracy"] <= 1.0
# The same scenes, other digits: the model's answers differ.
assert json.load(open(os.path.join(out, "mnist.json")))["confusion_matrix"] != \
    json.load(open(os.path.join(out, "fonts.json")))["confusion_matrix"]
PY
check "the table" grep -qE '^\| noise-0.4 \| 64 \|' "$WORK/rob/robustness.md"

# ---- what it refuses
"$BIN/train_gpu" --task detect --out "$WORK/det" "${TINY[@]}" --epochs 1 --steps-per-epoch 2 >/dev/null 2>&1
expect_failure "a detector" 1 "this check is for localizers" -- \
  "$PY" "$ROOT/tools/robustness.py" "$WORK/det/checkpoint.safetensors" --fonts "$WORK/fonts"
printf 'not a checkpoint' >"$WORK/junk.safetensors"
expect_failure "not a checkpoint" 1 "robustness.py:" -- "$PY" "$ROOT/tools/robustness.py" "$WORK/junk.safetensors"
finish
