#!/usr/bin/env bash
# The GPU validation, in three stages that each fit one device-tool command (docs/GPU_VALIDATION.md
# gives the exact calls). Runs on the GPU host, from the repository root:
#
#   tools/gpu_check.sh --stage 1|2|3 [--archive carry/gpu.tar.xz | --build DIR] [--out DIR] [--budget S]
#
# stage 1  host facts; ldd -r of the carried binaries; the CUDA tests (counts from their gtest XML);
#          a short GPU training run of the localizer and of the detector with their test metrics
#          (train_gpu must report a captured CUDA Graph step); evaluate and predict on those runs
# stage 2  benchmarks against a peer on the same GPU in one run, each printing a ratio: batched NMS
#          vs torchvision.ops.batched_nms at 256 images x 1000 boxes (the same kept set), scene
#          rendering CUDA vs the host's CPU cores, our training steps vs their PyTorch twins
#          (tools/torch_twin.py) eager and under torch.compile
# stage 3  compute-sanitizer memcheck and racecheck on the tests of our own kernels, then ncu on one
#          captured training step: the ten most expensive kernels with time, achieved occupancy and
#          memory throughput
#
# --archive (default carry/gpu.tar.xz, made by tools/pack_gpu_build.sh) is unpacked into carry/gpu/
# (or $LOCDET_GPU_UNPACK_DIR; any tar holding BUILD_INFO and bin/ will do, compressed or not);
# --build DIR uses a build folder
# instead (bin/ there; MNIST from LOCDET_MNIST_DIR or data/mnist). tools/gpu_env.sh sets the rest.
# Every step runs under its own `timeout`, cut to what is left of the stage's budget (default 230 s),
# so the stage ends with its summary inside one device command. Steps come most telling first.
# Writes to --out (default $OUT): summary.json (rewritten after every step), logs.tar.gz (every
# step's log and files) and, in stage 3, profile.ncu-rep: never more than 8 files.
# Prints one line per step and the result. Exit: 0 passed, 1 a step failed or did not run,
# 2 bad usage, 3 no GPU (one line says why; the stage stops at once).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
stage="" archive="" build="" out=${OUT:-} budget=230
usage() {
  echo "usage: tools/gpu_check.sh --stage 1|2|3 [--archive FILE | --build DIR] [--out DIR] [--budget SECONDS]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage=${2:-}; shift 2 || usage ;;
    --archive) archive=${2:-}; shift 2 || usage ;;
    --build) build=${2:-}; shift 2 || usage ;;
    --out) out=${2:-}; shift 2 || usage ;;
    --budget) budget=${2:-}; shift 2 || usage ;;
    *) echo "gpu_check: unknown argument '$1'" >&2; usage ;;
  esac
done
case "$stage" in 1 | 2 | 3) ;; *) echo "gpu_check: --stage must be 1, 2 or 3" >&2; usage ;; esac
[[ "$budget" =~ ^[0-9]+$ ]] || { echo "gpu_check: --budget must be a number of seconds" >&2; usage; }
[ -n "$out" ] || { echo "gpu_check: give --out DIR (on the device machine \$OUT is the default)" >&2; usage; }
[ -n "$archive" ] && [ -n "$build" ] && { echo "gpu_check: give --archive or --build, not both" >&2; usage; }
[ -z "$build" ] && archive=${archive:-carry/gpu.tar.xz}
if [ -n "$build" ] && [ ! -d "$build/bin" ]; then
  echo "gpu_check: $build/bin does not exist; give a build folder (or --archive)" >&2
  exit 2
fi
mkdir -p "$out" && out=$(cd "$out" && pwd) || exit 2

