#!/usr/bin/env bash
# ONNX export checked by a second runtime: a tiny localizer and a tiny detector are trained
# here (300 CPU steps each; and a ResNet-18 localizer, a weight-averaged global-head one and one with
# binned box edges, 40 steps), exported by tools/export_onnx.py, and tools/check_onnx.py runs
# them with onnxruntime on the 300 test scenes `evaluate --dump` rendered, comparing with our
# raw outputs (<= 1e-4), decisions (identical) and metrics (accuracy, mean IoU; AP within
# 0.001). Then the exporter's bad inputs: clear errors, nothing overwritten or half-written.
# Exit 77 (skipped) when the binaries, MNIST or the .venv packages (onnx, onnxruntime,
# pycocotools: tools/bootstrap.sh installs them) are missing.
source "$(dirname "$0")/common.sh"
need train_gpu evaluate
need_mnist
need_python numpy onnx onnxruntime pycocotools
export_onnx=("$PY" "$ROOT/tools/export_onnx.py")

tiny=(--device cpu --width 4 --batch 16 --epochs 1 --warmup 20 --lr 5e-3 --val-count 32 --test-count 32
      --log-every 100)
# NAME TASK BACKBONE STEPS: the small backbone long enough to find digits (the metrics then mean
# something), the lean and ResNet-18 ones briefly (lean: other stage depths and widths; ResNet-18:
# strided blocks, projections, additions), and
# the localizer's other head (two head convs, image-level class logits) briefly, with a weight
# average (the export must use it, as evaluate does), and box edges as distributions over bins.
# EXTRA: flags.
for spec in "localize localize small 300" "detect detect small 300" "lean localize lean 40" \
            "resnet18 localize resnet18 40" "globalhead localize small 40 --class-head global --head-convs 2 --ema 0.9" \
            "binned localize small 40 --box-bins 24"; do
  read -r task kind backbone steps extra <<<"$spec"
  read -r -a extra_flags <<<"${extra:-}"
  rc=0
  "$BIN/train_gpu" --task "$kind" --model "$backbone" --steps-per-epoch "$steps" --out "$WORK/$task" "${tiny[@]}" \
    "${extra_flags[@]}" >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
  check "train a tiny $kind model, $backbone backbone (exit $rc)" test "$rc" = 0
  ckpt=$WORK/$task/checkpoint.safetensors
  "$BIN/evaluate" --device cpu --checkpoint "$ckpt" --split test --count 300 --dump "$WORK/$task.dump.safetensors" \
    >"$WORK/evaluate.$task.txt"
  check "evaluate --dump wrote 300 scenes ($task)" grep -qF "(300 scenes)" "$WORK/evaluate.$task.txt"
  "${export_onnx[@]}" "$ckpt" "$WORK/$task.onnx" >"$WORK/export.$task.txt"
  check "export_onnx wrote $task.onnx" grep -qE "^wrote .*$task.onnx .*opset 17" "$WORK/export.$task.txt"
  rc=0
  "$PY" "$ROOT/tools/check_onnx.py" "$WORK/$task.onnx" "$WORK/$task.dump.safetensors" \
    --json "$WORK/$task.figures.json" >"$WORK/check.$task.txt" 2>&1 || rc=$?
  sed 's/^/       /' "$WORK/check.$task.txt"
  check "onnxruntime agrees with our $task outputs and metrics (exit $rc)" test "$rc" = 0
done
# Tight NMS limits (pre-NMS top 60, 20 detections per image) so that both caps cut: the same
# detector, its run metadata edited; evaluate and the export both read the limits from it.
python3 "$(dirname "$0")/edit_checkpoint.py" "$WORK/detect/checkpoint.safetensors" "$WORK/tight.safetensors" \
  run.model.nms.pre_nms_topk=60
python3 "$(dirname "$0")/edit_checkpoint.py" "$WORK/tight.safetensors" "$WORK/tight.safetensors" run.model.nms.max_det=20
"$BIN/evaluate" --device cpu --checkpoint "$WORK/tight.safetensors" --count 300 --dump "$WORK/tight.dump.safetensors" \
  >/dev/null
"${export_onnx[@]}" "$WORK/tight.safetensors" "$WORK/tight.onnx" >/dev/null
rc=0
"$PY" "$ROOT/tools/check_onnx.py" "$WORK/tight.onnx" "$WORK/tight.dump.safetensors" --json "$WORK/tight.figures.json" \
  >"$WORK/check.tight.txt" 2>&1 || rc=$?
sed 's/^/       /' "$WORK/check.tight.txt"
check "onnxruntime agrees with our NMS at pre_nms_topk 60, max_det 20 (exit $rc)" test "$rc" = 0
check "both NMS caps cut in some images" "$PY" - "$WORK/detect.figures.json" "$WORK/tight.figures.json" <<'PY'
import json, sys
full, tight = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(0 if tight["detections"] < full["detections"] and tight["detections"] <= 20 * tight["scenes"] else 1)
PY

