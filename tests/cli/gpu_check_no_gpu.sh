#!/usr/bin/env bash
# tools/gpu_check.sh, the GPU-side entry point, on a machine without a GPU (CI): every stage must
# stop at its GPU gate with ONE line saying "no GPU" and why, exit 3, count the CUDA tests from
# their gtest XML (each test once: all skipped), and leave a valid summary.json and a log archive
# (at most 8 files) in its out folder. Stage 1 runs from a small archive of this build (the unpack
# path: a plain tar, which gpu_check.sh takes as it takes the xz one), stages 2 and 3 from the build.
source "$(dirname "$0")/common.sh"
need locdet_cuda_tests train_gpu bench evaluate predict
root=$(cd "$(dirname "$0")/../.." && pwd)
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "SKIP: this machine has a GPU (tools/gpu_check.sh runs for real there)"
  exit 77
fi
listed=$("$BIN/locdet_cuda_tests" --gtest_list_tests | grep -c '^  ')

mkdir -p "$WORK/pack/bin" "$WORK/pack/lib"
cp "$BIN"/{locdet_cuda_tests,train_gpu,bench,evaluate,predict} "$WORK/pack/bin/"
printf 'commit: test-commit\ndirty: no\nneeds_glibc: 2.0\n' >"$WORK/pack/BUILD_INFO"
tar -C "$WORK/pack" -cf "$WORK/gpu.tar" BUILD_INFO bin lib

for stage in 1 2 3; do
  out=$WORK/out$stage
  if [ "$stage" = 1 ]; then
    source_args=(--archive "$WORK/gpu.tar")
    gate=cuda_tests tests=$listed
  else
    source_args=(--build "$BIN/..")
    gate=gpu_gate tests=1
  fi
  rc=0
  LOCDET_GPU_UNPACK_DIR=$WORK/unpacked "$root/tools/gpu_check.sh" --stage "$stage" "${source_args[@]}" \
    --out "$out" >"$WORK/log$stage" 2>&1 || rc=$?
  sed 's/^/       | /' "$WORK/log$stage"
  check "stage $stage exits 3 (no GPU)" test "$rc" = 3
  check "stage $stage prints exactly one 'no GPU' line" test "$(grep -c 'no GPU' "$WORK/log$stage")" = 1
  check "stage $stage's 'no GPU' line says why" grep -q '^gpu_check: no GPU: .\{10,\}' "$WORK/log$stage"
  check "stage $stage writes at most 8 files" test "$(find "$out" -type f | wc -l)" -le 8
  check "stage $stage's logs.tar.gz holds the gate's XML" \
    bash -c "tar -tzf '$out/logs.tar.gz' | grep -qx 'logs/$gate/tests.xml'"
  # summary.json: valid JSON, the no-GPU result, the stage stopped at its gate, the counts right.
  check "stage $stage's summary.json" python3 - "$out/summary.json" "$stage" "$gate" "$tests" <<'PY'
import json, sys
path, stage, gate, tests = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = json.load(open(path))
problems = []
if s["stage"] != stage or s["result"] != "no_gpu" or not s["message"].startswith("no GPU: "):
    problems.append("stage/result/message: %r %r %r" % (s["stage"], s["result"], s["message"]))
last = s["steps"][-1]
if last["name"] != gate or last["status"] != "no_gpu":
    problems.append("the last step is %s (%s), not the gate %s: the stage went on" % (last["name"], last["status"], gate))
d = last["details"]
want = {"tests": tests, "skipped": tests, "passed": 0, "failed": 0}
got = {k: d.get(k) for k in want}
if got != want:
    problems.append("counts %r, expected %r" % (got, want))
if stage == 1 and s["build"].get("commit") != "test-commit":
    problems.append("BUILD_INFO not read from the archive: %r" % s["build"])
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY
done

expect_failure "gpu_check.sh --stage 4" 2 "--stage must be 1, 2 or 3" -- "$root/tools/gpu_check.sh" --stage 4 --out "$WORK/o"
expect_failure "gpu_check.sh without --out or \$OUT" 2 "give --out DIR" -- \
  env -u OUT "$root/tools/gpu_check.sh" --stage 1 --build "$BIN/.."
finish