work=$(mktemp -d "${TMPDIR:-/tmp}/locdet_gpu_check.XXXXXX")
trap 'rm -rf "$work"' EXIT
logs=$work/logs steps=$work/steps.jsonl
mkdir -p "$logs" && : >"$steps"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_s=$(date +%s)
deadline=$((start_s + budget))
reserve=10  # seconds kept back for the summary and the log archive
host_ld=${LD_LIBRARY_PATH:-}
tree_commit=$(git rev-parse HEAD 2>/dev/null || true)
build_info=$work/BUILD_INFO
echo "source: ${archive:-build folder $build}" >"$build_info"
export root logs stage

report() { LD_LIBRARY_PATH=$host_ld python3 "$root/tools/gpu_report.py" "$@"; }
write_summary() {  # [--final] [--message TEXT]
  report summary --steps "$steps" --stage "$stage" --out "$out/summary.json" --build-info "$build_info" \
    --tree-commit "$tree_commit" --started "$started" --finished "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --budget "$budget" "$@"
  tar -C "$work" --exclude='*.safetensors' --exclude='*.ncu-rep' -czf "$out/logs.tar.gz.tmp" logs steps.jsonl &&
    mv -f "$out/logs.tar.gz.tmp" "$out/logs.tar.gz"
}
finish() {  # CODE|from-result [MESSAGE]: the final summary, one closing line, exit
  local result code=$1
  result=$(write_summary --final ${2:+--message "$2"})
  [ "$code" = from-result ] && { [ "$result" = pass ] && code=0 || code=1; }
  echo "gpu_check stage $stage: result $result after $(($(date +%s) - start_s)) s; wrote" \
    "$(cd "$out" && ls | tr '\n' ' ')to $out"
  exit "$code"
}

# run_step NAME KIND MAX_SECONDS [--target X] -- COMMAND...: runs COMMAND (a command or an exported
# function) in logs/NAME/ with its output in logs/NAME/log.txt, then lets gpu_report.py judge it.
# Returns gpu_report.py's code: 0 pass, 1 fail/timeout/not run, 3 no GPU.
run_step() {
  local name=$1 kind=$2 max=$3 target=0
  shift 3
  if [ "$1" = --target ]; then target=$2; shift 2; fi
  [ "$1" = -- ] && shift
  local dir=$logs/$name code
  mkdir -p "$dir"
  local limit=$((deadline - $(date +%s) - reserve))
  ((limit > max)) && limit=$max
  if ((limit < 5)); then
    report step --steps "$steps" --name "$name" --kind "$kind" --dir "$dir" \
      --not-run "not run: the stage's $budget s budget was spent"
    code=$?
  else
    local t0 t1 rc
    t0=$(date +%s%N)
    (cd "$dir" && timeout -k 5 "$limit" bash -c '"$@"' _ "$@") >"$dir/log.txt" 2>&1
    rc=$?
    t1=$(date +%s%N)
    report step --steps "$steps" --name "$name" --kind "$kind" --dir "$dir" --rc "$rc" --limit "$limit" \
      --target "$target" --seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) / 1e9}')"
    code=$?
  fi
  write_summary >/dev/null
  return "$code"
}

# ---- the steps (each runs in its own folder under logs/, under timeout) -------------------------

