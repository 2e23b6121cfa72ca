#!/usr/bin/env bash
# The test command: set-up, build (CUDA sources compiled whenever nvcc is found), every
# test (unit tests + the command-line tests in tests/cli), then two clang builds in which our
# CUDA sources run on the CPU through the CUDA emulation (kernels/cuda/emu): the CPU and CUDA
# tests under AddressSanitizer + UndefinedBehaviorSanitizer (the same build also makes the
# libFuzzer targets, which then run briefly) and under ThreadSanitizer. The nvcc-built CUDA
# tests skip where no GPU is present; tools/gpu_check.sh runs them (and compute-sanitizer) on
# a GPU host (docs/GPU_VALIDATION.md).
#   tools/test.sh            everything
#   tools/test.sh --quick    skip the sanitizer builds and the fuzzers
# LOCDET_FUZZ_SECONDS (default 15) sets each fuzzer's time. Each stage prints its time.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc)
# ccache (installed by bootstrap) keyed on paths relative to the checkout, so another clone
# on the same machine (CI) reuses the objects of earlier builds.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
stage_name=""
stage_start=$SECONDS
timings=""
step() {
  if [ -n "$stage_name" ]; then timings+=$(printf '%5ds  %s' $((SECONDS - stage_start)) "$stage_name")$'\n'; fi
  stage_name=$*
  stage_start=$SECONDS
  printf '\n== %s\n' "$*"
}

step "bootstrap"
tools/bootstrap.sh
export LOCDET_MNIST_DIR=${LOCDET_MNIST_DIR:-$PWD/data/mnist}

step "configure + build (build/)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
grep -E "^LOCDET_CUDA:BOOL" build/CMakeCache.txt
cmake --build build -j "$jobs"

step "tests (build/)"
(cd build && ctest --output-on-failure -j "$jobs")

if [ "$quick" = 0 ]; then
  # One clang build serves ASan + UBSan for the CPU tests, the emulated CUDA tests and the
  # fuzzers (LOCDET_FUZZ adds libFuzzer's coverage instrumentation, which the unit tests do not
  # notice): a full build fewer. The emulation's own checks run here too: the broken demo
  # kernels must fail (ASan must report the off-by-one store) and every kernel must run.
  step "configure + build CPU tests, emulated CUDA tests and fuzzers with ASan + UBSan (build-asan/, clang)"
  CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOCDET_CUDA=OFF \
    -DLOCDET_CUDA_EMULATION=ON -DLOCDET_FUZZ=ON
  cmake --build build-asan -j "$jobs" --target locdet_tests locdet_cuda_tests emu_demo emu_demo_missing_sync \
    emu_demo_off_by_one fuzz_idx fuzz_safetensors fuzz_preset_json fuzz_image
  step "tests under ASan + UBSan"
  # OpenMP's runtime keeps thread stacks alive at exit, which LeakSanitizer reports; leaks
  # in our code are still caught by the fuzzers, which run single-threaded with leak checks.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$jobs" -LE "cli|onednn_isa")
  step "fuzzers (tools/fuzz.sh, ${LOCDET_FUZZ_SECONDS:-15} s each)"
  LOCDET_FUZZ_BUILD_DIR=build-asan tools/fuzz.sh --no-build --seconds "${LOCDET_FUZZ_SECONDS:-15}"

  # ThreadSanitizer with clang + LLVM's libomp, not GCC + libgomp: libgomp is not built
  # with TSan, so TSan cannot see its barriers and reports every OpenMP parallel loop as a
  # race (false positives). libomp with the Archer tool (OMP_TOOL_LIBRARIES=libarcher.so,
  # Debian's libomp-14-dev) tells TSan about OpenMP's synchronization, so the OpenMP
  # kernels run with 2 threads and real races in them are still found. OpenBLAS's own
  # threads are not instrumented (ignore_noninstrumented_modules); the CPU kernels call it
  # single-threaded anyway.
  step "configure + build CPU tests with ThreadSanitizer (build-tsan/, clang + libomp + Archer)"
  CC=clang CXX=clang++ cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOCDET_CUDA=OFF \
    -DLOCDET_TSAN=ON
  cmake --build build-tsan -j "$jobs" --target locdet_tests
  # The emulation tells TSan about its fibers and only about the orderings CUDA promises inside
  # a block (barriers, warp exchanges), so a missing __syncthreads is a reported race: the demo
  # kernel without one must be reported, the correct one must pass. Only the demos run here:
  # LLVM 14's TSan runtime has a fixed number of thread slots, and the real kernels' blocks of
  # 256-1024 fibers thrash them (minutes per test); ASan runs the whole emulated suite above.
  step "configure + build the emulation's demo kernels with ThreadSanitizer (build-tsan-emu/)"
  CC=clang CXX=clang++ cmake -S . -B build-tsan-emu -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOCDET_CUDA=OFF \
    -DLOCDET_CUDA_EMULATION=ON -DLOCDET_TSAN=ON
  cmake --build build-tsan-emu -j "$jobs" --target emu_demo emu_demo_missing_sync
  step "tests under ThreadSanitizer"
  archer=$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | tail -n 1)
  [ -n "$archer" ] || { echo "libarcher.so not found (apt-get install libomp-dev)"; exit 1; }
  export OMP_NUM_THREADS=2 OMP_TOOL_LIBRARIES="$archer" \
    TSAN_OPTIONS="halt_on_error=1:ignore_noninstrumented_modules=1:second_deadlock_stack=1"
  (cd build-tsan && ctest --output-on-failure -j "$jobs" -LE "cli|onednn_isa")
  (cd build-tsan-emu && ctest --output-on-failure -R "emu_demo_(correct|missing_sync_fails)")
fi
step "all tests passed"
printf '\nstage times:\n%s' "$timings"
