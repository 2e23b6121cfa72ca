#!/usr/bin/env bash
# Runs the CUDA tests (and, on request, compute-sanitizer and the GPU benchmarks) on a GPU
# host and prints a summary to paste into docs/GPU_VALIDATION.md.
#   tools/gpu_check.sh [--build DIR] [--sanitize] [--bench] [--out DIR]
# DIR defaults to build-gpu (made elsewhere by tools/pack_gpu_build.sh) or build/. cuDNN and
# cuBLAS may come from a Python installation (PyTorch's nvidia-* wheels): found automatically.
set -uo pipefail
cd "$(dirname "$0")/.."
build=""
sanitize=0
bench=0
out=${OUT:-gpu_check_out}
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift ;;
    --sanitize) sanitize=1 ;;
    --bench) bench=1 ;;
    --out) out=$2; shift ;;
    *) echo "usage: tools/gpu_check.sh [--build DIR] [--sanitize] [--bench] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$build" ]; then
  for candidate in build-gpu build; do
    [ -x "$candidate/bin/locdet_cuda_tests" ] && { build=$candidate; break; }
  done
fi
if [ -z "$build" ] || [ ! -x "$build/bin/locdet_cuda_tests" ]; then
  echo "gpu_check: no CUDA test binary found; build one with tools/pack_gpu_build.sh (or cmake with" \
       "-DLOCDET_CUDA=ON) and pass --build DIR" >&2
  exit 2
fi
mkdir -p "$out"

# Library search path: carried libs, the CUDA toolkit, then any pip-installed NVIDIA libs.
libs="$PWD/$build/lib"
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib; do [ -d "$d" ] && libs="$libs:$d"; done
py_libs=$(python3 - 2>/dev/null <<'PY'
import importlib, os
for name in ("nvidia.cudnn", "nvidia.cublas", "nvidia.cuda_runtime", "nvidia.nvtx", "nvidia.cu13", "nvidia.cuda_nvrtc"):
    try:
        m = importlib.import_module(name)
    except Exception:
        continue
    for p in m.__path__:
        lib = os.path.join(p, "lib")
        if os.path.isdir(lib):
            print(lib)
PY
)
for d in $py_libs; do libs="$libs:$d"; done
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -d "$build/mnist" ] && export LOCDET_MNIST_DIR=${LOCDET_MNIST_DIR:-$PWD/$build/mnist}
export LOCDET_SOURCE_DIR=$PWD

summary="$out/gpu_check_summary.txt"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'nvidia-smi not found')"
  echo "build: $build"
} | tee "$summary"
missing=$(ldd "$build/bin/locdet_cuda_tests" | grep "not found")
[ -n "$missing" ] && { echo "gpu_check: missing shared libraries:"; echo "$missing"; } | tee -a "$summary"

status=0
echo "== CUDA tests" | tee -a "$summary"
"$build/bin/locdet_cuda_tests" --gtest_output="xml:$out/cuda_tests.xml" 2>&1 | tee "$out/cuda_tests.log"
rc=${PIPESTATUS[0]}
passed=$(grep -c '^\[       OK \]' "$out/cuda_tests.log")
failed=$(grep -c '^\[  FAILED  \] [A-Za-z]' "$out/cuda_tests.log")
skipped=$(grep -c '^\[  SKIPPED \] [A-Za-z]' "$out/cuda_tests.log")
echo "cuda tests: $passed passed, $failed failed, $skipped skipped (exit $rc)" | tee -a "$summary"
# On a GPU host a skip means the GPU was not usable: that is a failure of the check.
[ "$rc" -ne 0 ] || [ "$skipped" -ne 0 ] && status=1

if [ "$sanitize" = 1 ]; then
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer --tool $tool" | tee -a "$summary"
    compute-sanitizer --tool "$tool" --error-exitcode 3 "$build/bin/locdet_cuda_tests" >"$out/sanitizer_$tool.log" 2>&1
    rc=$?
    echo "sanitizer $tool: exit $rc ($(tail -1 "$out/sanitizer_$tool.log"))" | tee -a "$summary"
    [ "$rc" -ne 0 ] && status=1
  done
fi

if [ "$bench" = 1 ] && [ -x "$build/bin/bench" ]; then
  echo "== benchmarks (cuda)" | tee -a "$summary"
  for name in $("$build/bin/bench" 2>&1 | awk '/^  /{print $1}'); do
    echo "-- bench $name --device cuda" | tee -a "$summary"
    "$build/bin/bench" "$name" --device cuda 2>&1 | tee -a "$summary"
  done
fi
echo "== result: $([ $status = 0 ] && echo PASS || echo FAIL)" | tee -a "$summary"
exit $status
