#!/usr/bin/env bash
# TensorBoard events written by train_gpu itself, read back with the tensorboard package's
# EventAccumulator (tests/cli/read_tensorboard.py): every numeric field of metrics.jsonl is a
# scalar KIND/FIELD at its step, the validation overlay an image per epoch (localizer and
# detector). A run killed (SIGKILL) after it logged part of its second epoch and then resumed
# from its last checkpoint must show in TensorBoard exactly the curves of the same run left
# alone: each step once, the same values. Exit 77 (skipped) without the binaries, MNIST or the
# tensorboard package in .venv (tools/bootstrap.sh installs it).
source "$(dirname "$0")/common.sh"
need train_gpu
need_mnist
need_python numpy tensorboard.backend.event_processing.event_accumulator
read_tb=("$PY" "$(dirname "$0")/read_tensorboard.py")
config=("${TINY[@]}" --epochs 2 --steps-per-epoch 300 --log-every 4)

# An uninterrupted localizer run, and a tiny detector run: the events match metrics.jsonl.
"$BIN/train_gpu" --out "$WORK/straight" "${config[@]}" >/dev/null 2>"$WORK/stderr"
check "the localizer events hold metrics.jsonl and the overlays" "${read_tb[@]}" "$WORK/straight"
"$BIN/train_gpu" --task detect --out "$WORK/detect" "${TINY[@]}" --epochs 2 --steps-per-epoch 10 --log-every 5 \
  >/dev/null 2>"$WORK/stderr"
check "the detector events hold metrics.jsonl and the overlays" "${read_tb[@]}" "$WORK/detect"

# The same localizer run killed in its second epoch, after the epoch-1 checkpoint and some
# logged steps, then resumed: those steps are logged again, and TensorBoard must keep only
# the resumed run's values.
run=$WORK/killed
signal_when KILL "$run/metrics.jsonl" '"epoch":2,.*"step":3[2-9][0-9]' -- "$BIN/train_gpu" --out "$run" "${config[@]}"
check "the run was killed in its second epoch (exit $rc)" test "$rc" = 137 -a ! -f "$run/eval.json"
rc=0
"$BIN/train_gpu" --out "$run" --resume --device cpu --test-count 16 --log-every 4 >/dev/null 2>"$WORK/stderr" || rc=$?
check "--resume finishes (exit $rc)" test "$rc" = 0
check "the resumed run wrote a second events file" test "$(ls "$run"/events.out.tfevents.* | wc -l)" = 2
check "TensorBoard shows one continuous run, equal to the uninterrupted one" \
  "${read_tb[@]}" "$run" --same-as "$WORK/straight"
finish
