#!/usr/bin/env bash
# predict on files, folders and globs (docs/RELIABILITY.md): it never writes over an input
# (an --out that holds one is refused; a folder scan skips --out), two inputs of the same name
# get two outputs (OUT/REL.json, OUT/REL.overlay.png with REL the path below the inputs'
# common folder), and the JSON says null where there is no digit; the score in the JSON is
# the one printed (and drawn).
source "$(dirname "$0")/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
need train_gpu predict make_dataset
need_mnist
json() {  # json FILE PYTHON-EXPRESSION-ON-d
  python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"
}

"$BIN/train_gpu" --out "$WORK/run" "${TINY[@]}" --epochs 1 --steps-per-epoch 3 >"$WORK/train.log" 2>&1 ||
  { cat "$WORK/train.log"; echo "FAIL: the tiny training run failed"; exit 1; }
ckpt=$WORK/run/checkpoint.safetensors
"$BIN/make_dataset" --preset inf265-loc --split test --count 3 --out "$WORK/ds" >/dev/null
in=$WORK/in
mkdir -p "$in/a" "$in/b" "$in/d"
cp "$WORK/ds/images/test_000000.png" "$in/a/x.png"
cp "$WORK/ds/images/test_000001.png" "$in/b/x.png"
cp "$WORK/ds/images/test_000002.png" "$in/d/three.png"
snapshot "$in" >"$WORK/in.sha"
cd "$WORK"

# ---- never over an input
expect_failure "--out is the input's folder" 1 "holds the input image" "choose an --out folder outside" -- \
  "$BIN/predict" --checkpoint "$ckpt" --images in/d/three.png --out in/d --device cpu
expect_failure "--out is a folder above the input" 1 "holds the input image" -- \
  "$BIN/predict" --checkpoint "$ckpt" --images in/d/three.png --out in --device cpu
expect_failure "--out is the input file itself" 1 "holds the input image" -- \
  "$BIN/predict" --checkpoint "$ckpt" --images in/d/three.png --out in/d/three.png --device cpu
expect_unchanged "inputs after the refused --out" "$in" "$WORK/in.sha"

# ---- two inputs of the same name
"$BIN/predict" --checkpoint "$ckpt" --images in/a/x.png in/b/x.png --out out1 --device cpu >"$WORK/stdout" 2>&1
check "a/x.png and b/x.png get two JSON files" test -s out1/a/x.png.json -a -s out1/b/x.png.json
check "and two overlays" test -s out1/a/x.png.overlay.png -a -s out1/b/x.png.overlay.png
check "each JSON names its own input" test "$(json out1/a/x.png.json 'd["image"]')" = in/a/x.png -a \
  "$(json out1/b/x.png.json 'd["image"]')" = in/b/x.png
check "image_size says width and height" test "$(json out1/a/x.png.json 'sorted(d["image_size"].items())')" = \
  "[('height', 48), ('width', 60)]"
check "no temporary file left" test -z "$(find out1 -name '*.tmp*')"

# ---- folders (recursively) and globs; the same file twice is predicted once
"$BIN/predict" --checkpoint "$ckpt" --images in --out out2 --device cpu >"$WORK/stdout" 2>&1
check "a folder gives every image in it" test "$(find out2 -name '*.json' | wc -l)" = 3 -a -s out2/d/three.png.json
"$BIN/predict" --checkpoint "$ckpt" --images 'in/*/x.png' in/a/x.png ./in/a/x.png --out out3 --device cpu \
  >"$WORK/stdout" 2>&1
check "a quoted glob matches a/x.png and b/x.png, each predicted once" test "$(wc -l <"$WORK/stdout")" = 2 -a \
  -s out3/a/x.png.json -a -s out3/b/x.png.json
expect_failure "a glob that matches nothing" 1 "no file matches 'in/*.jpg'" -- \
  "$BIN/predict" --checkpoint "$ckpt" --images 'in/*.jpg' --out out4 --device cpu
mkdir empty
expect_failure "a folder without images" 1 "holds no image files" -- \
  "$BIN/predict" --checkpoint "$ckpt" --images empty --out out4 --device cpu
