#!/bin/sh
# pami's CPU path against PyTorch from PyPI, interleaved in one run:
#   tools/cpu_forward_vs_pytorch.sh [ROUNDS [MODELS]]       the forward passes (tools/cpu_forward_vs_pytorch.py;
#                                                          MODELS: comma-separated, default all six)
#   tools/cpu_forward_vs_pytorch.sh explain IMAGE [ROUNDS]  Strategy II end to end against the same
#                                                          explanation in Python (tools/pami_python.py)
# The venv (torch 2.9.1, torchvision 0.24.1, scikit-image, OpenCV; about 5 GB with
# torch's CUDA wheels, which stay unused) is made once in $TORCH_VENV.
set -e
cd "$(dirname "$0")/.."
venv="${TORCH_VENV:-$HOME/.cache/torch-venv}"
if ! "$venv/bin/python" -c "import torchvision, skimage, cv2.ximgproc" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch==2.9.1 torchvision==0.24.1 scikit-image==0.26.0 \
    opencv-contrib-python-headless==4.9.0.80 numpy==1.26.4 scipy pillow
fi
cargo build --release --quiet
pami="${CARGO_TARGET_DIR:-target}/release/pami"
if [ "$1" = explain ]; then
  exec "$venv/bin/python" tools/pami_python.py "$2" --pami "$pami" --rounds "${3:-3}"
fi
exec "$venv/bin/python" tools/cpu_forward_vs_pytorch.py --pami "$pami" --rounds "${1:-3}" ${2:+--models "$2"}
