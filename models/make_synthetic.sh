#!/bin/sh
# Trains the synthetic ground-truth models (src/synthetic/) from Burn's initial
# weights on freshly drawn samples, on 2 CPU cores:
#   models/synthetic_shapes.bpk     the small CNN pami embeds (about 4 minutes;
#                                   held-out accuracy 1.000 on 1000 images)
#   models/synthetic_resnet18.bpk   torchvision's ResNet-18, 4 classes (about 45 minutes, the rate
#                                   decayed along a cosine)
#   models/synthetic_vit.bpk        a ViT (8x8 patches, 4 layers, 4 heads, width 128;
#                                   about 24 minutes, the rate decayed along a cosine)
# `pami train-synthetic` prints the held-out accuracy of each.
set -e
cd "$(dirname "$0")/.."
cargo run --release -- train-synthetic --backbone cnn --steps 1500 --batch 32 --lr 0.002 --device cpu
cargo run --release -- train-synthetic --backbone resnet18 --steps 4000 --batch 32 --lr 0.001 --cosine --device cpu
cargo run --release -- train-synthetic --backbone vit --steps 4000 --batch 32 --lr 0.001 --cosine --device cpu
