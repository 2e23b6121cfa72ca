#!/usr/bin/env bash
# Creates /work/main/.venv-torch (git-ignored) with PyTorch from PyPI, for the PyTorch twin
# (tools/torch_twin.py), the twin fixture (tools/make_twin_fixture.py), the golden fixtures
# (tools/make_golden.py) and tools/bench_vs_torch.sh. Not part of bootstrap or the tests: the C++
# tests read committed fixtures and never need torch.
#
# PyPI's Linux torch wheel is a CUDA build whose dependency list pulls ~3 GB of nvidia-* and
# triton wheels. The CUDA toolkit at /usr/local/cuda already has most of those libraries
# (cudart, cublas, cudnn, cufft, cusparse, nvrtc, nvJitLink, cupti), so we install torch with
# --no-deps, its pure-Python dependencies, and only the native libraries the toolkit lacks or has
# too old (cufile, cusparseLt, nvshmem, nccl: the toolkit's nccl lacks ncclCommResume), pinned to
# the versions torch's metadata names: about 2.1 GB on disk (pip downloads ~1.2 GB) instead of
# ~4.5 GB. torch then imports with
#   LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/local/cuda/lib
# which tools/torch_env.sh sets: `tools/torch_env.sh python ...`.
#
#   tools/setup_torch.sh [--python python3] [--venv DIR] [--with-triton]
# --with-triton also installs triton (torch.compile on a GPU: tools/bench_vs_torch.sh
# --torch-compile); the CPU benchmarks and the fixtures do not need it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python=python3
venv="$root/.venv-torch"
triton=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --python) python="$2"; shift 2 ;;
    --venv) venv="$2"; shift 2 ;;
    --with-triton) triton=1; shift ;;
    *) echo "setup_torch.sh: unknown argument '$1'; use --python PY --venv DIR --with-triton" >&2; exit 2 ;;
  esac
done
torch_version=2.15.0

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
pip="$venv/bin/python -m pip"
$pip install --no-deps "torch==$torch_version" nvidia-cufile==1.20.0.107 nvidia-cusparselt-cu13==0.8.1 \
  nvidia-nvshmem-cu13==3.7.2 nvidia-nccl-cu13==2.30.7
if [[ $triton == 1 ]]; then $pip install --no-deps "triton~=3.9.0"; fi
$pip install filelock "typing-extensions>=4.13" "sympy>=1.13.3" "networkx>=2.5.1" jinja2 "fsspec>=0.8.5" numpy

LOCDET_TORCH_VENV="$venv" "$root/tools/torch_env.sh" python -c 'import torch; print("torch", torch.__version__, "ok; threads", torch.get_num_threads())'
echo "setup_torch.sh: done; run the twin with: tools/torch_env.sh python tools/torch_twin.py --help"
