#!/usr/bin/env bash
# Set-up + build + the main job on built-in defaults. For now: `ptft env` and a short real
# training run (an MLP on generated spirals), then a fine-tune from its best checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
PTFT=build/ptft
OUT="${PTFT_DEMO_DIR:-runs/demo}"
rm -rf "$OUT"
echo "== ptft env"
$PTFT env
echo "== pretrain: MLP on synthetic spirals -> $OUT/pretrain"
$PTFT pretrain --config configs/mlp-spirals.yaml --out "$OUT/pretrain"
echo "== finetune from $OUT/pretrain/checkpoints/best (first layer frozen) -> $OUT/finetune"
$PTFT finetune --config configs/mlp-spirals.yaml --from "$OUT/pretrain/checkpoints/best" \
  --out "$OUT/finetune" --set train.steps=200 --set train.lr=2.0e-3 --set 'finetune.freeze=[layers.0.*]'
echo "== done: see $OUT/*/metrics.jsonl, summary.json and checkpoints/"
