#!/usr/bin/env bash
# A run's life at the command line (docs/RELIABILITY.md): a start that fails leaves no folder
# behind; a finished run resumed says so and changes nothing; --resume --epochs N extends a
# run (config, metrics, eval.json, the training time carried on, --test-count kept);
# --init-from starts a new run from trained weights with a fresh optimizer and refuses
# another model; evaluate's --overlay is train_gpu's test overlay when it draws the same
# scenes, --mistakes draws the scenes it got wrong.
source "$(dirname "$0")/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
need train_gpu evaluate
need_mnist
json() {  # json FILE PYTHON-EXPRESSION-ON-d: prints the value
  python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"
}

# ---- a start that fails leaves nothing behind (and never removes what the user had)
expect_failure "unknown preset" 1 "unknown preset 'nope'" -- \
  "$BIN/train_gpu" --out "$WORK/new" --preset nope "${TINY[@]}"
check "no run folder after an unknown preset" test ! -e "$WORK/new"
expect_failure "a detection preset for the localizer" 1 "is a detection preset" -- \
  "$BIN/train_gpu" --out "$WORK/new" --preset det10 "${TINY[@]}"
expect_failure "a localization preset for the detector" 1 "is a localization preset" -- \
  "$BIN/train_gpu" --out "$WORK/new" --task detect --preset inf265-loc "${TINY[@]}"
check "no run folder after a wrong task/preset pair" test ! -e "$WORK/new"
expect_failure "missing MNIST" 1 "does not exist" -- \
  "$BIN/train_gpu" --out "$WORK/parent/new" --mnist "$WORK/no_mnist" "${TINY[@]}"
check "no run folder, nor its parent, after missing MNIST" test ! -e "$WORK/parent"
mkdir "$WORK/mine"
expect_failure "unknown preset into the user's empty folder" 1 "unknown preset" -- \
  "$BIN/train_gpu" --out "$WORK/mine" --preset nope "${TINY[@]}"
check "the user's empty folder is still there and empty" test -d "$WORK/mine" -a -z "$(ls -A "$WORK/mine")"
"$BIN/train_gpu" --out "$WORK/new" "${TINY[@]}" --epochs 1 --steps-per-epoch 1 >/dev/null 2>&1
check "the same --out works after the failed starts" test -s "$WORK/new/eval.json"

# ---- loss weights: each task's own defaults (localizer class 6 / box 8, detector 1 / 2); a flag wins
weights='d["model"]["class_weight"], d["model"]["box_weight"]'
check "a localizer's default loss weights are class 6, box 8" test "$(json "$WORK/new/config.json" "$weights")" = "6.0 8.0"
"$BIN/train_gpu" --out "$WORK/det_weights" --task detect "${TINY[@]}" --epochs 1 --steps-per-epoch 1 >/dev/null 2>&1
check "a detector's default loss weights are class 1, box 2" \
  test "$(json "$WORK/det_weights/config.json" "$weights")" = "1.0 2.0"

# ---- shape augmentation on a preset run: kept with the run's preset; a dataset key refused
expect_failure "a dataset augmentation key on a preset run" 1 "are for --data runs" -- \
  "$BIN/train_gpu" --out "$WORK/aug" --augment scale=0.9:1.1 "${TINY[@]}"
check "no run folder after the refused --augment" test ! -e "$WORK/aug"
"$BIN/train_gpu" --out "$WORK/aug" "${TINY[@]}" --epochs 1 --steps-per-epoch 1 \
  --augment shear=0.3,stroke=0.5 >/dev/null 2>"$WORK/aug.err"
check "the start line names the augmentation" grep -qF "(training digits: shear +-0.3, stroke +-0.5)" "$WORK/aug.err"
"$BIN/train_gpu" --out "$WORK/aug_stroke" "${TINY[@]}" --epochs 1 --steps-per-epoch 1 \
  --augment stroke=0.5 --class-weight 2 >/dev/null 2>"$WORK/aug_stroke.err"
