"""PAMI Strategy II written in plain Python with PyTorch, timed against `pami explain`.

    tools/cpu_forward_vs_pytorch.sh explain IMAGE [ROUNDS]   (makes the venv, then runs this)

The explanation pami's `--strategy segments` computes, the way a Python user
would write it: the image resized to 224×224, the paper's twenty Table-3
segmentations with scikit-image and OpenCV (tools/make_segment_refs.py, the
calls pami's segmenters are tested against), the paper's blur (Gaussian 49,
sigma 100, zero padding) as the baseline, one composite per segment (the
segment kept, the rest blurred) scored by EfficientNet-Lite0 in batches of 16,
each segment given its composite's softmax score of the top class, the twenty
maps averaged and resampled to the photo. PyTorch as
tools/cpu_forward_vs_pytorch.py runs it (eval(), inference mode, channels-last,
2 threads); the weights are random (the time does not depend on them).

Rounds alternate the Python explanation and `pami explain IMAGE --strategy
segments --device cpu` (wall time of the process, model load included);
prints the median of each and their ratio.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cpu_forward_vs_pytorch import EfficientNetLite0, randomise  # noqa: E402
from make_segment_refs import segment, settings  # noqa: E402

MEAN, STD = 127.0, 128.0  # EfficientNet-Lite0's normalisation


def gaussian_blur(x, size=49, sigma=100.0):
    """Separable Gaussian of `size` taps on `[3, H, W]`, zero padding."""
    r = size // 2
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-t * t / (2 * sigma * sigma))
    k = k / k.sum()
    x = x.unsqueeze(1)
    x = F.conv2d(x, k.view(1, 1, 1, -1), padding=(0, r))
    x = F.conv2d(x, k.view(1, 1, -1, 1), padding=(r, 0))
    return x.squeeze(1)


def explain(model, photo, batch=16):
    small = np.asarray(photo.resize((224, 224), Image.BILINEAR))
    image = torch.from_numpy(small).permute(2, 0, 1).float()
    baseline = gaussian_blur(image)
    with torch.inference_mode():
        x = ((image - MEAN) / STD).unsqueeze(0).contiguous(memory_format=torch.channels_last)
        target = int(model(x).argmax(1))
        maps = []
        for _, algorithm, p in settings():
            labels = torch.from_numpy(np.asarray(segment(small, algorithm, p), dtype=np.int64))
            ids = torch.unique(labels)
            scores = torch.empty(len(ids))
            for first in range(0, len(ids), batch):
                masks = (labels.unsqueeze(0) == ids[first:first + batch].view(-1, 1, 1)).unsqueeze(1)
                composites = torch.where(masks, image, baseline)
                composites = ((composites - MEAN) / STD).contiguous(memory_format=torch.channels_last)
                scores[first:first + batch] = model(composites).softmax(1)[:, target]
            lookup = torch.zeros(int(ids.max()) + 1)
            lookup[ids] = scores
            maps.append(lookup[labels])
        m = torch.stack(maps).mean(0)
        full = F.interpolate(m[None, None], size=(photo.height, photo.width), mode="bilinear", align_corners=False)
    return full[0, 0].numpy()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("image")
    parser.add_argument("--pami", default="target/release/pami")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = randomise(EfficientNetLite0()).eval().to(memory_format=torch.channels_last)
    photo = Image.open(args.image).convert("RGB")
    python, ours = [], []
    with tempfile.TemporaryDirectory() as out:
        for round_ in range(args.rounds):
            start = time.perf_counter()
            explain(model, photo)
            python.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run([args.pami, "explain", args.image, "--strategy", "segments", "--device", "cpu", "--out", out],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ours.append(time.perf_counter() - start)
            print(f"round {round_ + 1}/{args.rounds}: Python {python[-1]:.2f} s, pami {ours[-1]:.2f} s", flush=True)
    p, o = statistics.median(python), statistics.median(ours)
    print(f"\n{args.image} ({photo.width}×{photo.height}), Strategy II, PyTorch {torch.__version__}, {args.threads} threads, "
          f"median of {args.rounds}\n")
    print("| implementation | seconds | pami / Python |\n|---|---:|---:|")
    print(f"| Python (PyTorch, scikit-image, OpenCV) | {p:.2f} | |")
    print(f"| `pami explain --strategy segments --device cpu` | {o:.2f} | {o / p:.2f}× |")


if __name__ == "__main__":
    main()
