#!/usr/bin/env bash
# Our benchmarks against their PyTorch twins (tools/torch_twin.py), measured in the same run and
# interleaved (ours, torch, ours, torch, ...) so that load from other processes hits both alike.
# Same thread count for both: OMP_NUM_THREADS for us, torch.set_num_threads for the twin.
#
#   tools/bench_vs_torch.sh [--build build] [--rounds 3] [--threads 2] [--which train,localizer,nms]
#                           [--steps 10] [--iters 20] [--width 16] [--device cpu|cuda] [--torch-compile]
# --which: a comma-separated list of train (bench train), localizer (bench localizer), nms (bench nms
# at 256 images x 1000 boxes against torchvision.ops.batched_nms; both must keep the same set);
# "both" means train,localizer. --device cuda runs both on the GPU (ours replays a CUDA Graph);
# --torch-compile times the training twins under torch.compile instead of eager (on a GPU that needs
# triton in the torch venv). The twin runs with $LOCDET_TORCH_PYTHON when set (the GPU host's
# python3; tools/gpu_env.sh sets it, and LOCDET_HOST_LD_LIBRARY_PATH for it), else with .venv-torch
# (tools/setup_torch.sh). The localizer needs MNIST.
# Prints each round's images_per_second, the medians and ratio = ours / torch (>= 1: we are faster).
# Exits non-zero when a run fails or, for nms, when the kept sets differ.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
rounds=3
threads=2
which=train,localizer
steps=10
iters=20
width=16
device=cpu
compile=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --which) which="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --width) width="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --torch-compile) compile="--compile"; shift ;;
    *) echo "bench_vs_torch.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
bench="$build/bin/bench"
[[ -x "$bench" ]] || { echo "bench_vs_torch.sh: no $bench; build first (cmake --build $build --target bench)" >&2; exit 1; }
[[ "$which" == both ]] && which=train,localizer
if [[ -n "${LOCDET_TORCH_PYTHON:-}" ]]; then
  twin=(env "LD_LIBRARY_PATH=${LOCDET_HOST_LD_LIBRARY_PATH-${LD_LIBRARY_PATH:-}}" "$LOCDET_TORCH_PYTHON")
else
  twin=("$root/tools/torch_env.sh" python)
fi

ips() { awk '/^images_per_second:/ {print $2}'; }
value() { awk -v k="$1:" '$1 == k {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

run_pair() {  # name, our bench args, twin args[, a key both must print equal]
  local name="$1" ours_args="$2" twin_args="$3" same="${4:-}" ours=() torch=() a_out b_out differ=0
  echo "== $name: $device, twin $twin_args, $rounds rounds, $threads threads, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  for ((r = 1; r <= rounds; ++r)); do
    local a b
    a_out=$(OMP_NUM_THREADS=$threads "$bench" $ours_args)
    b_out=$(OMP_NUM_THREADS=$threads "${twin[@]}" "$root/tools/torch_twin.py" $twin_args \
        --threads "$threads" --device "$device")
    a=$(echo "$a_out" | ips)
    b=$(echo "$b_out" | ips)
    ours+=("$a")
    torch+=("$b")
    echo "round $r: locdet $a  torch $b  ratio $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')"
    if [[ -n "$same" ]]; then
      echo "round $r: $same locdet $(echo "$a_out" | value "$same")  torch $(echo "$b_out" | value "$same")"
      [[ "$(echo "$a_out" | value "$same")" == "$(echo "$b_out" | value "$same")" ]] || differ=1
    fi
  done
  local ma mb
  ma=$(printf '%s\n' "${ours[@]}" | median)
  mb=$(printf '%s\n' "${torch[@]}" | median)
  echo "$name locdet images_per_second (median): $ma"
  echo "$name torch images_per_second (median): $mb"
  echo "$name ratio locdet/torch (of medians): $(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.2f", a / b}')"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  if ((differ)); then
    echo "bench_vs_torch.sh: $name: locdet and torch printed different $same: they did not do the same work" >&2
    return 1
  fi
}

for part in ${which//,/ }; do
  case "$part" in
    train)
      run_pair "train (bench CNN, batch 64)" "train --device $device --batch 64 --steps $steps" \
        "bench-train --batch 64 --steps $steps $compile" ;;
    localizer)
      run_pair "localizer (small width $width, batch 64)" \
        "localizer --device $device --batch 64 --width $width --steps $steps" \
        "bench-localizer --batch 64 --width $width --steps $steps $compile" ;;
    nms)
      run_pair "nms (256 images x 1000 boxes, torchvision.ops.batched_nms)" \
        "nms --device $device --images 256 --candidates 1000 --iters $iters" \
        "bench-nms --images 256 --candidates 1000 --iters $iters" kept_score_sum ;;
    *) echo "bench_vs_torch.sh: unknown --which part '$part'; use train, localizer, nms" >&2; exit 2 ;;
  esac
done
