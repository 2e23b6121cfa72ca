#!/usr/bin/env bash
# Developer check, not a test (it downloads ~0.9 GB of wheels once): proves here, without a GPU,
# that the binaries in carry/gpu.tar.xz find every library and symbol with tools/gpu_env.sh's
# environment and the pip NVIDIA wheels alone, as on the GPU host (whose libraries come from
# PyTorch's wheels: site-packages/nvidia/cu13/lib and nvidia/cudnn/lib).
#
#   tools/check_gpu_carry.sh [--archive carry/gpu.tar.xz] [--wheels DIR] [--versions "PKG==V ..."]
#
# 1. pip-downloads nvidia-cudnn-cu13, nvidia-cublas, nvidia-cuda-runtime and nvidia-cuda-nvrtc
#    (default: the versions this machine's CUDA 13.0 toolkit was assembled from, also PyTorch
#    2.11's) into DIR (default /tmp/locdet-gpuwheels, outside the repository) and unpacks them
#    as a site-packages folder;
# 2. in a private mount namespace (unshare -m; needs root), mounts empty folders over the CUDA
#    toolkit's library folders, rebuilds the loader cache without them, and checks that neither
#    the cache nor the default library folders still provide any NVIDIA library;
# 3. unpacks the archive, sources tools/gpu_env.sh with LD_LIBRARY_PATH unset and
#    LOCDET_NVIDIA_SITE pointing at the unpacked wheels, and runs `ldd -r` on every carried binary
#    and library and on the wheels' own libraries (cuDNN loads its parts with dlopen), then starts
#    every binary with LD_BIND_NOW=1 (all symbols bound at load) on a no-GPU command.
# Exit 0 when everything resolved; prints what did not otherwise.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
archive=$root/carry/gpu.tar.xz
wheels=/tmp/locdet-gpuwheels
versions="nvidia-cudnn-cu13==9.19.0.56 nvidia-cublas==13.1.0.3 nvidia-cuda-runtime==13.0.96 nvidia-cuda-nvrtc==13.0.88"
while [ $# -gt 0 ]; do
  case "$1" in
    --archive) archive=$(realpath "$2"); shift 2 ;;
    --wheels) wheels=$(realpath -m "$2"); shift 2 ;;
    --versions) versions=$2; shift 2 ;;
    --in-namespace) shift; break ;;  # internal: the part that runs inside unshare
    *) echo "check_gpu_carry.sh: unknown argument '$1'; use --archive FILE --wheels DIR --versions LIST" >&2
       exit 2 ;;
  esac
done

