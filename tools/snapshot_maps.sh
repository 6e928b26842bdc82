#!/usr/bin/env bash
# Explains the bundled images with every method through a pami binary and
# keeps the model-size maps, so two builds can be compared bit for bit:
#
#   tools/snapshot_maps.sh OLD_BINARY /tmp/maps-before
#   tools/snapshot_maps.sh target/release/pami /tmp/maps-after
#   tools/snapshot_maps.sh --compare /tmp/maps-before /tmp/maps-after
#
# The synthetic-shapes model explains every image of assets/ with each
# method on the CPU (and two on wgpu with PAMI_SNAPSHOT_WGPU=1);
# EfficientNet-Lite0 explains the espresso photo with settings that keep the
# whole run to a few minutes on 2 cores. The CPU path is deterministic, so
# its maps must be equal bit for bit. The wgpu path is not: Burn's autotune
# picks kernels by timing, and the same binary's maps differ run to run by an
# ulp or so; a differing map is printed with its largest difference.
set -euo pipefail

if [[ "${1:-}" == "--compare" ]]; then
  before=$2 after=$3 differ=0 count=0
  for f in "$before"/*/*.npy; do
    rel=${f#"$before"/}
    count=$((count + 1))
    if ! cmp -s "$f" "$after/$rel"; then
      echo "differs: $rel ($(python3 - "$f" "$after/$rel" <<'PY'
import struct, sys
def load(path):
    data = open(path, "rb").read()
    header = struct.unpack("<H", data[8:10])[0]
    body = data[10 + header:]
    return struct.unpack("<%df" % (len(body) // 4), body)
a, b = load(sys.argv[1]), load(sys.argv[2])
print("max abs diff %.3g of a range %.3g" % (max(abs(x - y) for x, y in zip(a, b)), max(abs(x) for x in a)))
PY
))"
      differ=$((differ + 1))
    fi
  done
  echo "$count maps compared, $differ differ"
  [[ $count -gt 0 && $differ -eq 0 ]]
  exit
fi

pami=$1 out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
explain() { # NAME IMAGE ARGS...
  local name=$1 image=$2
  shift 2
  "$pami" explain "$image" --out "$out/$name" "$@" 2>/dev/null || { echo "failed: $name" >&2; exit 1; }
  rm -f "$out/$name"/*.full.npy "$out/$name"/*.png
}
methods=(
  "window"
  "segments"
  "segments-second --second-run"
  "occlusion"
  "rise --masks 500"
)
for image in assets/*.png assets/*.jpg; do
  stem=$(basename "${image%.*}")
  for m in "${methods[@]}"; do
    read -r strategy rest <<<"$m"
    name=${strategy%-second}
    [[ $strategy == segments-second ]] && name=segments-second
    # shellcheck disable=SC2086
    explain "synthetic-$stem-$name" "$image" --model synthetic-shapes --strategy "${strategy%-second}" $rest --device cpu --top-k 2
  done
done
for m in "window --stride 24" "segments" "occlusion --window 56 --stride 28" "rise --masks 200"; do
  read -r strategy rest <<<"$m"
  # shellcheck disable=SC2086
  explain "lite0-coffee-$strategy" assets/coffee.png --strategy "$strategy" $rest --device cpu
done
if [[ -n "${PAMI_SNAPSHOT_WGPU:-}" ]]; then
  for m in "window --stride 12" "segments"; do
    read -r strategy rest <<<"$m"
    # shellcheck disable=SC2086
    explain "wgpu-synthetic-chelsea-$strategy" assets/chelsea.png --model synthetic-shapes --strategy "$strategy" $rest --device wgpu
  done
fi
echo "$(find "$out" -name '*.npy' | wc -l) maps in $out"
