#!/usr/bin/env bash
# Builds here (no GPU needed) what the GPU host runs, as ONE archive for the device tool's carry:
#
#   carry/gpu.tar.xz (git-ignored; must stay under 48 MiB, or this script fails and writes nothing)
#     bin/        locdet_cuda_tests train_gpu bench evaluate predict: sm_90 SASS + compute_90 PTX,
#                 OpenBLAS linked in statically (LOCDET_STATIC_DEPS), stripped
#     lib/        the other shared libraries they load that are neither glibc's, the GCC runtime's
#                 (libstdc++, libgcc_s: NVIDIA's libraries need the host's anyway) nor NVIDIA's
#                 (the host's pip wheels provide those: tools/gpu_env.sh)
#     mnist/      the four MNIST IDX files, gzipped (the loader reads .gz)
#     BUILD_INFO  the commit (and whether the tree had changes), the toolchain, and what the
#                 binaries need from the host (glibc, libstdc++ and NVIDIA library versions)
#
# tools/gpu_check.sh unpacks it on the GPU host; docs/GPU_VALIDATION.md gives the device calls.
#   tools/pack_gpu_build.sh [--build build-gpu] [--out carry/gpu.tar.xz]
# MNIST comes from $LOCDET_MNIST_DIR or data/mnist (tools/bootstrap.sh, which this runs first).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=build-gpu
out=carry/gpu.tar.xz
limit_mib=48
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "pack_gpu_build.sh: unknown argument '$1'; use --build DIR --out FILE" >&2; exit 2 ;;
  esac
done
binaries=(locdet_cuda_tests train_gpu bench evaluate predict)

tools/bootstrap.sh >/dev/null
mnist=${LOCDET_MNIST_DIR:-$root/data/mnist}
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1
command -v nvcc >/dev/null 2>&1 || export PATH="$PATH:/usr/local/cuda/bin"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOCDET_CUDA=ON -DLOCDET_ONEDNN=OFF -DLOCDET_STATIC_DEPS=ON \
  -DCMAKE_CUDA_ARCHITECTURES="90-real;90-virtual" >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${binaries[@]}"

stage=$(mktemp -d "${TMPDIR:-/tmp}/locdet_pack.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/mnist"
for b in "${binaries[@]}"; do strip -o "$stage/bin/$b" "$build/bin/$b"; done

# What the host must not get from us: glibc, the GCC runtime, and the NVIDIA stack.
host_provided='^(linux-vdso|ld-linux(-x86-64)?|libc|libm|libdl|libpthread|librt|libutil|libresolv|libstdc\+\+|libgcc_s|libcuda|libcudart|libcublas|libcublasLt|libcudnn.*|libnvrtc.*|libnvToolsExt|libnvJitLink)\.so'
for b in "${binaries[@]}"; do ldd "$build/bin/$b"; done | awk '{print $1, $3}' | sort -u | while read -r name path; do
  base=$(basename "$name")
  [[ "$base" =~ $host_provided ]] && continue
  if [ ! -f "$path" ]; then
    echo "pack_gpu_build.sh: $base is not found here either (ldd $build/bin/*); install it first" >&2
    exit 1
  fi
  cp -L "$path" "$stage/lib/$base"
done

for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ -f "$mnist/$f" ]; then
    gzip -9 -n -c "$mnist/$f" >"$stage/mnist/$f.gz"
  elif [ -f "$mnist/$f.gz" ]; then
    cp "$mnist/$f.gz" "$stage/mnist/"
  else
    echo "pack_gpu_build.sh: no $mnist/$f(.gz); run tools/bootstrap.sh or set LOCDET_MNIST_DIR" >&2
    exit 1
  fi
done

# The highest symbol version each family needs over everything carried.
max_version() {  # PREFIX FILES...
  local prefix=$1
  shift
  for f in "$@"; do objdump -T "$f"; done | grep -o "(${prefix}_[0-9.]*)" | tr -d '()' | sed "s/^${prefix}_//" |
    sort -uV | tail -1
}
header_define() { awk -v n="$2" '$1 == "#define" && $2 == n {print $3}' "$1"; }
cuda_include=$(dirname "$(command -v nvcc)")/../include
cudnn_h=$(find "$cuda_include" /usr/include -maxdepth 1 -name cudnn_version.h 2>/dev/null | head -1)
cudart_h=$(find "$cuda_include" /usr/include -maxdepth 1 -name cuda_runtime_api.h 2>/dev/null | head -1)
cublas_h=$(find "$cuda_include" /usr/include -maxdepth 1 -name cublas_api.h 2>/dev/null | head -1)
dirty=no
[ -n "$(git status --porcelain 2>/dev/null)" ] && dirty=yes
{
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "dirty: $dirty"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "built_on: $(. /etc/os-release && echo "$PRETTY_NAME"), glibc $(getconf GNU_LIBC_VERSION | awk '{print $2}'), $(g++ --version | head -1)"
  echo "nvcc: $(nvcc --version | sed -n 's/.*release .*, V\([0-9.]*\).*/\1/p')"
  echo "cuda_architectures: $(awk -F= '/^CMAKE_CUDA_ARCHITECTURES:/ {print $2}' "$build/CMakeCache.txt")"
  echo "needs_glibc: $(max_version GLIBC "$stage"/bin/* "$stage"/lib/*)"
  echo "needs_glibcxx: $(max_version GLIBCXX "$stage"/bin/*)"
  echo "needs_nvidia: $(objdump -p "$stage"/bin/* | awk '/NEEDED/ {print $2}' | grep -E 'libcu|libnv' | sort -u | tr '\n' ' ')"
  echo "linked_cudart: $(header_define "$cudart_h" CUDART_VERSION)"
  echo "linked_cudnn: $(header_define "$cudnn_h" CUDNN_MAJOR).$(header_define "$cudnn_h" CUDNN_MINOR).$(header_define "$cudnn_h" CUDNN_PATCHLEVEL)"
  echo "linked_cublas: $(header_define "$cublas_h" CUBLAS_VER_MAJOR).$(header_define "$cublas_h" CUBLAS_VER_MINOR).$(header_define "$cublas_h" CUBLAS_VER_PATCH)"
  echo "binaries: ${binaries[*]}"
  echo "libraries: $(cd "$stage/lib" && ls | tr '\n' ' ')"
} >"$stage/BUILD_INFO"

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
tar -C "$stage" --owner=0 --group=0 --sort=name -cf - BUILD_INFO bin lib mnist | xz -9 -T"$(nproc)" >"$tmp"
size=$(stat -c %s "$tmp")
if [ "$size" -ge $((limit_mib * 1024 * 1024)) ]; then
  rm -f "$tmp"
  echo "pack_gpu_build.sh: the archive would be $((size / 1024 / 1024)) MiB, over the $limit_mib MiB limit" \
    "(the device tool carries at most 64 MiB with the working tree); nothing written. Contents:" >&2
  du -sh "$stage"/* >&2
  exit 1
fi
mv -f "$tmp" "$out"
cat "$stage/BUILD_INFO"
du -sh "$stage"/bin "$stage"/lib "$stage"/mnist | sed 's|'"$stage"'/||'
echo "wrote $out: $(awk -v s="$size" 'BEGIN {printf "%.1f MiB", s / 1048576}') (limit $limit_mib MiB)"
