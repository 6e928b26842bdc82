"""Reference superpixel label maps (scikit-image / OpenCV) for pami's segmentation tests.

Run from the repository root with the venv that has numpy<2, scikit-image, Pillow, scipy and
opencv-contrib-python-headless (see assets/SOURCES.md and tests/fixtures/segments/manifest.json):
    /root/.cache/pami-venv/bin/python tools/make_segment_refs.py

Inputs: the 7 images of assets/ (SOURCES.md), each resized to 224x224 with PIL Image.BILINEAR
(RGB uint8) and saved losslessly as tests/fixtures/segments/<stem>_224.png, plus astronaut at
512x512 (its own size, so the BILINEAR resize is a copy) as astronaut_512.png. The reference
labels are computed on the pixels of those PNGs (read back), so the Rust side segments exactly
the same pixels.

For every input, the twenty settings of the PAMI paper's Table 3:
  felzenszwalb_scale{250,200,150,100,70,50}: skimage.segmentation.felzenszwalb(img, scale=s,
      sigma=0.8, min_size=784)
  slic_n{10..80}: skimage.segmentation.slic(img, n_segments=n, compactness=20, start_label=0)
      (max_num_iter=10, sigma=0, enforce_connectivity=True, convert2lab=True: the defaults)
  seeds_n{10,20,30}: cv2.ximgproc.createSuperpixelSEEDS(w, h, 3, num_superpixels=n,
      num_levels=5, prior=2, histogram_bins=5, double_step=False); .iterate(bgr, 10);
      .getLabels(), where bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) (OpenCV's own order)
  watershed_n{10,20,30}: skimage.segmentation.watershed(
      skimage.filters.sobel(skimage.color.rgb2gray(img)), markers=n, compactness=1e-4)

Writes tests/fixtures/segments/<stem>_<size>.npz (np.savez_compressed, one int32 array per
setting, labels renumbered 0..k-1 in order of first appearance in raster order; the partition is
the reference's own) and tests/fixtures/segments/manifest.json (versions, calls, and per input
and setting the segment count and 4-connectivity of every label).
"""
import hashlib
import json
import os
import platform
import sys

import cv2
import numpy as np
import PIL
import scipy
import scipy.ndimage as ndi
import skimage
from PIL import Image
from skimage.color import rgb2gray
from skimage.filters import sobel
from skimage.segmentation import felzenszwalb, slic, watershed
from skimage.util import regular_grid

OUT = "tests/fixtures/segments"
# (stem, asset file) in the order the fixtures list them.
IMAGES = [
    ("astronaut", "assets/astronaut.png"),
    ("chelsea", "assets/chelsea.png"),
    ("coffee", "assets/coffee.png"),
    ("rocket", "assets/rocket.jpg"),
    ("motorcycle_left", "assets/motorcycle_left.png"),
    ("china", "assets/china.jpg"),
    ("flower", "assets/flower.jpg"),
]
LARGE = ("astronaut", "assets/astronaut.png", 512)

FELZ_SCALES = [250, 200, 150, 100, 70, 50]
SLIC_N = [10, 20, 30, 40, 50, 60, 70, 80]
SEEDS_N = [10, 20, 30]
WATERSHED_N = [10, 20, 30]

CALLS = {
    "felzenszwalb": "skimage.segmentation.felzenszwalb(img, scale=s, sigma=0.8, min_size=784)",
    "slic": "skimage.segmentation.slic(img, n_segments=n, compactness=20, start_label=0)"
            "  # defaults: max_num_iter=10, sigma=0, enforce_connectivity=True, convert2lab=True"
            " (None -> True for RGB), min_size_factor=0.5, max_size_factor=3",
    "seeds": "s = cv2.ximgproc.createSuperpixelSEEDS(w, h, 3, num_superpixels=n, num_levels=5,"
             " prior=2, histogram_bins=5, double_step=False); "
             "s.iterate(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), 10); s.getLabels()",
    "watershed": "skimage.segmentation.watershed(skimage.filters.sobel("
                 "skimage.color.rgb2gray(img)), markers=n, compactness=1e-4)",
}


def settings():
    """The twenty Table-3 settings as (name, algorithm, parameter)."""
    out = [(f"felzenszwalb_scale{s}", "felzenszwalb", s) for s in FELZ_SCALES]
    out += [(f"slic_n{n}", "slic", n) for n in SLIC_N]
    out += [(f"seeds_n{n}", "seeds", n) for n in SEEDS_N]
    out += [(f"watershed_n{n}", "watershed", n) for n in WATERSHED_N]
    return out


def segment(img, algorithm, p):
    """Raw reference labels of one setting on an RGB uint8 (H, W, 3) image."""
    if algorithm == "felzenszwalb":
        return felzenszwalb(img, scale=p, sigma=0.8, min_size=784)
    if algorithm == "slic":
        return slic(img, n_segments=p, compactness=20, start_label=0)
    if algorithm == "seeds":
        h, w = img.shape[:2]
        s = cv2.ximgproc.createSuperpixelSEEDS(w, h, 3, num_superpixels=p, num_levels=5, prior=2,
                                               histogram_bins=5, double_step=False)
        s.iterate(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), 10)
        return s.getLabels()
    if algorithm == "watershed":
        return watershed(sobel(rgb2gray(img)), markers=p, compactness=1e-4)
    raise ValueError(algorithm)


def resized(path, size):
    return Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR)


def relabel(labels):
    """Renumber to 0..k-1 in order of first appearance in raster order (int32)."""
    flat = np.asarray(labels).ravel()
    uniq, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))
    return rank[inverse].reshape(np.shape(labels)).astype(np.int32)


