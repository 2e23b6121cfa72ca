#!/usr/bin/env bash
# For users with internet access: download the official MNIST gz files (from the
# PyTorch/ossci mirror of Yann LeCun's files) into a folder, then verify them.
#   tools/fetch_mnist_official.sh [DIR]   (default: data/mnist-official)
#   LOCDET_MNIST_DIR=DIR tools/bootstrap.sh   # verifies and uses them
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-data/mnist-official}
mkdir -p "$dir"
base=https://ossci-datasets.s3.amazonaws.com/mnist
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [ -s "$dir/$f.gz" ] || { curl -fL --retry 3 -o "$dir/$f.gz.part" "$base/$f.gz" && mv "$dir/$f.gz.part" "$dir/$f.gz"; }
done
LOCDET_MNIST_DIR="$dir" python3 tools/fetch_mnist.py
echo "use it with: export LOCDET_MNIST_DIR=$dir"
