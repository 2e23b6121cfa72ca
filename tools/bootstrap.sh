#!/usr/bin/env bash
# Idempotent set-up for a fresh machine of this kind (Debian 12, nvcc installed, no GPU needed):
#   1. Debian packages the build needs (apt-get; skipped when already installed),
#   2. a project-local Python venv (.venv) for the tools/ scripts,
#   3. verified MNIST IDX files in data/mnist/ (or checks $LOCDET_MNIST_DIR when set).
# Safe to run again: each step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bootstrap] %s\n' "$*"; }

# --- 1. Debian packages ------------------------------------------------------------------
apt_packages=(cmake ninja-build g++ ccache zlib1g-dev libopenblas-dev libdnnl-dev libcli11-dev nlohmann-json3-dev
              libstb-dev libgtest-dev libomp-dev clang libclang-rt-14-dev python3-venv libboost-context-dev
              # fonts whose digits make the out-of-distribution check (tools/font_digits.py)
              fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf fonts-urw-base35 fonts-texgyre fonts-noto-core
              fonts-crosextra-caladea fonts-crosextra-carlito)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "Debian packages: all present"
fi
command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ] ||
  log "note: nvcc not found; the build will be CPU-only (install the CUDA toolkit for the GPU backend)"

# --- 2. Python venv for tools/ (plots, fixture generators, pycocotools cross-checks, ONNX
#        export checked by onnxruntime, TensorBoard and its event reader) --------------------
python_packages=(numpy matplotlib pycocotools onnx onnxruntime tensorboard pillow fonttools)
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import numpy, matplotlib, pycocotools, onnx, onnxruntime, tensorboard, PIL, fontTools" >/dev/null 2>&1; then
  log "installing Python packages into .venv: ${python_packages[*]}"
  .venv/bin/pip install -q "${python_packages[@]}"
else
  log "Python packages: all present in .venv"
fi

# --- 3. MNIST ------------------------------------------------------------------------------
.venv/bin/python tools/fetch_mnist.py
