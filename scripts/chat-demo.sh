#!/usr/bin/env bash
# A domain chatbot, the seed's way, measured on this machine: pre-train llama-tiny (the Llama
# architecture) on general English, fine-tune it into a medical-dictionary assistant with chat
# fine-tuning (SFT: loss on the answers only), and compare with the same model trained on the
# chat data alone from scratch with the same budget.
#
#   scripts/chat-demo.sh                       # everything: setup, build, data, runs, table
#   PTFT_DEMO_DIR=runs/chat-demo PTFT_DEMO_PRETRAIN_STEPS=800 PTFT_DEMO_STEPS=300 scripts/chat-demo.sh
#
# Steps: GCIDE dictionary text (scripts/prepare-text-data.sh) -> the SentencePiece tokenizer and
# general shards that scripts/demo.sh uses -> `ptft pretrain` llama-tiny on general -> SFT data
# (scripts/prepare-sft-data.sh: "What does X mean in anatomy?" -> GCIDE's medical definitions,
# train/val split by term) -> `ptft finetune` (task sft) full and LoRA -> `ptft pretrain` (task
# sft) from scratch -> answer-only validation loss of each (summary.json) -> a short transcript of
# each model answering held-out questions -> the table (also $OUT/results.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
PTFT=build/ptft
OUT="${PTFT_DEMO_DIR:-runs/chat-demo}"
PRE_STEPS="${PTFT_DEMO_PRETRAIN_STEPS:-800}"
FT_STEPS="${PTFT_DEMO_STEPS:-300}"
THREADS="${PTFT_THREADS:-0}"
start=$(date +%s)

echo "== corpora (Debian packages) -> data/text, SFT pairs -> data/sft/medical"
scripts/prepare-text-data.sh data/text
scripts/prepare-sft-data.sh data/sft/medical
if [[ ! -f data/tokenizers/general-8k/tokenizer_config.json ]]; then
  echo "== tokenizer: SentencePiece BPE, 8000 pieces, trained on the general text"
  $PTFT tokenizer train --input data/text/general --vocab-size 8000 --type bpe \
    --max-sentences 100000 --out data/tokenizers/general-8k
fi
if [[ ! -f data/shards/general/meta.json ]]; then
  echo "== data prepare: general -> data/shards/general"
  $PTFT data prepare --tokenizer data/tokenizers/general-8k --input data/text/general \
    --out data/shards/general --val-fraction 0.05
fi

rm -rf "$OUT"
mkdir -p "$OUT"
common=(--threads "$THREADS")
echo "== pretrain llama-tiny on general English, $PRE_STEPS steps -> $OUT/general"
$PTFT pretrain --config configs/llama-tiny-general.yaml --out "$OUT/general" --set train.steps="$PRE_STEPS" "${common[@]}"

sft=(--config configs/llama-tiny-medical-sft.yaml --set train.steps="$FT_STEPS")
echo "== SFT from the pre-trained model: full -> $OUT/full"
$PTFT finetune "${sft[@]}" --from "$OUT/general/checkpoints/last" --out "$OUT/full" "${common[@]}"
echo "== SFT from the pre-trained model: LoRA r=16 -> $OUT/lora"
$PTFT finetune "${sft[@]}" --from "$OUT/general/checkpoints/last" --out "$OUT/lora" --set finetune.strategy=lora \
  --set finetune.lora.r=16 --set finetune.lora.alpha=32 --set train.lr=5.0e-3 "${common[@]}"
echo "== scratch: the same llama-tiny trained on the chat data only, same budget -> $OUT/scratch"
$PTFT pretrain "${sft[@]}" --out "$OUT/scratch" --set model.family=llama --set model.preset=llama-tiny \
  --set data.tokenizer=data/tokenizers/general-8k --set train.lr=2.0e-3 "${common[@]}"

echo "== transcript: held-out questions"
head -n 3 data/sft/medical/val.jsonl | python3 -c 'import json,sys; [print(json.loads(l)["prompt"]) for l in sys.stdin]' \
  > "$OUT/questions.txt"
for run in full lora scratch; do
  $PTFT chat --model "$OUT/$run" --temperature 0 --max-new-tokens 40 "${common[@]}" < "$OUT/questions.txt" \
    > "$OUT/$run/transcript.txt" 2>/dev/null
done

python3 - "$OUT" "$PRE_STEPS" "$FT_STEPS" <<'PY'
import json, sys
out, pre_steps, ft_steps = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [("scratch", "scratch: chat data only", ft_steps),
        ("full", "pre-trained + SFT: full", ft_steps),
        ("lora", "pre-trained + SFT: LoRA r=16", ft_steps)]
lines = ["| model | SFT steps | answer val loss | answer val ppl | wall s | trainable params |",
         "|---|---:|---:|---:|---:|---:|"]
res = {}
for run, label, steps in rows:
    s = json.load(open(f"{out}/{run}/summary.json"))
    ev = s["last_eval"]
    res[run] = ev["val_loss"]
    lines.append(f"| {label} | {steps} | {ev['val_loss']:.3f} | {ev['val_perplexity']:.1f} | {s['wall_seconds']:.0f} | "
                 f"{s['trainable_parameters']:,} |")
best = min(("full", "lora"), key=lambda r: res[r])
import math
verdict = (f"held-out answers (perplexity): best pre-trained + SFT ({best}) {math.exp(res[best]):.1f} vs scratch "
           f"{math.exp(res['scratch']):.1f} -> {'pre-training + fine-tuning wins' if res[best] < res['scratch'] else 'scratch wins'} "
           f"({math.exp(res['scratch'] - res[best]):.2f}x); pre-training: {pre_steps} steps on general English")
questions = open(f"{out}/questions.txt").read().splitlines()
transcript = []
for run, label, _ in rows:
    answers = open(f"{out}/{run}/transcript.txt").read().splitlines()
    transcript.append(f"**{label}**\n")
    for q, a in zip(questions, answers):
        transcript.append(f"> {q}\n\n{a.strip()}\n")
text = "\n".join(lines) + "\n\n" + verdict + "\n\n" + "\n".join(transcript)
open(f"{out}/results.md", "w").write(text)
print(text)
PY
echo "== done in $(( $(date +%s) - start )) s; runs under $OUT; table and transcript: $OUT/results.md"
