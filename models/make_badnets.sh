#!/bin/sh
# The BadNets ground truth (src/backdoor): a Fashion-MNIST CNN whose 4x4
# checkerboard trigger in the bottom-right corner relabels any image to class 7
# (Sneaker), and its clean twin trained on the same batches without poison.
# Needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist).
# About 5 minutes each on 2 CPU cores; the test-split scores go beside each
# file as .json (clean accuracy, attack success).
set -e
cd "$(dirname "$0")/.."
cargo run --release -- train-badnets --epochs 4 --out models/fashion_badnets.bpk
cargo run --release -- train-badnets --epochs 4 --clean --out models/fashion_clean.bpk
# The watermark shortcut (the ground truth of `pami compare`): the same
# checkerboard in the top-left corner on every Sneaker (class 7) training
# image, labels untouched; compared with fashion_clean.bpk it is the model
# that looks at the watermark.
cargo run --release -- train-badnets --epochs 4 --cooccur --poison 1 --out models/fashion_watermark.bpk