# --out inside an input folder: the scan skips it, so a second run predicts the same three.
"$BIN/predict" --checkpoint "$ckpt" --images in --out in/preds --device cpu >/dev/null 2>&1
"$BIN/predict" --checkpoint "$ckpt" --images in --out in/preds --device cpu >"$WORK/stdout" 2>&1
check "a scan skips --out inside it (3 images, not their overlays)" test "$(wc -l <"$WORK/stdout")" = 3 -a \
  -z "$(find in/preds -name '*.overlay.png.json')"
rm -rf in/preds
expect_unchanged "inputs after every run" "$in" "$WORK/in.sha"

# ---- the JSON of "no digit" and of a digit; the score shown is the score saved
python3 "$here/edit_checkpoint.py" "$ckpt" never.safetensors fill=head.presence.bias:-50
python3 "$here/edit_checkpoint.py" "$ckpt" always.safetensors fill=head.presence.bias:50
"$BIN/predict" --checkpoint never.safetensors --images in/a/x.png --out none --device cpu >"$WORK/stdout" 2>&1
check "no digit: stdout says so" grep -q "in/a/x.png: no digit" "$WORK/stdout"
check "no digit: digit, class, score and box are null" test \
  "$(json none/x.png.json '[d["present"], d["digit"], d["class"], d["score"], d["box_xyxy"]]')" = "[False, None, None, None, None]"
"$BIN/predict" --checkpoint always.safetensors --images in/a/x.png --out some --device cpu >"$WORK/stdout" 2>&1
score=$(json some/x.png.json '"%.3f" % d["score"]')
check "a digit: the printed score is the JSON's ($score)" grep -qE "in/a/x.png: [0-9] $score " "$WORK/stdout"
check "a digit: score = presence x confidence <= presence" \
  test "$(json some/x.png.json 'd["score"] <= d["presence"] and len(d["box_xyxy"]) == 4')" = True

# ---- a detector: a list of detections, each with the score it prints
"$BIN/train_gpu" --task detect --out "$WORK/det" "${TINY[@]}" --epochs 1 --steps-per-epoch 2 >"$WORK/train.log" 2>&1 ||
  { cat "$WORK/train.log"; echo "FAIL: the tiny detector run failed"; exit 1; }
# Two training steps find nothing yet: a head bias of 5 makes every anchor a confident digit.
python3 "$here/edit_checkpoint.py" "$WORK/det/checkpoint.safetensors" sure.safetensors fill=head.out.bias:5
"$BIN/predict" --checkpoint sure.safetensors --images in/a/x.png --out det_all --min-score 0 \
  --device cpu >"$WORK/stdout" 2>&1
check "detector JSON: detections with digit, class (a digit model's: the digit), score and box" \
  test "$(json det_all/x.png.json 'len(d["detections"]) > 0 and all(sorted(x) == ["box_xyxy", "class", "digit",
  "score"] and x["class"] == str(x["digit"]) for x in d["detections"])')" = True
first=$(json det_all/x.png.json '"%d %.3f" % (d["detections"][0]["digit"], d["detections"][0]["score"])')
check "detector: the printed scores are the JSON's ($first)" grep -qF "digit(s) $first" "$WORK/stdout"
"$BIN/predict" --checkpoint sure.safetensors --images in/a/x.png --out det_none --min-score 1 \
  --device cpu >/dev/null 2>&1
check "detector --min-score 1: no detections" test "$(json det_none/x.png.json 'd["detections"]')" = "[]"

# ---- flags
expect_failure "--min-score above 1" 105 "--min-score" "not in range" -- \
  "$BIN/predict" --checkpoint "$ckpt" --images in/a/x.png --out out5 --min-score 1.5
expect_failure "--min-score below 0" 105 "--min-score" -- \
  "$BIN/predict" --checkpoint "$ckpt" --images in/a/x.png --out out5 --min-score -0.1
check "--help says how outputs are named" sh -c "'$BIN/predict' --help | grep -q 'OUT/REL.overlay.png'"
check "--help says what --invert is for" sh -c "'$BIN/predict' --help | grep -q 'light digit on a dark'"
check "no output folder after refused flags" test ! -e out5
expect_unchanged "inputs at the end" "$in" "$WORK/in.sha"
finish
