#!/usr/bin/env bash
# --patience N: training stops once the validation score has gone N epochs without improving,
# keeps the best checkpoint, says so, and still runs the test evaluation. Where it must stop
# comes from the same run without --patience (CPU training is deterministic). The resume
# logic knows about it: a run interrupted after an epoch without improvement counts on from
# its checkpoint and stops where the uninterrupted run stopped (the same best checkpoint,
# every tensor bit for bit), and resuming a run that stopped early (and was tested) says it is
# finished and changes nothing; training it longer is refused in favour of --init-from.
source "$(dirname "$0")/common.sh"
need train_gpu
need_mnist
config=("${TINY[@]}" --epochs 8 --steps-per-epoch 40 --log-every 20)
patience=2

"$BIN/train_gpu" --out "$WORK/reference" "${config[@]}" >/dev/null 2>&1
# The epoch after which --patience 2 must stop, and the best epoch then, from the reference's
# validation scores (strictly higher = improved, as train_gpu decides).
read -r stop best <<<"$(python3 - "$WORK/reference/metrics.jsonl" "$patience" <<'PY'
import json, sys
scores = [r["score"] for r in map(json.loads, open(sys.argv[1])) if r["kind"] == "val"]
patience, best, best_epoch = int(sys.argv[2]), -1.0, 0
for epoch, score in enumerate(scores, 1):
    if score > best:
        best, best_epoch = score, epoch
    elif epoch - best_epoch >= patience and epoch < len(scores):
        print(epoch, best_epoch)
        break
else:
    print(0, 0)
PY
)"
check "the reference run has a plateau of $patience epochs before its end (stop after epoch $stop)" test "$stop" -gt 0

rc=0
"$BIN/train_gpu" --out "$WORK/early" "${config[@]}" --patience "$patience" >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
check "--patience $patience exits 0 (got $rc)" test "$rc" = 0
check "it says it stopped early after epoch $stop of 8" grep -qF "early stop after epoch $stop of 8" "$WORK/stderr"
check "it says it keeps epoch $best" grep -qF "keeping the best model, epoch $best" "$WORK/stderr"
check "validation ran for epochs 1..$stop only" test "$(grep -c '"kind":"val"' "$WORK/early/metrics.jsonl")" = "$stop"
check "metrics.jsonl records the early stop" grep -q '"kind":"early_stop"' "$WORK/early/metrics.jsonl"
check "the test evaluation ran (eval.json)" test -s "$WORK/early/eval.json"
check "the best checkpoint is epoch $best's" grep -qaF "\"locdet.best_epoch\":\"$best\"" "$WORK/early/checkpoint.safetensors"
check "the stopped run scored as the reference up to the stop" python3 - "$WORK/reference/metrics.jsonl" \
  "$WORK/early/metrics.jsonl" <<'PY'
import json, sys
a, b = ([r["score"] for r in map(json.loads, open(p)) if r["kind"] == "val"] for p in sys.argv[1:])
sys.exit(0 if a[:len(b)] == b else 1)
PY

# Resuming a run that stopped early and was tested: it is finished; nothing changes.
snapshot "$WORK/early" >"$WORK/early.sha"
rc=0
"$BIN/train_gpu" --out "$WORK/early" --resume --device cpu >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
check "--resume of a stopped run exits 0 (got $rc)" test "$rc" = 0
check "--resume says the run stopped early" grep -qF "is finished: stopped early after $stop of 8 epochs (best: epoch $best" \
  "$WORK/stdout"
expect_unchanged "--resume of a stopped run" "$WORK/early" "$WORK/early.sha"
expect_failure "more epochs for a stopped run" 1 "stopped early after epoch $stop" "--init-from" -- \
  "$BIN/train_gpu" --out "$WORK/early" --resume --device cpu --epochs 12
expect_unchanged "more epochs refused" "$WORK/early" "$WORK/early.sha"

# Interrupted in the stop epoch, after an epoch without improvement: the resumed run must
# still count that epoch and stop where the uninterrupted one did.
run=$WORK/interrupted
signal_when INT "$run/metrics.jsonl" "\"epoch\":$((stop - 1)),\"kind\":\"val\"" -- \
  "$BIN/train_gpu" --out "$run" "${config[@]}" --patience "$patience"
check "SIGINT in epoch $stop (exit $rc)" test "$rc" = 130
rc=0
"$BIN/train_gpu" --out "$run" --resume --device cpu --test-count 16 >/dev/null 2>"$WORK/stderr" || rc=$?
check "the resumed run stops early too (exit $rc)" grep -qF "early stop after epoch $stop of 8" "$WORK/stderr"
check "with the same best checkpoint as the uninterrupted run (every tensor, bit for bit)" \
  python3 "$(dirname "$0")/compare_checkpoints.py" "$run/checkpoint.safetensors" "$WORK/early/checkpoint.safetensors" all 0
expect_failure "--patience cannot change on resume" 1 "drop --patience" -- \
  "$BIN/train_gpu" --out "$run" --resume --device cpu --patience 5
expect_failure "a negative --patience" 1 "--patience must be >= 0" -- \
  "$BIN/train_gpu" --out "$WORK/negative" "${config[@]}" --patience -1
finish
