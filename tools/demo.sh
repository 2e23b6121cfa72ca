#!/usr/bin/env bash
# The main job on a fresh machine: set-up, build, then verify the data and run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

step "bootstrap"
tools/bootstrap.sh
step "build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
step "MNIST"
build/bin/check_mnist
