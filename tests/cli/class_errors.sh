#!/usr/bin/env bash
# tools/class_errors.py on a barely trained inf265-loc localizer's `evaluate --dump` (200
# validation scenes): it reproduces the accuracy and presence accuracy evaluate reported, and
# every table splits exactly the images with a digit and exactly the misread ones. The tiny
# model's own figures mean nothing here; it misreads enough digits for the tables to hold some.
source "$(dirname "$0")/common.sh"
need train_gpu evaluate
need_mnist
need_python numpy

dump_tool inf265-loc 200 class_errors.py
check "it reproduces evaluate's accuracy and presence accuracy" "$PY" - "$WORK/out.txt" "$WORK/val.json" <<'PY'
import json, re, sys
text, report = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
m = re.search(r"accuracy ([0-9.]+)% .*presence accuracy ([0-9.]+)%", text.splitlines()[0])
mine = (float(m.group(1)), float(m.group(2)))
theirs = (100 * report["accuracy"], 100 * report["presence_accuracy"])
sys.exit(0 if all(abs(a - b) < 0.006 for a, b in zip(mine, theirs)) else "%s vs evaluate's %s" % (mine, theirs))
PY
check "each table splits all images with a digit and all misread ones" "$PY" - "$WORK/out.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
head = re.match(r"(\d+) images, (\d+) with a digit: accuracy [0-9.]+% \((\d+) misread", text)
digits, wrong = int(head.group(2)), int(head.group(3))
if wrong == 0:
    sys.exit("the tiny model misread nothing: the tables are not exercised")
tables = text.split("\n\n")[1:]
rows = [re.findall(r"^  \S.*?\s+(\d+)\s+(\d+)\s+[0-9.]+%\s+[0-9.]+%$", t, re.M) for t in tables]
rows = [r for r in rows if r]
if len(rows) < 4:
    sys.exit("expected class, size, noise, cell and confidence tables, found %d" % len(rows))
for r in rows:
    n, e = sum(int(a) for a, _ in r), sum(int(b) for _, b in r)
    if (n, e) != (digits, wrong):
        sys.exit("a table holds %d images and %d errors, not %d and %d" % (n, e, digits, wrong))
PY

printf 'not a dump' >"$WORK/junk.safetensors"
expect_failure "a file that is not a dump" 1 "class_errors.py:" "pass a file written by" -- \
  "$PY" "$ROOT/tools/class_errors.py" "$WORK/junk.safetensors"
expect_failure "a checkpoint instead of a dump" 1 "is not a localizer's dump" -- \
  "$PY" "$ROOT/tools/class_errors.py" "$WORK/loc/checkpoint.safetensors"
expect_failure "--bins 0" 2 "--bins must be >= 1" -- \
  "$PY" "$ROOT/tools/class_errors.py" "$WORK/val.safetensors" --bins 0
finish
