#!/usr/bin/env bash
# Training on your own data (docs/DATASETS.md, "Your own data"): make_dataset output (COCO and
# the second seed's CSV), a hand-made COCO folder with train/ and val/, and a YOLO folder in
# Ultralytics' layout each train and evaluate end to end; --resume reloads the dataset and refuses
# one that changed; and every bad dataset is refused with the file and entry named, before any run
# folder is created (docs/RELIABILITY.md).
source "$(dirname "$0")/common.sh"
need train_gpu evaluate make_dataset
need_mnist

TINY_RUN=("${TINY[@]}" --epochs 1 --steps-per-epoch 3)
train_ok() {  # NAME OUT ARGS...: trains, checks the run's files
  local name=$1 out=$2
  shift 2
  if "$BIN/train_gpu" --out "$out" "${TINY_RUN[@]}" "$@" >"$WORK/train.log" 2>&1; then
    echo "ok   [$name] trained: $(grep -m1 '^test' "$WORK/train.log")"
  else
    echo "FAIL [$name]: train_gpu failed"
    sed 's/^/       /' "$WORK/train.log" | tail -20
    failures=$((failures + 1))
    return
  fi
  check "$name: eval.json" test -s "$out/eval.json"
  check "$name: overlay" test -s "$out/overlays/test.png"
  check "$name: config.json records the dataset" grep -qF '"letterbox"' "$out/config.json"
}
evaluate_ok() {  # NAME ARGS...
  local name=$1
  shift
  if "$BIN/evaluate" --device cpu --count 16 "$@" >"$WORK/eval.log" 2>&1; then
    echo "ok   [$name] $(head -1 "$WORK/eval.log")"
  else
    echo "FAIL [$name]: evaluate failed"
    sed 's/^/       /' "$WORK/eval.log" | tail -20
    failures=$((failures + 1))
  fi
}

# ---- make_dataset output
"$BIN/make_dataset" --preset inf265-loc --split train --count 48 --out "$WORK/loc" --format png,coco,csv >/dev/null
"$BIN/make_dataset" --preset inf265-loc --split test --count 24 --out "$WORK/loc_test" --format png,coco >/dev/null
"$BIN/make_dataset" --preset det10 --split train --count 48 --out "$WORK/det" --format png,yolo >/dev/null
train_ok "localizer on make_dataset COCO" "$WORK/r_loc" --task localize --data "$WORK/loc"
evaluate_ok "evaluate --data (a COCO folder)" --checkpoint "$WORK/r_loc/checkpoint.safetensors" --data "$WORK/loc_test"
evaluate_ok "evaluate --preset (rendered test split)" --checkpoint "$WORK/r_loc/checkpoint.safetensors" \
  --preset inf265-loc --split test
evaluate_ok "evaluate on the run's own data" --checkpoint "$WORK/r_loc/checkpoint.safetensors" --split val
train_ok "localizer on the second seed's CSV" "$WORK/r_csv" --task localize --data "$WORK/loc" --data-format csv \
  --input 52x64 --augment none
check "--input sets the model input" python3 -c \
  "import json, sys; sys.exit(json.load(open(sys.argv[1]))['data']['input'] != [52, 64])" "$WORK/r_csv/config.json"

# ---- --resume reloads the dataset (here to train the run longer); a changed dataset is refused,
# the run untouched (a finished run needs no data: resuming it only says so)
rc=0
"$BIN/train_gpu" --out "$WORK/r_loc" --resume --epochs 2 --device cpu >"$WORK/resume.log" 2>&1 || rc=$?
check "--resume --epochs 2 of a dataset run (exit $rc)" test "$rc" = 0
check "--resume --epochs 2 trained and tested the second epoch" python3 -c \
  "import json, sys; sys.exit(json.load(open(sys.argv[1]))['trained_epochs'] != 2)" "$WORK/r_loc/eval.json"
