#!/usr/bin/env bash
# Runs a command with the torch venv (.venv-torch, made by tools/setup_torch.sh) on PATH and the
# CUDA toolkit's libraries on LD_LIBRARY_PATH (PyPI's torch links them; see setup_torch.sh).
#   tools/torch_env.sh python tools/torch_twin.py ...
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${LOCDET_TORCH_VENV:-$root/.venv-torch}"
if [[ ! -x "$venv/bin/python" ]]; then
  echo "torch_env.sh: no torch venv at $venv; run tools/setup_torch.sh first" >&2
  exit 1
fi
cuda="${CUDA_HOME:-/usr/local/cuda}"
export LD_LIBRARY_PATH="$cuda/lib64:$cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$venv/bin:$PATH"
exec "$@"