step_unpack() {  # ARCHIVE DEST: a fresh copy every time (a few seconds)
  local archive=$1 dest=$2
  [ -f "$archive" ] || { echo "no $archive: make it with tools/pack_gpu_build.sh and name it in carry"; return 1; }
  rm -rf "$dest.new" && mkdir -p "$dest.new" || return 1
  if ! tar -C "$dest.new" -xf "$archive"; then
    echo "tar could not unpack $archive (no xz on this host?); unpacking with python3's tarfile instead"
    rm -rf "$dest.new" && mkdir -p "$dest.new" || return 1
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$archive" "$dest.new" ||
      return 1
  fi
  rm -rf "$dest" && mv "$dest.new" "$dest" || return 1
  cat "$dest/BUILD_INFO"
  du -sh "$dest"/*
}

step_facts() {
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "os: $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-?}")"
    echo "kernel: $(uname -r)"
    echo "glibc: $(getconf GNU_LIBC_VERSION | awk '{print $2}')"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) threads"
    echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    if command -v nvidia-smi >/dev/null 2>&1; then
      echo "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)"
      echo "gpu_clocks_max: $(nvidia-smi --query-gpu=clocks.max.sm,clocks.max.mem --format=csv,noheader 2>&1 | head -1)"
      echo "cuda_driver: $(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | awk '{print $3}')"
      nvidia-smi >nvidia-smi.txt 2>&1
    else
      echo "gpu: none (nvidia-smi not found)"
    fi
    echo "nvcc: $(nvcc --version 2>/dev/null | sed -n 's/.*release .*, V\([0-9.]*\).*/\1/p')"
    echo "compute_sanitizer: $(compute-sanitizer --version 2>/dev/null | grep -o 'Version [0-9.]*' | head -1)"
    echo "ncu: $(ncu --version 2>/dev/null | tail -1)"
    echo "python: $(command -v "$LOCDET_TORCH_PYTHON") $("$LOCDET_TORCH_PYTHON" --version 2>&1)"
    [ "$stage" = 3 ] || LD_LIBRARY_PATH=$LOCDET_HOST_LD_LIBRARY_PATH "$LOCDET_TORCH_PYTHON" - <<'PY' 2>&1
import importlib
def version(name):
    try:
        return importlib.import_module(name).__version__
    except Exception as e:
        return "not importable (%s)" % type(e).__name__
print("torch:", version("torch"))
try:
    import torch
    print("torch_cuda: cuda %s, %s" % (torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU visible"))
    print("torch_cudnn:", torch.backends.cudnn.version())
except Exception:
    pass
print("torchvision:", version("torchvision"))
print("triton:", version("triton"))
PY
    echo "nvidia_lib_dirs: ${LOCDET_NVIDIA_LIB_DIRS:-none found}"
    local d wheels=""
    for d in ${LOCDET_NVIDIA_LIB_DIRS//:/ }; do
      wheels="$wheels $(ls "$d/../../.." 2>/dev/null | grep -E '^nvidia_.*\.dist-info$' | sed 's/\.dist-info$//' | tr '\n' ' ')"
    done
    echo "nvidia_wheels: $(echo "$wheels" | tr ' ' '\n' | sort -u | tr '\n' ' ')"
    echo "ld_library_path: $LD_LIBRARY_PATH"
  } >facts.txt
  cat facts.txt
}

step_ldd() {  # every carried binary and library: ldd -r, and the glibc they need against this host's
  shopt -s nullglob
  local f
  for f in "$LOCDET_BIN_DIR"/{locdet_cuda_tests,train_gpu,bench,evaluate,predict} "$LOCDET_GPU_DIR"/lib/*; do
    echo "== ${f#"$LOCDET_GPU_DIR"/}"
    if [ -e "$f" ]; then ldd -r "$f" 2>&1 | sed 's/^/  /'; else echo "  not found: the file itself"; fi
  done >ldd.txt
  {
    echo "host_glibc: $(getconf GNU_LIBC_VERSION | awk '{print $2}')"
    echo "needs_glibc: $(awk '/^needs_glibc:/ {print $2}' "$LOCDET_GPU_DIR/BUILD_INFO" 2>/dev/null)"
  } >glibc.txt
  cat ldd.txt glibc.txt
}

step_cuda_tests() {  # [gtest flags...]
  "$LOCDET_BIN_DIR/locdet_cuda_tests" --gtest_output=xml:tests.xml "$@"
}

step_train() {  # localize|detect: one short epoch on the GPU, then the test split
  local task=$1 preset=inf265-loc counts=(--val-count 2000 --test-count 10000)
  [ "$task" = detect ] && preset=det10 counts=(--val-count 1000 --test-count 5000)
  "$LOCDET_BIN_DIR/train_gpu" --task "$task" --preset "$preset" --device cuda --epochs 1 \
    --steps-per-epoch 1000 --log-every 100 "${counts[@]}" --out run
}

step_evaluate() {  # evaluate each trained checkpoint again, predict on an image
  local task run count rc=0
  for task in localizer detector; do
    run=$logs/train_$task/run
    [ -f "$run/eval.json" ] || { echo "no $run/eval.json: that training step failed"; rc=1; continue; }
    cp "$run/eval.json" "ref_$task.json"
    count=$(grep -o '"images": *[0-9]*' "$run/eval.json" | grep -o '[0-9]*$')
    "$LOCDET_BIN_DIR/evaluate" --checkpoint "$run/checkpoint.safetensors" --split test --count "$count" \
      --device cuda --json "eval_$task.json" || rc=1
  done
  run=$logs/train_localizer/run
  "$LOCDET_BIN_DIR/predict" --checkpoint "$run/checkpoint.safetensors" --images "$run/overlays/test.png" \
    --out predict --device cuda || rc=1
  return $rc
}

step_bench_pair() {  # WHICH ROUNDS [more bench_vs_torch.sh flags]
  "$root/tools/bench_vs_torch.sh" --build "$LOCDET_GPU_DIR" --device cuda --which "$1" --rounds "$2" \
    --threads 4 --steps 200 --iters 50 "${@:3}"
}

step_scenes() {  # CUDA scene rendering against the renderer on all of this host's CPU cores
  echo "threads: $(nproc)" >threads.txt
  OMP_NUM_THREADS=$(nproc) "$LOCDET_BIN_DIR/bench" scenes --device cpu --seconds 2 | tee cpu.txt &&
    "$LOCDET_BIN_DIR/bench" scenes --device cuda --seconds 2 | tee cuda.txt
}

# The CUDA tests of our own kernels: all but those whose GPU work is cuDNN's or cuBLAS's
# (convolutions, linear layers, whole training steps); a new test is included by default.
own_kernel_tests='*-CudaSmoke.CublasAndCudnnHandles:CudaKernels.ConvMatchesCpu:CudaKernels.LinearMatchesCpu'
own_kernel_tests+=':ExecutorCuda.MatchesCpuExecutor:ExecutorCuda.GraphReplayEqualsEager'
own_kernel_tests+=':DetectorCuda.TrainingStepsMatchCpuAndGraphReplayEqualsEager:DetectorCuda.InferenceWithNmsMatchesCpu'
export own_kernel_tests

step_sanitizer() {  # memcheck|racecheck
  compute-sanitizer --tool "$1" --error-exitcode 3 --print-limit 50 "$LOCDET_BIN_DIR/locdet_cuda_tests" \
    --gtest_filter="$own_kernel_tests" --gtest_output=xml:tests.xml
}

ncu_metrics=gpu__time_duration.sum,sm__warps_active.avg.pct_of_peak_sustained_active
ncu_metrics+=,gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed
ncu_metrics+=,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__throughput.avg.pct_of_peak_sustained_elapsed
export ncu_metrics

step_ncu() {  # one captured localizer training step (bench --profile-step), every kernel node of it
  # LOCDET_OMP_DEFAULTS=0: no re-exec of bench for its OpenMP settings under the profiler.
  local step=(env LOCDET_OMP_DEFAULTS=0 "$LOCDET_BIN_DIR/bench" localizer --device cuda --steps 5 --profile-step)
  ncu --clock-control none --profile-from-start off --graph-profiling node --metrics "$ncu_metrics" \
    -o step --force-overwrite "${step[@]}" || return 1
  ncu --import step.ncu-rep --csv --page raw --print-units base --metrics "$ncu_metrics" >kernels.csv || return 1
  if [ "$(grep -c '^"[0-9]' kernels.csv)" = 0 ]; then
    echo "no kernel between cudaProfilerStart/Stop; again, selecting the NVTX range profiled_step"
    ncu --clock-control none --nvtx --nvtx-include 'profiled_step/' --graph-profiling node \
      --metrics "$ncu_metrics" -o step --force-overwrite "${step[@]}" || return 1
    ncu --import step.ncu-rep --csv --page raw --print-units base --metrics "$ncu_metrics" >kernels.csv
  fi
}

export -f step_unpack step_facts step_ldd step_cuda_tests step_train step_evaluate step_bench_pair \
  step_scenes step_sanitizer step_ncu

# ---- the stage --------------------------------------------------------------------------------------

echo "gpu_check stage $stage: ${archive:-build folder $build}; budget $budget s; out $out"
if [ -n "$archive" ]; then
  [[ "$archive" = /* ]] || archive=$root/$archive
  export LOCDET_GPU_DIR=${LOCDET_GPU_UNPACK_DIR:-$root/carry/gpu}
  run_step unpack plain 60 -- step_unpack "$archive" "$LOCDET_GPU_DIR" ||
    finish 1 "the archive could not be unpacked"
  cp "$LOCDET_GPU_DIR/BUILD_INFO" "$build_info"
else
  export LOCDET_GPU_DIR=$build
  [ -d "$root/data/mnist" ] && export LOCDET_MNIST_DIR=${LOCDET_MNIST_DIR:-$root/data/mnist}
fi
# shellcheck source=tools/gpu_env.sh
source "$root/tools/gpu_env.sh" || finish 2 "tools/gpu_env.sh failed"
export LOCDET_SOURCE_DIR=$root  # the CUDA tests' fixtures (tests/golden)

run_step facts facts 45 -- step_facts
run_step ldd ldd 20 -- step_ldd || {
  echo "gpu_check: the carried binaries do not load on this host (see ldd above); stage $stage stops here"
  finish 1 "the carried binaries do not load on this host"
}
if [ "$stage" = 1 ]; then
  run_step cuda_tests gtest 100 -- step_cuda_tests
else
  run_step gpu_gate gtest 30 -- step_cuda_tests --gtest_filter=CudaSmoke.TrivialKernelRuns
fi
case $? in
  3) finish 3 ;;
  0) ;;
  *) [ "$stage" != 1 ] && {
       echo "gpu_check: the CUDA smoke test failed on this GPU; stage $stage stops here (see its log)"
       finish 1 "the CUDA smoke test failed"
     } ;;
esac

case "$stage" in
  1)
    run_step train_localizer train 60 -- step_train localize
    run_step train_detector train 60 -- step_train detect
    run_step evaluate_predict evaluate 40 -- step_evaluate
    ;;
  2)
    # Targets from docs/BENCHMARKS.md; a missed target is reported, an error fails the step.
    run_step nms_vs_torchvision bench_pair 60 --target 10 -- step_bench_pair nms 3
    run_step scenes scenes 30 --target 1e7 -- step_scenes
    run_step train_vs_torch bench_pair 60 --target 2 -- step_bench_pair train 3
    run_step localizer_vs_torch bench_pair 60 -- step_bench_pair localizer 3
    # One round under torch.compile: each twin process compiles its model first (tens of seconds).
    run_step train_vs_compile bench_pair 90 --target 1.3 -- step_bench_pair train 1 --torch-compile
    run_step localizer_vs_compile bench_pair 90 -- step_bench_pair localizer 1 --torch-compile
    ;;
  3)
    run_step memcheck sanitizer 70 -- step_sanitizer memcheck
    run_step racecheck sanitizer 70 -- step_sanitizer racecheck
    run_step ncu_one_step ncu 90 -- step_ncu
    rep=$logs/ncu_one_step/step.ncu-rep
    if [ -f "$rep" ] && [ "$(stat -c %s "$rep")" -lt $((15 * 1024 * 1024)) ]; then cp "$rep" "$out/profile.ncu-rep"; fi
    ;;
esac
finish from-result
