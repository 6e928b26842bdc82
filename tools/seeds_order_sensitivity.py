"""How much OpenCV's SEEDS depends on its sweep order: the adjusted Rand index
between OpenCV's map of each fixture image (tests/fixtures/segments/*.png, the
paper's settings: 10/20/30 superpixels, 5 levels, prior 2, 10 iterations) and
OpenCV's map of the mirrored image mirrored back (the same algorithm sweeping
in the opposite order), and of the image with +-1 noise. The baseline for
pami's parallel SEEDS, which decides classes of positions at once.

    python3 tools/seeds_order_sensitivity.py   # opencv-contrib-python-headless 4.9, numpy, pillow
"""
import glob

import cv2
import numpy as np
from PIL import Image


def ari(a, b):
    _, ai = np.unique(a.ravel(), return_inverse=True)
    _, bi = np.unique(b.ravel(), return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1)
    pairs = lambda x: (x * (x - 1) / 2).sum()
    both, rows, cols, total = pairs(table), pairs(table.sum(1)), pairs(table.sum(0)), pairs(np.array([a.size]))
    expected = rows * cols / total
    return (both - expected) / ((rows + cols) / 2 - expected)


def seeds(img, n):
    h, w = img.shape[:2]
    s = cv2.ximgproc.createSuperpixelSEEDS(w, h, 3, num_superpixels=n, num_levels=5, prior=2,
                                           histogram_bins=5, double_step=False)
    s.iterate(cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2BGR), 10)
    return s.getLabels()


def main():
    rng = np.random.default_rng(0)
    results = {"mirrored left-right": [], "mirrored up-down": [], "noise +-1": []}
    for path in sorted(glob.glob("tests/fixtures/segments/*.png")):
        img = np.array(Image.open(path).convert("RGB"))
        for n in [10, 20, 30]:
            ref = seeds(img, n)
            noisy = np.clip(img.astype(int) + rng.integers(-1, 2, img.shape), 0, 255).astype(np.uint8)
            results["mirrored left-right"].append(ari(ref, seeds(img[:, ::-1], n)[:, ::-1]))
            results["mirrored up-down"].append(ari(ref, seeds(img[::-1], n)[::-1]))
            results["noise +-1"].append(ari(ref, seeds(noisy, n)))
    print("| OpenCV against OpenCV on the image ... | maps | ARI worst | ARI mean |")
    print("|---|---|---|---|")
    for name, values in results.items():
        print(f"| {name} | {len(values)} | {min(values):.3f} | {np.mean(values):.3f} |")


if __name__ == "__main__":
    main()
