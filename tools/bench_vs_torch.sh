#!/usr/bin/env bash
# Our CPU training step against its PyTorch twin, measured in the same run and interleaved
# (ours, torch, ours, torch, ...) so that load from other processes hits both alike. Same
# thread count for both: OMP_NUM_THREADS for us, torch.set_num_threads for the twin.
#
#   tools/bench_vs_torch.sh [--build build] [--rounds 3] [--threads 2] [--which train|localizer|both]
#                           [--steps 10] [--width 16] [--device cpu|cuda] [--torch-compile]
# --device cuda runs both on the GPU (ours replays a CUDA Graph); --torch-compile times the twin
# under torch.compile instead of eager (on a GPU that needs triton in the torch venv).
# Needs tools/setup_torch.sh once (the twin runs from .venv-torch) and, for the localizer, MNIST.
# Prints each round's images_per_second, the medians and ratio = ours / torch (>= 1: we are faster).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
rounds=3
threads=2
which=both
steps=10
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
    --width) width="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --torch-compile) compile="--compile"; shift ;;
    *) echo "bench_vs_torch.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
bench="$build/bin/bench"
[[ -x "$bench" ]] || { echo "bench_vs_torch.sh: no $bench; build first (cmake --build $build --target bench)" >&2; exit 1; }

ips() { awk '/^images_per_second:/ {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

run_pair() {  # name, our bench args, twin args
  local name="$1" ours_args="$2" twin_args="$3" ours=() torch=()
  echo "== $name: $device, torch ${compile:-eager}, $rounds rounds, $threads threads, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  for ((r = 1; r <= rounds; ++r)); do
    local a b
    a=$(OMP_NUM_THREADS=$threads "$bench" $ours_args | ips)
    b=$(OMP_NUM_THREADS=$threads "$root/tools/torch_env.sh" python "$root/tools/torch_twin.py" $twin_args \
        --threads "$threads" --device "$device" $compile | ips)
    ours+=("$a")
    torch+=("$b")
    echo "round $r: locdet $a  torch $b  ratio $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')"
  done
  local ma mb
  ma=$(printf '%s\n' "${ours[@]}" | median)
  mb=$(printf '%s\n' "${torch[@]}" | median)
  echo "$name locdet images_per_second (median): $ma"
  echo "$name torch images_per_second (median): $mb"
  echo "$name ratio locdet/torch (of medians): $(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.2f", a / b}')"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

if [[ "$which" == train || "$which" == both ]]; then
  run_pair "train (bench CNN, batch 64)" "train --device $device --batch 64 --steps $steps" \
    "bench-train --batch 64 --steps $steps"
fi
if [[ "$which" == localizer || "$which" == both ]]; then
  run_pair "localizer (small width $width, batch 64)" \
    "localizer --device $device --batch 64 --width $width --steps $steps" \
    "bench-localizer --batch 64 --width $width --steps $steps"
fi