snapshot "$WORK/r_loc" >"$WORK/r_loc.sha"
rm "$WORK/loc/images/train_000047.png"
expect_failure "--resume with an image gone" 1 "train_000047.png' not found" -- \
  "$BIN/train_gpu" --out "$WORK/r_loc" --resume --epochs 3 --device cpu
expect_unchanged "--resume with an image gone" "$WORK/r_loc" "$WORK/r_loc.sha"

# ---- a YOLO folder in Ultralytics' layout: images/{train,val}, labels/{train,val}, data.yaml
mkdir -p "$WORK/yolo/images/train" "$WORK/yolo/images/val" "$WORK/yolo/labels/train" "$WORK/yolo/labels/val"
for f in "$WORK/det/images/"*.png; do
  stem=$(basename "$f" .png)
  split=train
  case "$stem" in *4[0-7]) split=val ;; esac
  cp "$f" "$WORK/yolo/images/$split/"
  cp "$WORK/det/labels/$stem.txt" "$WORK/yolo/labels/$split/"
done
printf 'path: .\ntrain: images/train\nval: images/val\nnames: [zero, one, two, three, four, five, six, seven, eight, nine]\n' \
  >"$WORK/yolo/data.yaml"
train_ok "detector on a YOLO folder" "$WORK/r_yolo" --task detect --data "$WORK/yolo"
check "class names from data.yaml" grep -qF '"seven"' "$WORK/r_yolo/config.json"
evaluate_ok "evaluate --data --split val (YOLO)" --checkpoint "$WORK/r_yolo/checkpoint.safetensors" \
  --data "$WORK/yolo" --split val

# ---- a hand-made COCO folder: train/ and val/, two named categories with ids 3 and 7
for split in train val; do
  mkdir -p "$WORK/hand/$split"
  n=0
  images="" annotations=""
  for f in "$WORK/loc/images/train_00000"[0-7].png; do
    n=$((n + 1))
    cp "$f" "$WORK/hand/$split/p$n.png"
    images+="${images:+,}{\"id\": $n, \"file_name\": \"p$n.png\", \"width\": 60, \"height\": 48}"
    annotations+="${annotations:+,}{\"id\": $n, \"image_id\": $n, \"category_id\": $((n % 2 ? 3 : 7)), \"bbox\": [$((n * 3)), 10, 14, 18]}"
  done
  echo "{\"images\": [$images], \"annotations\": [$annotations], \"categories\": [{\"id\": 3, \"name\": \"circle\"}, {\"id\": 7, \"name\": \"cross\"}]}" \
    >"$WORK/hand/$split/annotations.json"
done
train_ok "detector on a hand-made COCO folder" "$WORK/r_hand" --task detect --data "$WORK/hand"
evaluate_ok "evaluate --data (hand-made, val)" --checkpoint "$WORK/r_hand/checkpoint.safetensors" \
  --data "$WORK/hand" --split val
check "the report names the classes" grep -qF "cross" "$WORK/eval.log"

# A localizer on the same folder: two classes, not ten, through evaluate --dump and the ONNX export
train_ok "localizer on a hand-made COCO folder (two classes)" "$WORK/r_hand_loc" --task localize --data "$WORK/hand"
evaluate_ok "evaluate --dump (two-class localizer)" --checkpoint "$WORK/r_hand_loc/checkpoint.safetensors" \
  --data "$WORK/hand" --split val --dump "$WORK/hand_loc.dump.safetensors"
