#!/usr/bin/env bash
# Builds here (no GPU needed) what tools/gpu_check.sh runs on a GPU host that has nvcc and
# the NVIDIA libraries but none of our Debian dependencies or a package registry:
#   build-gpu/        sm_90 Release build (CUDA tests, bench, apps), binaries stripped
#   build-gpu/lib/    the non-NVIDIA shared libraries they need (OpenBLAS, gfortran, OpenMP, ...)
#   build-gpu/mnist/  MNIST as .idx.gz (the loader reads gzip), ~11 MB
# Everything fits the device tool's 64 MiB carry: pass carry=["build-gpu"].
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh >/dev/null
# No oneDNN: libdnnl is 40 MB, which with OpenBLAS would not fit the carry; CPU convolutions
# on the GPU host (CPU sides of the CUDA tests) run on the im2col reference.
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOCDET_CUDA=ON -DLOCDET_ONEDNN=OFF \
  -DCMAKE_CUDA_ARCHITECTURES="90-real;90-virtual" >/dev/null
cmake --build build-gpu -j "$(nproc)"
mkdir -p build-gpu/lib build-gpu/mnist
# Copy what ldd resolves outside the system's base libraries and outside the NVIDIA stack
# (the GPU host brings its own driver, CUDA runtime, cuBLAS and cuDNN).
for bin in build-gpu/bin/*; do
  ldd "$bin" | awk '/=> \//{print $3}'
done | sort -u | grep -v -E 'libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|ld-linux|libstdc\+\+|libgcc_s|libcud|libcublas|libnvrtc|libnvToolsExt' |
  while read -r lib; do cp -L "$lib" build-gpu/lib/; done
strip build-gpu/bin/* 2>/dev/null || true
for f in data/mnist/*-ubyte; do gzip -c "$f" > "build-gpu/mnist/$(basename "$f").gz"; done
du -sh build-gpu/bin build-gpu/lib build-gpu/mnist
echo "carry size (must stay under 64 MiB, object files excluded from the count by .gitignore? no: all of build-gpu travels):"
du -sh build-gpu
