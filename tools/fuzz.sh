#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz/: clang, ASan + UBSan, CPU only) and runs each
# for N seconds from its committed seed corpus (tests/fuzz/corpus/<target>/). Fails on
# the first crash, sanitizer report, uncaught exception, timeout or out-of-memory; the
# input that did it is left in build-fuzz/fuzz-artifacts/<target>/. A found input goes to
# tests/fuzz/regressions/<target>/ with the fix (tests/test_reliability.cpp replays them).
#   tools/fuzz.sh                       15 s per target (CI: about 60 s in all)
#   tools/fuzz.sh --seconds 600         a longer run (docs/RELIABILITY.md)
#   tools/fuzz.sh --no-build fuzz_idx   one target, build as is
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=15
build=1
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    fuzz_*) targets+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || targets=(fuzz_idx fuzz_safetensors fuzz_preset_json fuzz_image)
build_dir=${LOCDET_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${LOCDET_JOBS:-$(nproc)}

if [ "$build" = 1 ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOCDET_CUDA=OFF \
    -DLOCDET_FUZZ=ON >/dev/null
  cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}"
fi

# UBSan aborts (not just prints) so libFuzzer records the input; leaks are findings too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export OMP_NUM_THREADS=1
status=0
for target in "${targets[@]}"; do
  work=$(mktemp -d)  # new inputs go here, so the committed corpus stays small
  artifacts="$build_dir/fuzz-artifacts/$target"
  mkdir -p "$artifacts"
  printf '\n== %s: %s s\n' "$target" "$seconds"
  # Past findings are loaded (and so re-run) first, with the seeds.
  regressions=()
  [ -d "tests/fuzz/regressions/$target" ] && regressions=("tests/fuzz/regressions/$target")
  dict=()
  [ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")
  if ! "$build_dir/bin/$target" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "tests/fuzz/corpus/$target" "${regressions[@]}" 2>"$work.log"; then
    tail -n 60 "$work.log"
    echo "fuzz.sh: $target FAILED; the input is in $artifacts/ (replay: $build_dir/bin/$target FILE)" >&2
    status=1
  else
    grep -E "^stat::(number_of_executed_units|new_units_added)|cov:" "$work.log" | tail -n 3
  fi
  rm -rf "$work" "$work.log"
done
exit $status
