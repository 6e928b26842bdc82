"""pami's CPU forward against PyTorch's, interleaved in one run.

    tools/cpu_forward_vs_pytorch.sh [ROUNDS]     (makes the venv, then runs this)

Each round times PyTorch (eval(), inference mode, channels-last, 2 threads) on
EfficientNet-Lite0 and torchvision's ResNet-50, VGG-16-BN, DenseNet-121,
MobileNet-V2 and ConvNeXt-Tiny (`--models` picks some) at batch 1, 16 and 64,
then runs `pami bench --device cpu --only model/NAME/` on the same rows, so
drift on a shared machine falls on both. Prints a markdown table of milliseconds per image (the
median over rounds of each round's median pass) and pami's time over PyTorch's.
The weights are random: a forward's time does not depend on their values.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

# (repeats, kernel, stride, expand ratio, in, out), TensorFlow's efficientnet_lite_builder.
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]


class ConvBn(nn.Sequential):
    """TensorFlow 'SAME' convolution (static padding for even inputs), batch norm, optional ReLU6."""

    def __init__(self, cin, cout, k, stride=1, groups=1, act=True):
        total = max(k - stride, 0)
        layers = [nn.ZeroPad2d((total // 2, total - total // 2, total // 2, total - total // 2)),
                  nn.Conv2d(cin, cout, k, stride, groups=groups, bias=False), nn.BatchNorm2d(cout, eps=1e-3)]
        if act:
            layers.append(nn.ReLU6(inplace=True))
        super().__init__(*layers)


class MbConv(nn.Module):
    def __init__(self, k, stride, expand, cin, cout):
        super().__init__()
        mid = cin * expand
        self.expand = ConvBn(cin, mid, 1) if expand != 1 else nn.Identity()
        self.depthwise = ConvBn(mid, mid, k, stride, groups=mid)
        self.project = ConvBn(mid, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    def __init__(self):
        super().__init__()
        blocks = [ConvBn(3, 32, 3, 2)]
        for repeats, k, stride, expand, cin, cout in STAGES:
            for r in range(repeats):
                blocks.append(MbConv(k, stride if r == 0 else 1, expand, cin if r == 0 else cout, cout))
        blocks.append(ConvBn(320, 1280, 1))
        self.features = nn.Sequential(*blocks)
        self.fc = nn.Linear(1280, 1000)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


# torchvision's CNNs that `pami bench` times (src/bench.rs).
TORCHVISION = ["resnet50", "vgg16_bn", "densenet121", "mobilenet_v2", "convnext_tiny"]


def randomise(model):
    """Random batch-norm statistics, so no layer is an identity."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model


def torch_ms_per_image(model, batch, reps):
    x = torch.rand(batch, 3, 224, 224).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        model(x)
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3 / batch


def pami_ms_per_image(pami, out, names):
    only = [arg for name in names for arg in ("--only", f"model/{name}/")]
    subprocess.run([pami, "bench", "--device", "cpu", *only, "--out", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report = json.load(open(os.path.join(out, "bench.json")))
    rows = report["targets"][0]["results"]
    return {r["id"]: r["seconds"] * 1e3 / r["items"] for r in rows}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pami", default="target/release/pami")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default=",".join(["efficientnet-lite0", *TORCHVISION]))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.models.split(",")
    models = {name: randomise(EfficientNetLite0() if name == "efficientnet-lite0" else getattr(torchvision.models, name)())
              for name in names}
    for m in models.values():
        m.eval().to(memory_format=torch.channels_last)
    batches = [1, 16, 64]
    ours, theirs = {}, {}
    with tempfile.TemporaryDirectory() as out:
        for round_ in range(args.rounds):
            for name, model in models.items():
                for b in batches:
                    theirs.setdefault((name, b), []).append(torch_ms_per_image(model, b, 3 if b >= 64 else 10))
            for id_, ms in pami_ms_per_image(args.pami, out, names).items():
                _, name, b = id_.split("/")
                ours.setdefault((name, int(b)), []).append(ms)
            print(f"round {round_ + 1}/{args.rounds} done", flush=True)
    print(f"\nPyTorch {torch.__version__}, {args.threads} threads; {os.uname().machine}; median of {args.rounds} rounds\n")
    print("| model | batch | PyTorch ms/image | pami ms/image | pami / PyTorch |")
    print("|---|---:|---:|---:|---:|")
    for name in models:
        for b in batches:
            t, p = statistics.median(theirs[(name, b)]), statistics.median(ours[(name, b)])
            print(f"| {name} | {b} | {t:.1f} | {p:.1f} | {p / t:.2f}× |")


if __name__ == "__main__":
    main()
