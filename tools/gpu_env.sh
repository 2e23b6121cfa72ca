# Sourced by every GPU-side script (tools/gpu_check.sh, tools/check_gpu_carry.sh): the environment
# that runs locdet's binaries on a GPU host that has the NVIDIA driver and PyTorch's pip NVIDIA
# wheels but none of our Debian dependencies.
#
#   LOCDET_GPU_DIR=DIR; source tools/gpu_env.sh
#
# DIR is the unpacked carry/gpu.tar.xz (bin/ lib/ mnist/ BUILD_INFO) or a normal build folder.
# Sets and exports:
#   LOCDET_BIN_DIR           DIR/bin
#   LD_LIBRARY_PATH          DIR/lib (the carried libraries), then every site-packages/nvidia/*/lib
#                            folder (cudnn/lib; cu13/lib: cublas, cudart, nvrtc; ...), then what it was
#   LOCDET_NVIDIA_LIB_DIRS   those wheel library folders, ':'-separated (empty: none found)
#   LOCDET_MNIST_DIR         DIR/mnist when it exists and LOCDET_MNIST_DIR is unset
#   LOCDET_TORCH_PYTHON      python3, unless set: the python that holds torch (the GPU host's venv)
#   LOCDET_HOST_LD_LIBRARY_PATH  LD_LIBRARY_PATH as it was: run that python with it, so that it
#                            never loads our carried libraries
#   PATH                     with CUDA's and Nsight Compute's folders added when compute-sanitizer or
#                            ncu is not on it yet
# The wheels are found by path, never by importing a module: in LOCDET_NVIDIA_SITE (':'-separated
# site-packages folders) when set, else in the site-packages of LOCDET_TORCH_PYTHON.
if [ -z "${LOCDET_GPU_DIR:-}" ] || [ ! -d "$LOCDET_GPU_DIR/bin" ]; then
  echo "gpu_env.sh: set LOCDET_GPU_DIR to the unpacked carry/gpu.tar.xz (or a build folder) first" >&2
  return 2
fi
LOCDET_GPU_DIR=$(cd "$LOCDET_GPU_DIR" && pwd)
export LOCDET_GPU_DIR
export LOCDET_BIN_DIR=$LOCDET_GPU_DIR/bin
export LOCDET_TORCH_PYTHON=${LOCDET_TORCH_PYTHON:-python3}
export LOCDET_HOST_LD_LIBRARY_PATH=${LOCDET_HOST_LD_LIBRARY_PATH-${LD_LIBRARY_PATH:-}}
if [ -z "${LOCDET_MNIST_DIR:-}" ] && [ -d "$LOCDET_GPU_DIR/mnist" ]; then
  export LOCDET_MNIST_DIR=$LOCDET_GPU_DIR/mnist
fi

locdet_sites=${LOCDET_NVIDIA_SITE:-}
if [ -z "$locdet_sites" ]; then
  locdet_sites=$(# compute-sanitizer and ncu where CUDA and Nsight Compute put them, when they are not on PATH.
for locdet_dir in /usr/local/cuda/bin /usr/local/cuda/compute-sanitizer /opt/nvidia/nsight-compute/*; do
  [ -x "$locdet_dir/compute-sanitizer" ] && ! command -v compute-sanitizer >/dev/null 2>&1 && PATH=$PATH:$locdet_dir
  [ -x "$locdet_dir/ncu" ] && ! command -v ncu >/dev/null 2>&1 && PATH=$PATH:$locdet_dir
done
export PATH

LD_LIBRARY_PATH=$LOCDET_HOST_LD_LIBRARY_PATH "$LOCDET_TORCH_PYTHON" -c \
    'import site; print(":".join(site.getsitepackages()))' 2>/dev/null) || locdet_sites=""
fi
LOCDET_NVIDIA_LIB_DIRS=""
locdet_old_ifs=$IFS
IFS=:
for locdet_site in $locdet_sites; do
  for locdet_dir in "$locdet_site"/nvidia/*/lib; do
    [ -d "$locdet_dir" ] && LOCDET_NVIDIA_LIB_DIRS=${LOCDET_NVIDIA_LIB_DIRS:+$LOCDET_NVIDIA_LIB_DIRS:}$locdet_dir
  done
done
IFS=$locdet_old_ifs
export LOCDET_NVIDIA_LIB_DIRS

# compute-sanitizer and ncu where CUDA and Nsight Compute put them, when they are not on PATH.
for locdet_dir in /usr/local/cuda/bin /usr/local/cuda/compute-sanitizer /opt/nvidia/nsight-compute/*; do
  [ -x "$locdet_dir/compute-sanitizer" ] && ! command -v compute-sanitizer >/dev/null 2>&1 && PATH=$PATH:$locdet_dir
  [ -x "$locdet_dir/ncu" ] && ! command -v ncu >/dev/null 2>&1 && PATH=$PATH:$locdet_dir
done
export PATH

LD_LIBRARY_PATH=$LOCDET_HOST_LD_LIBRARY_PATH
[ -n "$LOCDET_NVIDIA_LIB_DIRS" ] && LD_LIBRARY_PATH=$LOCDET_NVIDIA_LIB_DIRS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
[ -d "$LOCDET_GPU_DIR/lib" ] && LD_LIBRARY_PATH=$LOCDET_GPU_DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
unset locdet_sites locdet_site locdet_dir locdet_old_ifs
