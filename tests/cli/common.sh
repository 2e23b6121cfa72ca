# Shared by tests/cli/*.sh (sourced). ctest passes LOCDET_BIN_DIR (the build's bin/) and
# LOCDET_MNIST_DIR. A script exits 77 (ctest: skipped) when a binary it needs is missing,
# as in the sanitizer builds, which build only the unit tests.
set -euo pipefail
BIN=${LOCDET_BIN_DIR:?set LOCDET_BIN_DIR to the build bin/ folder}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export LOCDET_MNIST_DIR=${LOCDET_MNIST_DIR:-$ROOT/data/mnist}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/locdet_cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0

need() {
  for b in "$@"; do
    if [ ! -x "$BIN/$b" ]; then
      echo "SKIP: $BIN/$b not built"
      exit 77
    fi
  done
}
need_mnist() {
  if [ ! -f "$LOCDET_MNIST_DIR/train-images-idx3-ubyte" ] && [ ! -f "$LOCDET_MNIST_DIR/train-images-idx3-ubyte.gz" ]; then
    echo "SKIP: no MNIST in $LOCDET_MNIST_DIR (run tools/bootstrap.sh)"
    exit 77
  fi
}

# need_python MODULE...: sets PY to the project's .venv python (or $LOCDET_PYTHON) when it
# imports every module; skips the test otherwise (tools/bootstrap.sh installs them).
need_python() {
  PY=${LOCDET_PYTHON:-$ROOT/.venv/bin/python}
  local imports
  imports=$(IFS=,; echo "$*")
  if ! "$PY" -c "import $imports" 2>/dev/null; then
    echo "SKIP: $PY cannot import $* (run tools/bootstrap.sh)"
    exit 77
  fi
}

# signal_when SIGNAL FILE REGEX -- command...: runs the command in the background (output to
# $WORK/stdout, $WORK/stderr), waits until FILE has a line matching REGEX (grep -E) or the
# command ends, sends it SIGNAL and sets rc to its exit status.
signal_when() {
  local signal=$1 file=$2 pattern=$3
  shift 4
  "$@" >"$WORK/stdout" 2>"$WORK/stderr" &
  local pid=$!
  for _ in $(seq 1 1500); do
    if [ -f "$file" ] && grep -qE -- "$pattern" "$file"; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.02
  done
  kill "-$signal" "$pid" 2>/dev/null || true
  rc=0
  wait "$pid" 2>/dev/null || rc=$?
}

# expect_failure NAME EXIT_CODE "stderr fragment" [more fragments...] -- command...
# Runs the command; checks its exit code and that stderr holds every fragment.
expect_failure() {
  local name=$1 code=$2
  shift 2
  local fragments=()
  while [ "$1" != "--" ]; do
    fragments+=("$1")
    shift
  done
  shift
  local rc=0
  "$@" >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
  local ok=1
  if [ "$rc" != "$code" ]; then
    echo "FAIL [$name]: exit code $rc, expected $code"
    ok=0
  fi
  for f in "${fragments[@]}"; do
    if ! grep -qF -- "$f" "$WORK/stderr"; then
      echo "FAIL [$name]: stderr lacks '$f'"
      ok=0
    fi
  done
  if [ "$ok" = 1 ]; then
    echo "ok   [$name] exit $rc: $(head -c 300 "$WORK/stderr" | tr '\n' ' ')"
  else
    echo "     stderr was:"
    sed 's/^/       /' "$WORK/stderr" | head -20
    failures=$((failures + 1))
  fi
}

# snapshot DIR > FILE: sha256 of every file under DIR (sorted), to prove nothing changed.
snapshot() {
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
expect_unchanged() {  # NAME DIR SNAPSHOT_FILE
  if ! diff <(snapshot "$2") "$3" >"$WORK/diff"; then
    echo "FAIL [$1]: files under $2 changed:"
    sed 's/^/       /' "$WORK/diff"
    failures=$((failures + 1))
  else
    echo "ok   [$1] files untouched"
  fi
}
# dump_tool PRESET COUNT TOOL: trains a localizer 10 tiny steps on PRESET ($WORK/loc), evaluates
# COUNT validation scenes into $WORK/val.safetensors and $WORK/val.json, runs tools/TOOL on the
# dump into $WORK/out.txt (printed) and checks it exits 0. Needs need_python first.
dump_tool() {
  local preset=$1 count=$2 tool=$3 rc=0
  "$BIN/train_gpu" --task localize --preset "$preset" --out "$WORK/loc" "${TINY[@]}" --epochs 1 \
    --steps-per-epoch 10 >/dev/null 2>&1
  "$BIN/evaluate" --checkpoint "$WORK/loc/checkpoint.safetensors" --split val --count "$count" \
    --dump "$WORK/val.safetensors" --json "$WORK/val.json" >/dev/null 2>&1
  "$PY" "$ROOT/tools/$tool" "$WORK/val.safetensors" >"$WORK/out.txt" 2>&1 || rc=$?
  cat "$WORK/out.txt"
  check "$tool ran (exit $rc)" test "$rc" = 0
}
check() {  # NAME CONDITION...
  local name=$1
  shift
  if "$@"; then
    echo "ok   [$name]"
  else
    echo "FAIL [$name]: $*"
    failures=$((failures + 1))
  fi
}
finish() {
  if [ "$failures" != 0 ]; then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "all checks passed"
}

# A tiny CPU run: seconds, not minutes.
TINY=(--device cpu --width 4 --batch 8 --val-count 16 --test-count 16 --warmup 2)
