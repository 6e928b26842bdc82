#!/usr/bin/env python3
"""Parity fixture for pami's torchvision architectures, made at test time.

    /usr/bin/python3 tools/torchvision_fixture.py NAME CLASSES SIZE OUT_DIR [CHECKPOINT_SIZE]

Builds `torchvision.models.NAME(num_classes=CLASSES)` (Debian's
python3-torchvision 0.14), fills every floating-point tensor of its
state_dict with seeded random values (batch-norm statistics too, so nothing
zero-initialised hides a bug), and writes to OUT_DIR the files below. A ViT
is built for CHECKPOINT_SIZE (default SIZE) inputs and saved so; its logits
are for SIZE inputs, the position embeddings resampled by torchvision's
`interpolate_embeddings` when the sizes differ.
  NAME.pth          torch.save(model.state_dict())
  NAME.safetensors  the same tensors (float32, written by hand: Debian has
                    no python3-safetensors)
  NAME.json         {"shape": [N, 3, SIZE, SIZE], "input": [...] (already
                    normalised), "logits": [...] (N × CLASSES, eval mode)}
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torchvision
from torchvision.models import vision_transformer


def randomise(model, generator):
    state = model.state_dict()
    for name, tensor in state.items():
        if not tensor.is_floating_point():  # num_batches_tracked, Swin's relative_position_index
            continue
        shape = tensor.shape
        if name.endswith("running_var"):
            value = torch.rand(shape, generator=generator) + 0.5
        elif name.endswith("running_mean") or name.endswith("bias"):
            value = torch.randn(shape, generator=generator) * 0.1
        elif name.endswith(("pos_embedding", "class_token", "relative_position_bias_table")):
            value = torch.randn(shape, generator=generator) * 0.5
        elif tensor.dim() == 1:  # norm weights
            value = torch.rand(shape, generator=generator) + 0.5
        else:  # convolution and linear weights: He-scaled, so activations stay in range
            fan_in = math.prod(shape[1:])
            value = torch.randn(shape, generator=generator) * math.sqrt(2.0 / fan_in)
        state[name] = value.to(tensor.dtype)
    model.load_state_dict(state)


def write_safetensors(path, state):
    header, blobs, offset = {}, [], 0
    for name, tensor in state.items():
        data = tensor.detach().contiguous().numpy()
        dtype = {np.float32: "F32", np.int64: "I64"}[data.dtype.type]
        raw = data.astype(data.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(data.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def main():
    name, classes, size, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    checkpoint_size = int(sys.argv[5]) if len(sys.argv) > 5 else size
    torch.set_num_threads(2)
    generator = torch.Generator().manual_seed(20230)
    vit = name.startswith("vit_")
    kwargs = {"image_size": checkpoint_size} if vit else {}
    model = getattr(torchvision.models, name)(num_classes=classes, **kwargs)
    randomise(model, generator)
    torch.save(model.state_dict(), f"{out}/{name}.pth")
    write_safetensors(f"{out}/{name}.safetensors", model.state_dict())
    if vit and checkpoint_size != size:
        state = vision_transformer.interpolate_embeddings(size, model.patch_size, model.state_dict())
        model = getattr(torchvision.models, name)(num_classes=classes, image_size=size)
        model.load_state_dict(state)
    model.eval()
    x = torch.randn(2, 3, size, size, generator=generator)
    with torch.no_grad():
        logits = model(x)
    with open(f"{out}/{name}.json", "w") as f:
        json.dump({"shape": list(x.shape), "input": x.flatten().tolist(), "logits": logits.flatten().tolist()}, f)


if __name__ == "__main__":
    main()