FOUR = ndi.generate_binary_structure(2, 1)
EIGHT = ndi.generate_binary_structure(2, 2)


def connectivity(labels, structure=FOUR):
    """(number of labels made of more than one connected piece, total number of pieces)."""
    split = pieces = 0
    for k, box in enumerate(ndi.find_objects(labels + 1)):
        if box is None:
            continue
        _, n = ndi.label(labels[box] == k, structure=structure)
        pieces += n
        split += n > 1
    return int(split), int(pieces)


def watershed_markers(size, n):
    """Where an int `markers=n` puts its seeds on a size x size image (all-True mask):
    _validate_inputs -> skimage.util.regular_seeds(shape, n) -> skimage.util.regular_grid."""
    rows, cols = regular_grid((size, size), n)
    return {"rows": list(range(size))[rows], "cols": list(range(size))[cols]}


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    os.makedirs(OUT, exist_ok=True)
    inputs = [(stem, path, 224) for stem, path in IMAGES] + [LARGE]
    manifest = {
        "generator": "tools/make_segment_refs.py",
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-image": skimage.__version__,
            "opencv": cv2.__version__,
            "opencv_package": "opencv-contrib-python-headless",
            "scipy": scipy.__version__,
            "pillow": PIL.__version__,
        },
        "input": "asset -> PIL Image.open(...).convert('RGB').resize((S, S), Image.BILINEAR), "
                 "saved as <stem>_<S>.png (lossless) and read back as RGB uint8 (H, W, 3)",
        "calls": CALLS,
        "seeds_color_order": "BGR (cv2.cvtColor(img, cv2.COLOR_RGB2BGR)), OpenCV's own order. "
                             "SEEDS only uses a joint colour histogram (bins^3 cells) compared by "
                             "intersection, which a channel permutation leaves unchanged: "
                             "rgb_order_gives_same_partition checks this per setting. OpenCV's "
                             "docs recommend HSV or Lab input; the reference (as Table 3) "
                             "feeds the plain 8-bit image.",
        "seeds_block_arithmetic": "opencv_contrib ximgproc/src/seeds.cpp initialize(): n = max(n, 10); "
                                  "nh = (int)sqrtf(n*H/W); nw = nh*W/H; levels L = num_levels "
                                  "(lowered while W/nw/2^(L-1) < 1); block = ceil(W/nw/2^(L-1)); "
                                  "level-0 blocks W/block (int), halved (int) L-1 times; top level "
                                  "= the superpixels. 224: n 10/20/30 -> 4/9/16; 512: 4/16/16",
        "watershed_int_markers": "skimage.segmentation._watershed._validate_inputs: an int n "
                                 "becomes skimage.util.regular_seeds(shape, int(n / (n_pixels / "
                                 "image.size))) (= n without a mask), which takes "
                                 "skimage.util.regular_grid(shape, n): step = (H*W/n)**(1/2) "
                                 "(float, same for both axes of a square image), start = "
                                 "int(step // 2), stride = round(step); seeds at every "
                                 "start + i*stride < size on both axes, numbered 1.. in raster "
                                 "order (so 224: 9, 16, 25 markers; 512: 9, 16, 36)",
        "labels": "int32, renumbered 0..k-1 in order of first appearance in raster order; "
                  "the partition is the reference's own",
        "connectivity": "each label checked with scipy.ndimage.label(labels == k, "
                        "structure=generate_binary_structure(2, 1)) (4-connectivity); "
                        "split_labels = labels with more than one piece; split_labels_8conn "
                        "the same with 8-connectivity (felzenszwalb's graph is 8-connected)",
        "settings": [name for name, _, _ in settings()],
        "inputs": {},
    }
    for stem, path, size in inputs:
        png = f"{OUT}/{stem}_{size}.png"
        resized(path, size).save(png, optimize=True)
        img = np.asarray(Image.open(png).convert("RGB"))
        assert img.shape == (size, size, 3) and img.dtype == np.uint8
        arrays, per = {}, {}
        for name, algorithm, p in settings():
            labels = relabel(segment(img, algorithm, p))
            split, pieces = connectivity(labels)
            split8, _ = connectivity(labels, EIGHT)
            arrays[name] = labels
            per[name] = {"segments": int(labels.max()) + 1, "split_labels": split,
                         "pieces_4conn": pieces, "all_4connected": split == 0,
                         "split_labels_8conn": split8}
            if algorithm == "seeds":
                s = cv2.ximgproc.createSuperpixelSEEDS(size, size, 3, num_superpixels=p,
                                                       num_levels=5, prior=2, histogram_bins=5,
                                                       double_step=False)
                s.iterate(img, 10)  # RGB order instead of BGR
                per[name]["getNumberOfSuperpixels"] = int(s.getNumberOfSuperpixels())
                per[name]["rgb_order_gives_same_partition"] = bool(
                    np.array_equal(relabel(s.getLabels()), labels))
            if algorithm == "watershed":
                per[name]["markers"] = watershed_markers(size, p)
        npz = f"{OUT}/{stem}_{size}.npz"
        np.savez_compressed(npz, **arrays)
        manifest["inputs"][f"{stem}_{size}"] = {
            "source": path, "size": size, "png": png, "png_sha256": sha256(png),
            "npz": npz, "results": per,
        }
        counts = " ".join(f"{name.split('_')[0][:4]}{name.split('_')[1]}={v['segments']}"
                          + (f"({v['split_labels']} split)" if v["split_labels"] else "")
                          for name, v in per.items())
        print(f"{stem}_{size}: {counts}", file=sys.stderr)
    with open(f"{OUT}/manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
