#!/usr/bin/env bash
# corrupt_data.sh DATA_DIR OUT_DIR: a copy of Fashion-MNIST whose training images
# are truncated, for the bad-input test.
set -eu
mkdir -p "$2/fashion-mnist"
for f in train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  ln -sf "$1/fashion-mnist/$f" "$2/fashion-mnist/$f"
done
head -c 100000 "$1/fashion-mnist/train-images-idx3-ubyte" >"$2/fashion-mnist/train-images-idx3-ubyte"