# Exact ties everywhere: with a zero output layer every image gives each class one score on
# every anchor, and boxes = the anchors. Then only tie-breaking decides which (anchor, class)
# pairs pass the pre-NMS cut, which survive NMS and their order: ours breaks ties by the lower
# anchor * classes + class index, and so must the graph. "two": classes 0 and 1 tie at the top
# (their detections interleave); "one": class 0 alone on top (max_det of it: the per-class cap).
for ties in "two 3,3" "one 3,2"; do
  read -r name top <<<"$ties"
  bias=$("$PY" -c "import json; print(json.dumps(([$top] + [2] * 8 + [0, 0, 0, 0]) * 3))")
  python3 "$(dirname "$0")/edit_checkpoint.py" "$WORK/detect/checkpoint.safetensors" "$WORK/ties.safetensors" \
    tensor.head.out.weight=0
  python3 "$(dirname "$0")/edit_checkpoint.py" "$WORK/ties.safetensors" "$WORK/ties.safetensors" "tensor.head.out.bias=$bias"
  "$BIN/evaluate" --device cpu --checkpoint "$WORK/ties.safetensors" --count 6 --dump "$WORK/ties.dump.safetensors" \
    >/dev/null
  "${export_onnx[@]}" "$WORK/ties.safetensors" "$WORK/ties.onnx" >/dev/null
  rc=0
  "$PY" "$ROOT/tools/check_onnx.py" "$WORK/ties.onnx" "$WORK/ties.dump.safetensors" --batch 4 >"$WORK/check.ties.txt" 2>&1 ||
    rc=$?
  grep -E "FAIL|NMS" "$WORK/check.ties.txt" | sed 's/^/       /'
  check "onnxruntime breaks score ties as we do ($name class(es) on top; exit $rc)" test "$rc" = 0
done

# The comparison means something only when the models found digits.
check "the tiny models learned something (accuracy, AP > 0)" "$PY" - "$WORK/localize.figures.json" \
  "$WORK/detect.figures.json" <<'PY'
import json, sys
loc, det = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(0 if loc["accuracy"] > 0.05 and loc["mean_iou"] > 0.2 and det["map50"] > 0.01 else 1)
PY

# ---- bad inputs: a clear error, the input and any existing OUT untouched, no temporary file ---------
good=$WORK/localize/checkpoint.safetensors
mkdir -p "$WORK/bad"
"$PY" -c "import sys; sys.path.insert(0, '$ROOT/tools'); import numpy as np, locdet_safetensors as s; \
s.write_safetensors(sys.argv[1], {'w': np.zeros(3, np.float32)}, {})" "$WORK/bad/plain.safetensors"
python3 "$(dirname "$0")/edit_checkpoint.py" "$good" "$WORK/bad/other_task.safetensors" task=segment
python3 "$(dirname "$0")/edit_checkpoint.py" "$good" "$WORK/bad/other_model.safetensors" 'run.model.model="vgg16"'
python3 "$(dirname "$0")/edit_checkpoint.py" "$good" "$WORK/bad/garbled.safetensors" garble
echo "an earlier export" >"$WORK/bad/existing.onnx"
snapshot "$WORK/bad" >"$WORK/bad.sha"
snapshot "$WORK/localize" >"$WORK/localize.sha"
expect_failure "export: a safetensors file without locdet metadata" 1 "without locdet's run metadata" \
  "pass a checkpoint written by train_gpu" -- "${export_onnx[@]}" "$WORK/bad/plain.safetensors" "$WORK/bad/existing.onnx"
expect_failure "export: an unknown task" 1 "a 'segment' model" "localizers (localize) and detectors (detect)" -- \
  "${export_onnx[@]}" "$WORK/bad/other_task.safetensors" "$WORK/bad/existing.onnx"
expect_failure "export: an unknown backbone" 1 "unknown model 'vgg16'" "knows small, lean and resnet18" -- \
  "${export_onnx[@]}" "$WORK/bad/other_model.safetensors" "$WORK/bad/existing.onnx"
expect_failure "export: a garbled file" 1 "is not a readable safetensors file" -- \
  "${export_onnx[@]}" "$WORK/bad/garbled.safetensors" "$WORK/bad/existing.onnx"
expect_failure "export: a missing checkpoint" 1 "cannot read" -- \
  "${export_onnx[@]}" "$WORK/bad/none.safetensors" "$WORK/bad/existing.onnx"
expect_failure "export: OUT is the checkpoint" 1 "is the checkpoint itself" -- "${export_onnx[@]}" "$good" "$good"
expect_failure "export: OUT's folder is missing" 1 "does not exist" -- \
  "${export_onnx[@]}" "$good" "$WORK/no/such/folder/model.onnx"
expect_unchanged "export's bad inputs" "$WORK/bad" "$WORK/bad.sha"
expect_unchanged "export never touches the checkpoint" "$WORK/localize" "$WORK/localize.sha"
check "no temporary file left behind" test -z "$(find "$WORK" -name '*.tmp')"
finish
