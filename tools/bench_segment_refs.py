"""Wall time of the twenty Table-3 superpixel settings with scikit-image + OpenCV.

Run from the repository root, after tools/make_segment_refs.py has written the 224x224 inputs:
    /root/.cache/pami-venv/bin/python tools/bench_segment_refs.py [REPEATS]

Measures all twenty settings (tools/make_segment_refs.py: settings(), segment(); 6 Felzenszwalb,
8 SLIC, 3 SEEDS, 3 watershed, each call exactly as in the fixtures, the watershed's Sobel
gradient and SEEDS' RGB->BGR conversion included) on
  (a) one 224x224 input (tests/fixtures/segments/astronaut_224.png),
  (b) a batch of 16 224x224 inputs, the 7 fixture inputs cycled to 16 and processed one after
      another, as these libraries do,
  (c) one 1024x1024 image: assets/astronaut.png resized with PIL Image.BILINEAR.
Image loading and resizing are outside the timed region; labels are not renumbered or checked.
Each measurement is repeated REPEATS times (default 3) and the median, min and max in seconds
are printed as JSON on stdout, with each algorithm's
share (median over the repeats). Threading is left as the libraries set it (cv2.getNumThreads()
is reported) and OPENBLAS_* variables are left as the environment has them.
"""
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import skimage  # noqa: E402
from PIL import Image  # noqa: E402

from make_segment_refs import IMAGES, OUT, resized, segment, settings  # noqa: E402


def all_settings(img, per=None):
    """Runs the twenty settings; adds each algorithm's time to `per` (seconds)."""
    for _, algorithm, p in settings():
        t0 = time.perf_counter()
        segment(img, algorithm, p)
        if per is not None:
            per[algorithm] = per.get(algorithm, 0.0) + time.perf_counter() - t0


def timed(fn, repeats):
    """fn(per) REPEATS times: median/min/max of the total, median of each algorithm's share."""
    times, pers = [], []
    for _ in range(repeats):
        per = {}
        t0 = time.perf_counter()
        fn(per)
        times.append(time.perf_counter() - t0)
        pers.append(per)
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
            "max_s": round(max(times), 4), "runs": len(times),
            "per_algorithm_median_s": {a: round(statistics.median(p[a] for p in pers), 4)
                                       for a in pers[0]}}


def load(path):
    return np.asarray(Image.open(path).convert("RGB"))


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    inputs = [load(f"{OUT}/{stem}_224.png") for stem, _ in IMAGES]
    single = inputs[0]
    batch = [inputs[i % len(inputs)] for i in range(16)]
    large = np.asarray(resized("assets/astronaut.png", 1024))
    all_settings(single)  # warm-up (imports, first-call set-up)

    def run_batch(per):
        for img in batch:
            all_settings(img, per)

    result = {
        "settings": len(settings()),
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scikit-image": skimage.__version__, "opencv": cv2.__version__},
        "cv2_threads": cv2.getNumThreads(),
        "cpus": os.cpu_count(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
        "single_224": timed(lambda per: all_settings(single, per), repeats),
        "batch16_224": timed(run_batch, repeats),
        "single_1024": timed(lambda per: all_settings(large, per), repeats),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
