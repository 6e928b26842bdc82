#!/usr/bin/env python3
"""Caption files of DEPICT's ground truth (`pami concepts train` / `rank`).

    concept_captions.py TASK LINES SEED [balanced] > captions.jsonl

TASK strengths: four object concepts, present with probabilities 1/2
(`red circle`), 1/4 (`blue square`), 1/2 and 1/2 (`green triangle`, `black
star`), 1 or 2 instances each. The label is
    [red circle] or [blue square]
so for a perfect model, permuting `red circle` drops the AUROC from 1 to
0.6 (importance 0.4), permuting `blue square` to 0.8 (importance 0.2), and
`green triangle` and `black star` are irrelevant (importance 0). The label
is a function of the concepts, not drawn around them: with label noise, the
order of a perfect model's near-equal scores among same-concept images
decides part of the AUROC, and any response to an irrelevant object
reshuffles it. With `balanced` (the training file), every draw is written
four times, once with each combination of the irrelevant concepts' presence,
so nothing about them goes with the label, even by chance.

TASK eight: eight object concepts, each present with probability 1/2 (1 or
2 instances), the label [red circle] or [blue square]: the workload of the
README's timing (8 concepts x 25 permutations x 1,000 images).

TASK texture: `striped background` present with probability 1/2 and the
label is its presence; three object concepts, each present with probability
1/2, are irrelevant (true strengths 1, 0, 0, 0).
"""
import json
import random
import sys

# Presence probability of each concept, and whether the label depends on it.
STRENGTHS = {"red circle": (0.5, True), "blue square": (0.25, True), "green triangle": (0.5, False), "black star": (0.5, False)}
TEXTURE_OBJECTS = ["red circle", "blue square", "green triangle"]
EIGHT = ["red circle", "blue square", "green triangle", "black star", "yellow cross", "magenta ring", "cyan square", "white circle"]


def caption(items):
    return ", ".join(f"{n} {c}" for c, n in items if n > 0)


def strengths(rng, balanced):
    counts = [(c, rng.randint(1, 2) if rng.random() < p else 0) for c, (p, _) in STRENGTHS.items()]
    label = int(any(n > 0 and STRENGTHS[c][1] for c, n in counts))
    if not balanced:
        return [(caption(counts), label)]
    irrelevant = [c for c, (_, relevant) in STRENGTHS.items() if not relevant]
    lines = []
    for present in range(1 << len(irrelevant)):
        on = {c for b, c in enumerate(irrelevant) if present >> b & 1}
        variant = [(c, (n or rng.randint(1, 2)) if c in on else 0) if c in irrelevant else (c, n) for c, n in counts]
        lines.append((caption(variant), label))
    return lines


def eight(rng, balanced):
    counts = [(c, rng.randint(1, 2) if rng.random() < 0.5 else 0) for c in EIGHT]
    label = int(any(n > 0 for c, n in counts if c in ("red circle", "blue square")))
    return [(caption(counts), label)]


def texture(rng, balanced):
    striped = rng.random() < 0.5
    counts = [(c, rng.randint(1, 2) if rng.random() < 0.5 else 0) for c in TEXTURE_OBJECTS]
    items = [("striped background", int(striped))] + counts
    return [(caption(items), int(striped))]


def main():
    task, lines, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    balanced = sys.argv[4:] == ["balanced"]
    make = {"strengths": strengths, "texture": texture, "eight": eight}[task]
    rng = random.Random(seed)
    written = 0
    while written < lines:
        for text, label in make(rng, balanced)[: lines - written]:
            print(json.dumps({"caption": text, "label": label}))
            written += 1


if __name__ == "__main__":
    main()
