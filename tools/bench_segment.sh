#!/usr/bin/env bash
# Segmentation speed, pami vs scikit-image + OpenCV, back to back on one machine:
#   tools/bench_segment.sh
# Needs the Python environment of tools/make_segment_refs.py (PYTHON, default
# /root/.cache/pami-venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench segment
"${PYTHON:-/root/.cache/pami-venv/bin/python}" tools/bench_segment_refs.py 3
