#!/usr/bin/env bash
# The seed's claim, measured on this machine: pre-train a small GPT on general English, then
# fine-tune it on a small legal corpus, and compare with the same model trained from scratch on
# the legal text alone with the same fine-tuning budget.
#
#   scripts/demo.sh                       # everything: setup, build, data, runs, table
#   PTFT_DEMO_DIR=runs/demo PTFT_DEMO_PRETRAIN_STEPS=2000 PTFT_DEMO_STEPS=150 scripts/demo.sh
#
# Steps: corpora from Debian packages (scripts/prepare-text-data.sh: GCIDE dictionary = general,
# licences + copyright files = legal) -> a SentencePiece BPE tokenizer (8000) trained on the
# general text -> token shards -> `ptft pretrain` gpt-tiny on general -> `ptft finetune` on legal
# with strategies full, freeze (embeddings + 2 of 4 blocks), LoRA (r=32) and full with a quarter
# of each batch replayed from the general text (against forgetting) -> `ptft pretrain` of the
# same architecture on legal only (scratch) -> `ptft eval` of every model on held-out legal and
# general text -> the table (also written to $OUT/results.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
PTFT=build/ptft
OUT="${PTFT_DEMO_DIR:-runs/demo}"
PRE_STEPS="${PTFT_DEMO_PRETRAIN_STEPS:-2000}"
FT_STEPS="${PTFT_DEMO_STEPS:-150}"
THREADS="${PTFT_THREADS:-0}"
start=$(date +%s)

echo "== ptft env"
$PTFT env

echo "== corpora (Debian packages) -> data/text"
scripts/prepare-text-data.sh data/text

if [[ ! -f data/tokenizers/general-8k/tokenizer_config.json ]]; then
  echo "== tokenizer: SentencePiece BPE, 8000 pieces, trained on the general text"
  $PTFT tokenizer train --input data/text/general --vocab-size 8000 --type bpe \
    --max-sentences 100000 --out data/tokenizers/general-8k
fi
for part in general legal; do
  if [[ ! -f data/shards/$part/meta.json ]]; then
    echo "== data prepare: $part -> data/shards/$part"
    $PTFT data prepare --tokenizer data/tokenizers/general-8k --input data/text/$part \
      --out data/shards/$part --val-fraction 0.05
  fi
done

rm -rf "$OUT"
mkdir -p "$OUT"
common=(--threads "$THREADS")
echo "== pretrain gpt-tiny on general English, $PRE_STEPS steps -> $OUT/general"
$PTFT pretrain --config configs/gpt-tiny-general.yaml --out "$OUT/general" \
  --set train.steps="$PRE_STEPS" "${common[@]}"

ft=(--config configs/gpt-tiny-legal.yaml --from "$OUT/general/checkpoints/last" --set train.steps="$FT_STEPS")
echo "== finetune on legal: full -> $OUT/full"
$PTFT finetune "${ft[@]}" --out "$OUT/full" "${common[@]}"
echo "== finetune on legal: freeze embeddings + first 2 blocks -> $OUT/freeze"
$PTFT finetune "${ft[@]}" --out "$OUT/freeze" --set finetune.strategy=freeze --set finetune.freeze_layers=2 \
  --set train.lr=3.0e-3 "${common[@]}"
echo "== finetune on legal: LoRA r=32 -> $OUT/lora"
$PTFT finetune "${ft[@]}" --out "$OUT/lora" --set finetune.strategy=lora --set finetune.lora.r=32 \
  --set finetune.lora.alpha=64 --set train.lr=1.0e-2 "${common[@]}"
echo "== finetune on legal: full, a quarter of each batch replayed from the general text -> $OUT/replay"
$PTFT finetune "${ft[@]}" --out "$OUT/replay" --set finetune.replay.data=data/shards/general \
  --set finetune.replay.fraction=0.25 "${common[@]}"
echo "== scratch: the same gpt-tiny trained on legal only, same budget -> $OUT/scratch"
$PTFT pretrain --config configs/gpt-tiny-legal.yaml --out "$OUT/scratch" --set model.family=gpt \
  --set model.preset=gpt-tiny --set train.steps="$FT_STEPS" --set train.lr=2.0e-3 "${common[@]}"

echo "== evaluation on held-out text (val splits): legal and general"
for run in general full freeze lora replay scratch; do
  for part in legal general; do
    $PTFT eval --model "$OUT/$run/checkpoints/last" --data data/shards/$part --split val --max-tokens 65536 --batch-size 16 --json \
      "${common[@]}" > "$OUT/$run/eval-$part.json"
  done
done

python3 - "$OUT" "$PRE_STEPS" "$FT_STEPS" <<'PY'
import json, sys
out, pre_steps, ft_steps = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [("general", "pre-trained on general only (no fine-tuning)", pre_steps),
        ("scratch", "scratch: legal only", ft_steps),
        ("full", "pre-trained + fine-tuned: full", ft_steps),
        ("freeze", "pre-trained + fine-tuned: freeze 2/4 blocks", ft_steps),
        ("lora", "pre-trained + fine-tuned: LoRA r=32", ft_steps),
        ("replay", "pre-trained + fine-tuned: full, 25 % general replay", ft_steps)]
lines = ["| model | steps | legal val ppl | general val ppl | wall s | trainable params |",
         "|---|---:|---:|---:|---:|---:|"]
res = {}
for run, label, steps in rows:
    legal = json.load(open(f"{out}/{run}/eval-legal.json"))
    general = json.load(open(f"{out}/{run}/eval-general.json"))
    s = json.load(open(f"{out}/{run}/summary.json"))
    res[run] = legal["perplexity"]
    lines.append(f"| {label} | {steps} | {legal['perplexity']:.1f} | {general['perplexity']:.1f} | "
                 f"{s['wall_seconds']:.0f} | {s['trainable_parameters']:,} |")
best = min(("full", "freeze", "lora", "replay"), key=lambda r: res[r])
verdict = (f"held-out legal perplexity: best fine-tuned ({best}) {res[best]:.1f} vs scratch {res['scratch']:.1f} "
           f"-> {'pre-training + fine-tuning wins' if res[best] < res['scratch'] else 'scratch wins'} "
           f"({res['scratch'] / res[best]:.2f}x)")
text = "\n".join(lines) + "\n\n" + verdict + "\n"
open(f"{out}/results.md", "w").write(text)
print(text)
PY
# One page with every run's curves overlaid and the comparison table (each run also has its own
# report.html); the samples are greedy continuations of each GPT.
"$PTFT" report "$OUT"/general "$OUT"/scratch "$OUT"/full "$OUT"/freeze "$OUT"/lora "$OUT"/replay --out "$OUT/report.html" \
  --title "ptft demo: general pre-training, legal fine-tuning vs scratch" --threads "$THREADS"
echo "== done in $(( $(date +%s) - start )) s; runs, metrics.jsonl and checkpoints under $OUT; report: $OUT/report.html"