check "--class-weight 2 is the localizer's, its box weight the default" \
  test "$(json "$WORK/aug_stroke/config.json" "$weights")" = "2.0 8.0"
check "the start line names only the augmentation used" grep -qF "(training digits: stroke +-0.5)" "$WORK/aug_stroke.err"
check "--augment shear/stroke is kept in config.json's preset" test \
  "$(json "$WORK/aug/config.json" 'round(d["preset"]["train_shear"], 4), round(d["preset"]["train_stroke"], 4)')" = "0.3 0.5"

# ---- a finished run
run=$WORK/run
"$BIN/train_gpu" --out "$run" "${TINY[@]}" --epochs 1 --steps-per-epoch 3 >"$WORK/train.log" 2>&1 ||
  { cat "$WORK/train.log"; echo "FAIL: the tiny training run failed"; exit 1; }
check "--test-count is saved with the run" test "$(json "$run/config.json" 'd["test_count"]')" = 16
check "the test used --test-count scenes" test "$(json "$run/eval.json" 'd["images"]')" = 16
cp "$run/eval.json" "$WORK/eval.epoch1.json"
snapshot "$run" >"$WORK/run.sha"
rc=0
"$BIN/train_gpu" --out "$run" --resume --device cpu >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
check "a finished run resumed exits 0 (got $rc)" test "$rc" = 0
check "it says the run is finished" grep -q "is finished: 1 of 1 epochs trained" "$WORK/stdout"
check "it says how to train longer" grep -qF -- "--resume --epochs N" "$WORK/stdout"
check "it does not train" test ! -s "$WORK/stderr"
expect_unchanged "a finished run resumed" "$run" "$WORK/run.sha"
expect_failure "--epochs below the epochs trained" 1 "has trained 1 epochs already" -- \
  "$BIN/train_gpu" --out "$run" --resume --epochs 0 --device cpu
expect_failure "--resume with a model flag" 1 "drop --width" -- "$BIN/train_gpu" --out "$run" --resume --width 8
expect_unchanged "refused changes to a finished run" "$run" "$WORK/run.sha"

# ---- extending it: the second epoch continues the step counter, the clock and the test count
rc=0
"$BIN/train_gpu" --out "$run" --resume --epochs 2 --device cpu >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
check "--resume --epochs 2 extends the run (exit $rc)" test "$rc" = 0
check "it says the schedule is recomputed" grep -q "now runs 2 epochs instead of 1" "$WORK/stderr"
check "it resumes at epoch 2" grep -q "resuming .* at epoch 2/2, step 1 of 3" "$WORK/stderr"
check "config.json says 2 epochs" test "$(json "$run/config.json" 'd["epochs"]')" = 2
check "eval.json is the extended run's" test "$(json "$run/eval.json" 'd["trained_epochs"]')" = 2
check "the extended run kept --test-count" test "$(json "$run/eval.json" 'd["images"]')" = 16
check "train_seconds grew" python3 -c "
import json, sys
before, after = (json.load(open(p))['train_seconds'] for p in sys.argv[1:])
sys.exit(0 if after > before else 1)" "$WORK/eval.epoch1.json" "$run/eval.json"
check "metrics.jsonl: the extension, then epoch 2 from step 4, the clock carried on" python3 - "$run/metrics.jsonl" <<'PY'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
kinds = [r["kind"] for r in records]
ext = kinds.index("extend")
before = [r for r in records[:ext] if "elapsed_s" in r]
after = [r for r in records[ext + 1 :] if "elapsed_s" in r]
ok = (records[ext]["from_epochs"], records[ext]["to_epochs"]) == (1, 2)
ok &= all(r["epoch"] == 2 and r["step"] > 3 for r in after)
ok &= after[0]["elapsed_s"] > before[-1]["elapsed_s"]
ok &= [r["epoch"] for r in records if r["kind"] == "val"] == [1, 2]
sys.exit(0 if ok else 1)
PY
snapshot "$run" >"$WORK/run2.sha"
"$BIN/train_gpu" --out "$run" --resume --device cpu >"$WORK/stdout" 2>&1
check "the extended run is finished" grep -q "is finished: 2 of 2 epochs" "$WORK/stdout"
expect_unchanged "the extended run resumed again" "$run" "$WORK/run2.sha"