check "the dump's class_logits hold the two classes per cell" python3 - "$WORK/hand_loc.dump.safetensors" <<'PY'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
header = json.loads(data[8:8 + struct.unpack("<Q", data[:8])[0]])
shape, cells = header["class_logits"]["shape"], header["location_logits"]["shape"]
sys.exit(0 if shape == cells + [2] else "class_logits %s, location_logits %s" % (shape, cells))
PY
PY=${LOCDET_PYTHON:-$ROOT/.venv/bin/python}
if "$PY" -c "import numpy, onnx, onnxruntime" 2>/dev/null; then
  rc=0
  "$PY" "$ROOT/tools/export_onnx.py" "$WORK/r_hand_loc/checkpoint.safetensors" "$WORK/hand_loc.onnx" \
    >"$WORK/export.txt" 2>&1 || rc=$?
  check "export_onnx exports the two-class localizer (exit $rc)" test "$rc" = 0
  rc=0
  "$PY" "$ROOT/tools/check_onnx.py" "$WORK/hand_loc.onnx" "$WORK/hand_loc.dump.safetensors" >"$WORK/check.txt" 2>&1 || rc=$?
  sed 's/^/       /' "$WORK/check.txt"
  check "onnxruntime agrees with the two-class localizer (exit $rc)" test "$rc" = 0
else
  echo "skip [the two-class localizer's ONNX export]: $PY cannot import onnx, onnxruntime (run tools/bootstrap.sh)"
fi

# ---- bad datasets: refused with the file and entry named; no run folder appears
bad() {  # NAME DATA_DIR "fragment"... [-- extra train_gpu args]
  local name=$1 dir=$2
  shift 2
  local fragments=() extra=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    fragments+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift && extra=("$@")
  case " ${extra[*]} " in *" --task "*) ;; *) extra+=(--task detect) ;; esac
  rm -rf "$WORK/r_bad"
  expect_failure "$name" 1 "${fragments[@]}" -- "$BIN/train_gpu" --out "$WORK/r_bad" --data "$dir" \
    "${TINY_RUN[@]}" "${extra[@]}"
  check "$name: no run folder" test ! -e "$WORK/r_bad"
}
clone() { rm -rf "$WORK/$2" && cp -r "$WORK/$1" "$WORK/$2"; }

clone hand b1 && rm "$WORK/b1/train/p3.png"
bad "missing image" "$WORK/b1" "train/annotations.json: image id 3" "'p3.png' not found"
clone hand b2 && sed -i 's/"bbox": \[6, 10, 14, 18\]/"bbox": [50, 10, 14, 18]/' "$WORK/b2/val/annotations.json"
bad "box outside the image" "$WORK/b2" "val/annotations.json: annotation id 2" "reaches outside the 60x48 image"
clone hand b3 && sed -i 's/"category_id": 7/"category_id": 9/' "$WORK/b3/train/annotations.json"
bad "unknown category id" "$WORK/b3" "train/annotations.json: annotation id 2" "category_id 9 is not in"
clone yolo b4 && echo "0 0.5 0.5 0.2 0.2" >"$WORK/b4/labels/train/ghost.txt"
bad "label file without an image" "$WORK/b4" "labels/train/ghost.txt: label file without an image"
clone yolo b5 && echo "12 0.5 0.5 0.2 0.2" >>"$WORK/b5/labels/val/train_000041.txt"
bad "YOLO class beyond data.yaml" "$WORK/b5" "labels/val/train_000041.txt line" "class 12 is not in data.yaml"
mkdir -p "$WORK/b6"
bad "empty dataset" "$WORK/b6" "holds no dataset"
clone hand b7 && "$BIN/make_dataset" --preset ayulockin-loc --split train --count 1 --out "$WORK/b7_big" >/dev/null &&
  cp "$WORK/b7_big/images/train_000000.png" "$WORK/b7/train/p2.png" &&
  sed -i 's/"file_name": "p2.png", "width": 60, "height": 48/"file_name": "p2.png"/' "$WORK/b7/train/annotations.json"
bad "mixed sizes beyond the limit" "$WORK/b7" "'train/p2.png' is 100x100 but most images are 60x48"
bad "localize on detection data" "$WORK/det" "a localizer learns zero or one object per image" "--task detect" -- \
  --task localize
bad "--preset and --data" "$WORK/hand" "pass --preset or --data, not both" -- --preset det10
bad "bad --input" "$WORK/hand" "--input '50x60'" -- --input 50x60
bad "unknown --augment key" "$WORK/hand" "unknown --augment key 'blur'" -- --augment blur=1
finish
