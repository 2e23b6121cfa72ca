#!/usr/bin/env bash
# Every kernel of ours (each __global__ function in kernels/cuda/*.cu) runs in the CUDA
# emulation during the CUDA tests and the op-table test: runs both with the emulator's launch
# log on and compares the kernels it ran with the kernels the sources define, file by file.
#   kernel_coverage.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export LOCDET_EMU_LAUNCH_LOG=$log
"$bin/locdet_cuda_tests" --gtest_brief=1 >/dev/null
"$bin/locdet_tests" --gtest_filter='Cases/OpTable.EveryBackend*' --gtest_brief=1 >/dev/null
# "file kernel" for each __global__ function: the identifier before its parameter list.
defined=$(for f in "$src"/kernels/cuda/*.cu; do
  sed -n '/__global__/,/(/p' "$f" | tr '\n' ' ' | sed -E 's/__launch_bounds__\([^)]*\)//g' | grep -oE '__global__[^(]*\(' |
    sed -E "s/.*[[:space:]]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\(\$/$(basename "$f") \1/"
done | sort -u)
# Launches name template kernels with their arguments (binary_kernel<Op>): drop those.
ran=$(sed -E 's/<.*//' "$log" | sort -u)
missing=$(comm -23 <(echo "$defined") <(echo "$ran"))
echo "kernels defined in kernels/cuda: $(echo "$defined" | wc -l); run in the emulation: $(comm -12 <(echo "$defined") <(echo "$ran") | wc -l)"
if [ -n "$missing" ]; then
  echo "never launched by the CUDA tests or the op-table test:"
  echo "$missing"
  exit 1
fi
