#!/usr/bin/env bash
# Copies the datasets' browser subsets (IDX: 2,000 training and 500 held-out images each of
# MNIST and Fashion-MNIST, written by scripts/fetch-data.sh) and the photo gallery (scikit-image's
# photos, scripts/fetch-photos.sh) where the page build picks them up.
# Run by scripts/demo.sh, scripts/bench.sh and scripts/test.sh (the threads test reads them).
# Only newer files are copied (`cp -u`): a test may be reading them while the page test runs this.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
[ -f "$CONVLENS_DATA/assets/mnist-train-images.idx" ] || die "no data subsets: run scripts/setup.sh"
mkdir -p target/page-data
cp -u "$CONVLENS_DATA"/assets/*.idx target/page-data/
# The photo panel's gallery: scikit-image's photos (scripts/fetch-photos.sh).
[ -d "$CONVLENS_CACHE/imagenet/photos" ] || die "no photos: run scripts/setup.sh"
mkdir -p target/page-data/photos
cp -u "$CONVLENS_CACHE"/imagenet/photos/* target/page-data/photos/
