#!/usr/bin/env bash
# tools/box_errors.py on a tiny ayulockin-loc localizer's `evaluate --dump`: it reproduces the
# mean IoU evaluate reported, and on patch boxes its centre-of-mass reference holds: MNIST's
# rounding of the centre of mass, undone, gives the patch exactly; not knowing it costs IoU.
# The tiny model's own figures mean nothing here.
source "$(dirname "$0")/common.sh"
need train_gpu evaluate
need_mnist
need_python numpy

dump_tool ayulockin-loc 64 box_errors.py
check "it reproduces evaluate's mean IoU" "$PY" - "$WORK/out.txt" "$WORK/val.json" <<'PY'
import json, re, sys
mine = float(re.search(r"the model's mean IoU ([0-9.]+)", open(sys.argv[1]).read()).group(1))
theirs = json.load(open(sys.argv[2]))["mean_iou"]
sys.exit(0 if abs(mine - theirs) < 1e-4 else "%s vs evaluate's %s" % (mine, theirs))
PY
check "the centre of mass rounded down gives the patch" grep -qE "rounded down to whole pixels: mean IoU 1\.0000, 100\.0% exact" "$WORK/out.txt"
check "not knowing the rounding costs IoU (0.95..0.975)" "$PY" - "$WORK/out.txt" <<'PY'
import re, sys
v = float(re.search(r"rounding unknown\): mean IoU ([0-9.]+)", open(sys.argv[1]).read()).group(1))
sys.exit(0 if 0.95 <= v <= 0.975 else "smooth box IoU %s" % v)
PY

printf 'not a dump' >"$WORK/junk.safetensors"
expect_failure "a file that is not a dump" 1 "pass a file written by" -- \
  "$PY" "$ROOT/tools/box_errors.py" "$WORK/junk.safetensors"
expect_failure "a checkpoint instead of a dump" 1 "is not a localizer's dump" -- \
  "$PY" "$ROOT/tools/box_errors.py" "$WORK/loc/checkpoint.safetensors"
finish
