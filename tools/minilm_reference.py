#!/usr/bin/env python3
"""PyTorch reference of the MiniLM-L6 encoder pami embeds, for its parity test.

    pip install "transformers==4.30.2" "tokenizers==0.13.3"   # torch 1.13 as Debian ships it
    python3 tools/minilm_reference.py

Tokenises SENTENCES with Hugging Face's tokenizers from
models/minilm_l6_tokenizer.json (the file's own truncation and padding
switched off: pami pads to the batch's longest), runs transformers'
BertModel with the weights of models/minilm_l6_f16.safetensors upcast to
f32 (the same numbers pami loads), and writes
tests/fixtures/text/minilm_reference.json: per sentence the ids, tokens and
character offsets, and the last hidden state of every token, rounded to 6
decimals.
"""
import json
import struct

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

SENTENCES = [
    "I just don't trust my life in google's hands #driverless cars",
    "Self-driving cars just seem lazy and a waste of money!!!",
    "Café déjà vu: naïve façade, ÀÉÎÕÜ.",
    "Tokyo (東京) is big; 北京 too.",
    "https://example.org/a?b=c&d=e @user123 :-) <3",
    "   leading and   multiple   spaces\tand\ttabs\nand newlines   ",
    "pneumonoultramicroscopicsilicovolcanoconiosis is a long word",
    "a" * 120 + " is longer than a wordpiece may be",
    "Emoji 😀 and symbols © ® ™ € £ ¥ are kept or unknown",
    "The movie was not good, it was GREAT.",
    "ok",
    "",
]


def load_f16(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(body[start:end], dtype=np.float16).reshape(info["shape"]).astype(np.float32))
    return out


def main():
    tokenizer = Tokenizer.from_file("models/minilm_l6_tokenizer.json")
    tokenizer.no_truncation()
    tokenizer.no_padding()
    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536, max_position_embeddings=512)
    model = BertModel(config, add_pooling_layer=False).eval()
    missing, unexpected = model.load_state_dict(load_f16("models/minilm_l6_f16.safetensors"), strict=False)
    assert not unexpected and all("position_ids" in m for m in missing), (missing, unexpected)
    cases = []
    for text in SENTENCES:
        e = tokenizer.encode(text)
        with torch.no_grad():
            hidden = model(torch.tensor([e.ids]), attention_mask=torch.ones(1, len(e.ids), dtype=torch.long)).last_hidden_state[0]
        cases.append({
            "text": text,
            "ids": e.ids,
            "tokens": e.tokens,
            "offsets": [list(o) for o in e.offsets],
            "hidden": [[round(float(v), 6) for v in row] for row in hidden],
        })
    with open("tests/fixtures/text/minilm_reference.json", "w") as f:
        json.dump(cases, f, ensure_ascii=False)
    print(f"{len(cases)} sentences, {sum(len(c['ids']) for c in cases)} tokens")


if __name__ == "__main__":
    main()
