#!/bin/sh
# Trains DEPICT's ground truth (`pami concepts rank`, tests/concepts.rs) on
# images the procedural renderer makes from caption files, on 2 CPU cores
# (about 2 minutes each):
#   models/concepts_strengths.bpk  label from a logistic model of `red circle`
#                                  (decisive) and `blue square` (weaker);
#                                  `green triangle`, `black star` irrelevant
#   models/concepts_texture.bpk    label = `striped background`; the objects irrelevant
#   models/concepts_detector.bpk   one sigmoid per concept of the strengths captions
# The caption files come from tools/concept_captions.py: 16,000 training lines
# (seed 1; the strengths ones balanced in the irrelevant concepts) here, the 1,000 held-out lines of tests/data/concepts/ (seed 2).
# Each .bpk has its settings and held-out accuracy beside it (.json).
set -e
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
for task in strengths texture; do
  python3 tools/concept_captions.py $task 16000 1 balanced > "$tmp/$task.jsonl"
  python3 tools/concept_captions.py $task 1000 2 > tests/data/concepts/$task.jsonl
done
pami="cargo run --release --"
$pami concepts train --captions "$tmp/strengths.jsonl" --out models/concepts_strengths.bpk --steps 1000 --device cpu
$pami concepts train --captions "$tmp/texture.jsonl" --out models/concepts_texture.bpk --steps 1000 --device cpu
$pami concepts train --captions "$tmp/strengths.jsonl" --out models/concepts_detector.bpk --detector --steps 1000 --device cpu
rm -r "$tmp"