if [ "${LOCDET_CHECK_NAMESPACE:-}" != 1 ]; then
  [ -f "$archive" ] || { echo "check_gpu_carry.sh: no $archive; run tools/pack_gpu_build.sh first" >&2; exit 1; }
  case "$wheels/" in "$root"/*)
    echo "check_gpu_carry.sh: --wheels must be outside the repository ($root)" >&2; exit 2 ;;
  esac
  [ "$(id -u)" = 0 ] || { echo "check_gpu_carry.sh: needs root for unshare -m (a private mount namespace)" >&2; exit 1; }
  site=$wheels/site-$(echo "$versions" | tr ' =' '_-')
  if [ ! -d "$site/nvidia" ]; then
    mkdir -p "$wheels/download"
    # shellcheck disable=SC2086
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 -d "$wheels/download" $versions
    mkdir -p "$site.tmp"
    for spec in $versions; do
      file=$(ls "$wheels/download/$(echo "${spec%%==*}" | tr - _)-${spec##*==}-"*.whl)
      python3 -m zipfile -e "$file" "$site.tmp/"
    done
    mv "$site.tmp" "$site"
  fi
  echo "wheels: $versions"
  echo "unpacked as site-packages: $site"
  LOCDET_CHECK_NAMESPACE=1 LOCDET_CHECK_SITE=$site LOCDET_CHECK_ARCHIVE=$archive exec unshare -m --propagation private \
    bash "$0" --in-namespace
fi

# ---- inside the private mount namespace: nothing below is visible outside it ---------------------
empty=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$work" "$empty"' EXIT
hidden=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/*/lib /usr/local/cuda-*/lib \
  /usr/local/cuda-*/lib64 /usr/local/cuda-*/targets/*/lib; do
  [ -d "$d" ] || continue
  real=$(realpath "$d")
  case " $hidden " in *" $real "*) continue ;; esac
  mount --bind "$empty" "$real"
  hidden="$hidden $real"
done
echo "hidden (empty folders mounted over):$hidden"
ldconfig -C "$work/ld.so.cache"
mount --bind "$work/ld.so.cache" /etc/ld.so.cache
nvidia_names='libcuda\.|libcudart|libcublas|libcudnn|libnvrtc|libnvJitLink|libnvToolsExt'
status=0
if ldconfig -p | grep -E "$nvidia_names"; then
  echo "FAIL: the loader cache still provides the NVIDIA libraries above"
  status=1
else
  echo "loader cache (ldconfig -p): no NVIDIA library"
fi
for d in /lib /lib64 /usr/lib /usr/lib64 /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do
  if ls "$d" 2>/dev/null | grep -E "^($nvidia_names)"; then
    echo "FAIL: $d (a default library folder) holds the NVIDIA libraries above"
    status=1
  fi
done

mkdir -p "$work/gpu"
tar -C "$work/gpu" -xJf "$LOCDET_CHECK_ARCHIVE"
unset LD_LIBRARY_PATH LOCDET_MNIST_DIR LOCDET_HOST_LD_LIBRARY_PATH
export LOCDET_NVIDIA_SITE=$LOCDET_CHECK_SITE LOCDET_GPU_DIR=$work/gpu
# shellcheck source=tools/gpu_env.sh
source "$root/tools/gpu_env.sh"
echo "archive: $LOCDET_CHECK_ARCHIVE ($(awk '/^commit:/ {print $2}' "$work/gpu/BUILD_INFO"), dirty: $(awk '/^dirty:/ {print $2}' "$work/gpu/BUILD_INFO"))"
ld_path=${LD_LIBRARY_PATH//$work/<unpacked>}
echo "LD_LIBRARY_PATH=${ld_path//$LOCDET_CHECK_SITE/<wheels>}"
echo "<wheels>=$LOCDET_CHECK_SITE"
echo

check_ldd() {  # FILE LABEL: prints each resolved library; returns 1 on anything unresolved
  local file=$1 out
  out=$(ldd -r "$file" 2>&1) || true
  echo "== ldd -r $2"
  echo "$out" | sed -e "s|$work|<unpacked>|g" -e "s|$LOCDET_CHECK_SITE|<wheels>|g" -e 's/ (0x[0-9a-f]*)//' |
    grep -v -E 'linux-vdso' | sed 's/^/  /'
  if echo "$out" | grep -q -E 'not found|undefined symbol'; then return 1; fi
}
failed=""
for f in "$work"/gpu/bin/* "$work"/gpu/lib/*; do
  check_ldd "$f" "${f#"$work"/gpu/}" || failed="$failed ${f#"$work"/gpu/}"
done
# The wheels' libraries that the carried ones load (cuDNN dlopens its engines, nvrtc its builtins):
# each must resolve too, except libcuda.so.1, the driver, which only a GPU host has.
wheel_failed=""
for f in "$LOCDET_CHECK_SITE"/nvidia/*/lib/*.so*; do
  out=$(ldd -r "$f" 2>&1 | grep -E 'not found|undefined symbol' | grep -v 'libcuda\.so\.1' || true)
  if [ -n "$out" ]; then
    echo "== ldd -r ${f#"$LOCDET_CHECK_SITE"/}: unresolved"
    echo "$out" | sed 's/^/  /'
    wheel_failed="$wheel_failed ${f#"$LOCDET_CHECK_SITE"/}"
  fi
done
echo "== the wheels' own libraries (dlopened at run time): $(ls "$LOCDET_CHECK_SITE"/nvidia/*/lib/*.so* | wc -l) checked," \
  "unresolved apart from the driver (libcuda.so.1): ${wheel_failed:-none}"
failed="$failed$wheel_failed"

echo "== start each binary with LD_BIND_NOW=1 (every symbol bound at load)"
for cmd in "bench --help" "train_gpu --help" "evaluate --help" "predict --help" \
  "locdet_cuda_tests --gtest_filter=CudaSmoke.*"; do
  set -- $cmd
  if out=$(LD_BIND_NOW=1 "$LOCDET_BIN_DIR/$1" "${@:2}" 2>&1); then
    echo "  ok   $cmd: $(echo "$out" | grep -E 'SKIPPED|PASSED|Usage' | head -1 | sed 's/^ *//')"
  else
    echo "  FAIL $cmd:"
    echo "$out" | head -5 | sed 's/^/    /'
    failed="$failed $1(start)"
  fi
done

if [ -n "$failed" ] || [ "$status" != 0 ]; then
  echo "RESULT: FAIL:${failed:- loader cache or default folders still hold NVIDIA libraries}"
  exit 1
fi
echo "RESULT: every carried binary and library resolves against the pip wheels alone (CUDA toolkit hidden)"