# ---- --init-from: the trained weights, a fresh optimizer, the same model
ckpt=$run/checkpoint.safetensors
tuned=$WORK/tuned
rc=0
"$BIN/train_gpu" --init-from "$ckpt" --out "$tuned" --device cpu --batch 8 --val-count 16 --test-count 16 \
  --epochs 1 --steps-per-epoch 1 --lr 1e-9 --warmup 0 >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
check "--init-from trains (exit $rc)" test "$rc" = 0
check "it says where the weights come from" grep -qF "starting from the weights of $ckpt" "$WORK/stderr"
check "config.json names the checkpoint it started from" test "$(json "$tuned/config.json" 'd["init_from"]')" = "$ckpt"
check "the model (width 4) comes from the checkpoint" test "$(json "$tuned/config.json" 'd["model"]["width"]')" = 4
check "the weights are the checkpoint's (one step at lr 1e-9)" \
  python3 "$here/compare_checkpoints.py" "$tuned/checkpoint.last.safetensors" "$ckpt" weights 1e-6
check "the optimizer started fresh (step counter 1)" \
  python3 "$here/compare_checkpoints.py" "$tuned/checkpoint.last.safetensors" - step 1
snapshot "$run" >"$WORK/run3.sha"
expect_failure "--init-from with a model flag" 1 "--init-from takes the model" "drop --width" -- \
  "$BIN/train_gpu" --init-from "$ckpt" --out "$WORK/t1" --width 8 --device cpu
expect_failure "--init-from a localizer for a detector" 1 "checkpoint of a 'localize' model" "drop --task" -- \
  "$BIN/train_gpu" --init-from "$ckpt" --out "$WORK/t1" --task detect --device cpu
expect_failure "--init-from onto a preset of another size" 1 "100x100 but the model expects 48x60" "--init-from" -- \
  "$BIN/train_gpu" --init-from "$ckpt" --out "$WORK/t1" --preset ayulockin-loc --device cpu
python3 "$here/edit_checkpoint.py" "$ckpt" "$WORK/wider.safetensors" width=8
expect_failure "--init-from a checkpoint whose weights are not its model's" 1 "does not match the model" -- \
  "$BIN/train_gpu" --init-from "$WORK/wider.safetensors" --out "$WORK/t1" --device cpu --batch 8 --val-count 16
expect_failure "--init-from a missing file" 1 "cannot open checkpoint" -- \
  "$BIN/train_gpu" --init-from "$WORK/none.safetensors" --out "$WORK/t1" --device cpu
expect_failure "--init-from with --resume" 1 "pass only one of them" -- \
  "$BIN/train_gpu" --init-from "$ckpt" --out "$run" --resume
check "no run folder after the refused --init-from starts" test ! -e "$WORK/t1"
expect_unchanged "the source run" "$run" "$WORK/run3.sha"

# ---- evaluate's pictures: --overlay is the test overlay when it draws the same scenes
"$BIN/evaluate" --checkpoint "$ckpt" --device cpu --count 16 --overlay "$WORK/first.png" \
  --mistakes "$WORK/mistakes.png" >"$WORK/stdout" 2>&1
check "evaluate --overlay on the run's test scenes is overlays/test.png" cmp -s "$WORK/first.png" "$run/overlays/test.png"
check "evaluate --mistakes wrote its picture" test -s "$WORK/mistakes.png"
check "evaluate says how many scenes each shows" grep -q "with a mistake" "$WORK/stdout"
finish
