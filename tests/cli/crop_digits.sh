#!/usr/bin/env bash
# tools/crop_digits.py (the README's oracle probe): one crop per box of make_dataset's CSV, in
# the same split folders, each SIZE x SIZE with its box inside; detection scenes give one crop
# per digit; train_gpu --data trains on the result; a bad input is refused with nothing written.
source "$(dirname "$0")/common.sh"
need train_gpu make_dataset
need_mnist
need_python PIL

for split in train val test; do
  "$BIN/make_dataset" --preset inf265-loc --split "$split" --count 40 --out "$WORK/loc/$split" \
    --format png,csv >/dev/null
done
"$BIN/make_dataset" --preset det10 --split val --count 10 --out "$WORK/det" --format png,csv >/dev/null

"$PY" "$ROOT/tools/crop_digits.py" "$WORK/loc" "$WORK/crops" >"$WORK/out.txt"
cat "$WORK/out.txt"
check "one 28x28 crop per digit, its box inside, in each split" "$PY" - "$WORK/loc" "$WORK/crops" <<'PY'
import csv, sys
from PIL import Image
scenes, crops = sys.argv[1:]
for split in ("train", "val", "test"):
    boxes = [r for r in csv.DictReader(open("%s/%s/annotations.csv" % (scenes, split))) if r["class"]]
    rows = list(csv.DictReader(open("%s/%s/annotations.csv" % (crops, split))))
    if len(rows) != len(boxes) or not boxes:
        sys.exit("%s: %d crops for %d digits" % (split, len(rows), len(boxes)))
    for r, b in zip(rows, boxes):
        im = Image.open("%s/%s/%s" % (crops, split, r["file"]))
        x1, y1, x2, y2 = (float(r[k]) for k in ("x1", "y1", "x2", "y2"))
        if im.size != (28, 28) or r["class"] != b["class"] or not (0 < x1 < x2 < 28 and 0 < y1 < y2 < 28):
            sys.exit("%s: %s is %s, class %s (scene: %s), box %s" % (split, r["file"], im.size, r["class"],
                                                                     b["class"], (x1, y1, x2, y2)))
        # the longer side spans 28 / 1.15 minus the 2-pixel pad
        side = max(x2 - x1, y2 - y1)
        if not 20 < side < 24.4:
            sys.exit("%s: the box's longer side is %.2f px of the crop" % (r["file"], side))
PY

"$PY" "$ROOT/tools/crop_digits.py" "$WORK/det" "$WORK/det_crops" --size 32 >/dev/null
check "a detection scene gives one crop per digit" "$PY" - "$WORK/det" "$WORK/det_crops" <<'PY'
import csv, sys
from PIL import Image
boxes = list(csv.DictReader(open(sys.argv[1] + "/annotations.csv")))
rows = list(csv.DictReader(open(sys.argv[2] + "/annotations.csv")))
if len(rows) != len(boxes) or len(boxes) <= 10:
    sys.exit("%d crops for %d boxes in 10 scenes" % (len(rows), len(boxes)))
if len({r["file"] for r in rows}) != len(rows) or Image.open(sys.argv[2] + "/" + rows[0]["file"]).size != (32, 32):
    sys.exit("crop names collide or the size is not 32")
PY

"$BIN/train_gpu" --task localize --data "$WORK/crops" --input 28x28 --out "$WORK/run" "${TINY[@]}" \
  --epochs 1 --steps-per-epoch 2 >"$WORK/train.txt" 2>&1 || true
check "train_gpu --data trains on the crops" grep -q "input 28x28 | 10 classes" "$WORK/train.txt"
check "and tests on their test split" test -f "$WORK/run/eval.json"

snapshot "$WORK/crops" >"$WORK/before"
expect_failure "an output folder that exists" 1 "exists: name a new folder" -- \
  "$PY" "$ROOT/tools/crop_digits.py" "$WORK/loc" "$WORK/crops"
expect_unchanged "an output folder that exists" "$WORK/crops" "$WORK/before"
mkdir "$WORK/empty"
expect_failure "a folder without annotations" 1 "neither annotations.csv nor" -- \
  "$PY" "$ROOT/tools/crop_digits.py" "$WORK/empty" "$WORK/none"
printf 'file,x1,y1,x2,y2,class\nimages/val_000000.png,5,5,3,9,1\n' >"$WORK/det/annotations.csv"
expect_failure "an empty box" 1 "empty box" -- "$PY" "$ROOT/tools/crop_digits.py" "$WORK/det" "$WORK/bad"
check "a refused run leaves no folder behind" bash -c "! ls -a '$WORK' | grep -q -e '^none' -e '^bad' -e '^\.none' -e '^\.bad'"
finish
