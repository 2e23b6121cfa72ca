#!/usr/bin/env bash
# SIGINT mid-training: train_gpu finishes the step, writes checkpoint.last atomically,
# exits 130 and prints the command that resumes it, which works when pasted (the program's
# absolute path, the run folder quoted); that command then continues exactly where it
# stopped, so the interrupted-then-resumed run ends with the same best checkpoint (every
# tensor, bit for bit) and the same test metrics as the same run left alone (CPU;
# deterministic kernels).
source "$(dirname "$0")/common.sh"
need train_gpu
need_mnist

run="$WORK/run (1)"  # a name the shell must quote
# Started as a user would from the build folder: a relative program path.
(cd "$BIN" && exec ./train_gpu --out "$run" "${TINY[@]}" --epochs 2 --steps-per-epoch 200 --log-every 2) \
  >"$WORK/stdout" 2>"$WORK/stderr" &
pid=$!
# Wait for a few logged steps (metrics.jsonl grows every 2 steps), then interrupt.
for _ in $(seq 1 600); do
  if [ -f "$run/metrics.jsonl" ] && [ "$(wc -l <"$run/metrics.jsonl")" -ge 2 ]; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGINT exits with 130 (got $rc)" test "$rc" = 130
check "stderr says how to resume" grep -qF -- "--resume" "$WORK/stderr"
resume_line=$(sed -n 's/^  continue exactly where it stopped with: //p' "$WORK/stderr")
check "the resume line names the program by its absolute path" test "${resume_line:0:1}" = /
check "stderr names the signal and the step" grep -qE "stopped by signal 2 at step [0-9]+" "$WORK/stderr"
check "checkpoint.last exists" test -s "$run/checkpoint.last.safetensors"
check "no temporary file left behind" test -z "$(find "$run" -name '*.tmp*')"
step_at_stop=$(grep -oE "at step [0-9]+" "$WORK/stderr" | grep -oE "[0-9]+" | head -1)

# A second interrupt-free attempt must not start over silently: without --resume it refuses.
snapshot "$run" >"$WORK/run.sha"
expect_failure "rerun without --resume" 1 "already holds a run" -- "$BIN/train_gpu" --out "$run" "${TINY[@]}"
expect_unchanged "rerun without --resume" "$run" "$WORK/run.sha"
expect_failure "resume with a changed setting" 1 "drop --batch" -- "$BIN/train_gpu" --out "$run" --resume --batch 4 --device cpu
expect_unchanged "resume with a changed setting" "$run" "$WORK/run.sha"

# Resume: it must take exactly the remaining steps (the interrupt lands well inside epoch 1).
# Pasted into a shell in another folder: the printed line itself.
rc=0
(cd / && bash -c "$resume_line") >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
check "the pasted resume line finishes the run (exit $rc): $resume_line" test "$rc" = 0
check "--resume says where it continues" grep -qE "resuming .* at epoch 1/2, step [0-9]+ of 200" "$WORK/stderr"
check "the resumed run wrote eval.json" test -s "$run/eval.json"
check "the resumed run wrote the best checkpoint" test -s "$run/checkpoint.safetensors"

# The same run, never interrupted: same config (200 steps per epoch from the start).
straight=$WORK/straight
"$BIN/train_gpu" --out "$straight" "${TINY[@]}" --epochs 2 --steps-per-epoch 200 >/dev/null 2>"$WORK/stderr.straight"
check "resumed and uninterrupted runs end with the same best checkpoint (every tensor, bit for bit)" \
  python3 "$(dirname "$0")/compare_checkpoints.py" "$run/checkpoint.safetensors" "$straight/checkpoint.safetensors" all 0
check "resumed and uninterrupted runs have the same test metrics" python3 - "$run/eval.json" "$straight/eval.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
keys = ("accuracy", "mean_iou", "performance", "presence_accuracy", "confusion_matrix")
sys.exit(0 if all(a[k] == b[k] for k in keys) else 1)
PY
[ "$failures" = 0 ] || { echo "stderr of the resumed run:"; tail -n 20 "$WORK/stderr"; }
finish
