#!/usr/bin/env bash
# `bench` on the command line (CLI11, like every other program): --help and NAME --help work, an
# unknown benchmark is named with the list of benchmarks, bad options get CLI11's error, and
# --device cuda without a GPU is refused by every benchmark before it loads anything (MNIST here
# points nowhere, so a benchmark that read it first would fail with another message).
source "$(dirname "$0")/common.sh"
need bench

expect_success() {  # NAME "stdout fragment" -- command...
  local name=$1 fragment=$2 rc=0
  shift 3
  "$@" >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
  if [ "$rc" = 0 ] && grep -qF -- "$fragment" "$WORK/stdout"; then
    echo "ok   [$name]"
  else
    echo "FAIL [$name]: exit $rc, stdout lacks '$fragment' or the command failed:"
    sed 's/^/       /' "$WORK/stdout" "$WORK/stderr" | head -20
    failures=$((failures + 1))
  fi
}

expect_success "bench lists the benchmarks" "Subcommands:" -- "$BIN/bench"
expect_success "bench --help" "Subcommands:" -- "$BIN/bench" --help
names=$("$BIN/bench" --help | awk '/^Subcommands:/ {on = 1; next} on && NF {print $1}')
for expected in localizer nms ops scenes train; do
  check "bench --help names '$expected'" grep -qx "$expected" <<<"$names"
done
for name in $names; do
  expect_success "bench $name --help" "--device" -- "$BIN/bench" "$name" --help
done
expect_failure "unknown benchmark" 2 "unknown benchmark 'nope'" "localizer, nms, ops, scenes, train" -- \
  "$BIN/bench" nope
expect_failure "unknown option" 109 "not expected: --nope" "Run with --help" -- "$BIN/bench" nms --nope
expect_failure "bad value" 105 "--images: must be a positive number, got '0'" -- "$BIN/bench" nms --images 0
expect_failure "bad device" 105 "--device: tpu not in {cpu,cuda}" -- "$BIN/bench" train --device tpu

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "skip [--device cuda without a GPU]: this machine has a GPU"
else
  for name in $names; do
    expect_failure "bench $name --device cuda without a GPU" 1 "bench $name: error: bench $name --device cuda: " \
      "; use --device cpu" -- env LOCDET_MNIST_DIR="$WORK/no_mnist" "$BIN/bench" "$name" --device cuda
  done
fi
finish
