#!/usr/bin/env bash
# Memory over a long `pami run`: N synthetic 64² images (default 10,000), the
# embedded synthetic-shapes CNN, 16-part occlusion, 16 images per batch.
# Prints the resident set size every 5 s and the peak (from /usr/bin/time).
#   tools/flat_memory.sh [N] [device]
set -euo pipefail
n=${1:-10000}
device=${2:-cpu}
pami=${CARGO_TARGET_DIR:-target}/release/pami
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/in" "$n" <<'PY'
import os, sys, zlib, struct
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
def png(w, h, rows):
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\0" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
for i in range(n):
    x0, y0 = 4 + (i * 7) % 40, 4 + (i * 13) % 40
    rows = [bytes(sum(([250, 20, 20] if x0 <= x < x0 + 16 and y0 <= y < y0 + 16 else [(x * 3 + y * 5 + i) % 120] * 3 for x in range(64)), [])) for y in range(64)]
    with open(f"{out}/{i:05d}.png", "wb") as f:
        f.write(png(64, 64, rows))
PY
/usr/bin/time -f "peak RSS %M KB, %e s" "$pami" run --input "$dir/in" --out "$dir/out" --model synthetic-shapes \
  --strategy occlusion --window 16 --stride 16 --baseline zero --images-per-batch 16 --device "$device" 2> "$dir/log" &
sleep 1
while pid=$(pgrep -n -f "$dir/out"); do
  done_count=$(find "$dir/out" -name '*.json' 2>/dev/null | wc -l)
  echo "$(date +%T) images done $done_count, RSS $(ps -o rss= -p "$pid" 2>/dev/null || echo -) KB"
  sleep 5
done
wait || true
grep -v XDG "$dir/log" | tail -3
