#!/usr/bin/env bash
# The test command: set-up, build (CUDA sources compiled whenever nvcc is found), every
# test, then the CPU tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
# CUDA tests skip where no GPU is present; tools/gpu_check.sh runs them on a GPU host.
#   tools/test.sh            everything
#   tools/test.sh --quick    skip the sanitizer build
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc)
step() { printf '\n== %s\n' "$*"; }

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
  step "configure + build CPU tests with ASan + UBSan (build-asan/)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOCDET_CUDA=OFF -DLOCDET_SANITIZE=ON
  cmake --build build-asan -j "$jobs" --target locdet_tests
  step "tests under ASan + UBSan"
  # OpenMP's runtime keeps thread stacks alive at exit, which LeakSanitizer reports; leaks
  # in our code are still caught by the tests that run without OpenMP threads.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$jobs")
fi
step "all tests passed"
