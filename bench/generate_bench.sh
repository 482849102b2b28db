#!/usr/bin/env bash
# Generation speed at batch 1 with a key/value cache: `ptft generate --temperature 0` against the
# same model generating greedily in PyTorch eager with a KV cache (bench/peers/generate_peer.py),
# for llama-tiny, a SmolLM2-135M-shaped model and GPT-2 124M, in one invocation with the same
# threads; ptft with float32 and with bfloat16 decode weights (`--dtype bf16`), the peer in float32
# and in bfloat16; each side's faster mode counts.
# Prints decode tokens/s (the tokens after the first), time to first token, and peak RSS.
#
#   bench/generate_bench.sh [PTFT_BIN]          # default build/ptft
#
# Environment: THREADS (default 2), PRESETS (default "llama-tiny smollm2-135m gpt2"), NEW_TOKENS
# (default 128), REPEATS (default 3, alternating; the best of each side counts), PTFT_DTYPES
# (default "f32 bf16"), PYTHON (default /usr/bin/python3 with Debian's python3-torch).
# The ptft model is a checkpoint of one training step on data/shards/general (its SentencePiece
# tokenizer gives the prompt text's ids; scripts/prepare-text-data.sh makes the shards), with the
# context cut to 512; the peer builds the same architecture with random weights and a random
# prompt of the same length (speed does not depend on the values). ptft stops early only at
# end-of-text, which a model this untrained samples with probability ~1/vocab per token.
set -euo pipefail
cd "$(dirname "$0")/.."

PTFT="${1:-build/ptft}"
THREADS="${THREADS:-2}"
PRESETS="${PRESETS:-llama-tiny smollm2-135m gpt2}"
NEW_TOKENS="${NEW_TOKENS:-128}"
REPEATS="${REPEATS:-3}"
PTFT_DTYPES="${PTFT_DTYPES:-f32 bf16}"
PYTHON="${PYTHON:-/usr/bin/python3}"
CONTEXT=512
SHARDS=data/shards/general

[[ -x "$PTFT" ]] || { echo "generate_bench: no ptft binary at $PTFT (scripts/build.sh)" >&2; exit 1; }
source scripts/blas-kernels.sh  # OPENBLAS_CORETYPE for both sides where needed
[[ -d "$SHARDS" ]] || { echo "generate_bench: no $SHARDS (scripts/prepare-text-data.sh makes it)" >&2; exit 1; }
"$PYTHON" -c 'import torch, yaml' 2>/dev/null ||
  { echo "generate_bench: $PYTHON cannot import torch and yaml (apt-get install -y python3-torch python3-yaml)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-gen-bench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS="$THREADS"
echo "generate_bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
PROMPT="The court held that the contract was void because the parties had not agreed on the price, and the"
echo -n "$PROMPT" > "$WORK/prompt.txt"

for preset in $PRESETS; do
  family="$(sed -n 's/^family: *\([a-z0-9]*\).*/\1/p' "configs/models/$preset.yaml")"
  vocab="$(sed -n 's/^vocab_size: *\([0-9]*\).*/\1/p' "configs/models/$preset.yaml")"
  context_key=max_position_embeddings
  [[ "$family" == gpt ]] && context_key=n_positions
  cat > "$WORK/$preset.yaml" <<YAML
model: {family: $family, preset: $preset, $context_key: $CONTEXT, vocab_size: $vocab}
data: {train: $SHARDS}
train: {steps: 1, batch_size: 1, eval_every: 0, save_every: 1, warmup: 0}
YAML
  echo "[$preset] one training step for a checkpoint ..." >&2
  "$PTFT" pretrain --config "$WORK/$preset.yaml" --out "$WORK/run-$preset" --threads "$THREADS" --quiet \
    > "$WORK/pre-$preset.log" 2>&1 || { cat "$WORK/pre-$preset.log" >&2; exit 1; }
  for ((r = 1; r <= REPEATS; r++)); do
    for dtype in $PTFT_DTYPES; do
      echo "[$preset] ptft generate --dtype $dtype, $NEW_TOKENS tokens (run $r/$REPEATS) ..." >&2
      "$PTFT" generate --model "$WORK/run-$preset" --prompt-file "$WORK/prompt.txt" --max-new-tokens "$NEW_TOKENS" \
        --temperature 0 --threads "$THREADS" --dtype "$dtype" --json > "$WORK/ptft-$preset-$r-$dtype.json"
      /usr/bin/time -f '%M' -o "$WORK/ptft-$preset-$r-$dtype.rss" "$PTFT" generate --model "$WORK/run-$preset" \
        --prompt-file "$WORK/prompt.txt" --max-new-tokens 8 --temperature 0 --threads "$THREADS" --dtype "$dtype" \
        --json > /dev/null
      prompt_tokens="$("$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['prompt_tokens'])" \
        "$WORK/ptft-$preset-$r-$dtype.json")"
    done
    for dtype in float32 bfloat16; do
      echo "[$preset] torch eager $dtype, $NEW_TOKENS tokens (run $r/$REPEATS) ..." >&2
      "$PYTHON" bench/peers/generate_peer.py --preset "configs/models/$preset.yaml" --context "$CONTEXT" \
        --vocab-size "$vocab" --prompt-tokens "$prompt_tokens" --new-tokens "$NEW_TOKENS" --threads "$THREADS" \
        --dtype "$dtype" > "$WORK/torch-$preset-$r-$dtype.json"
    done
  done
done

"$PYTHON" - "$WORK" "$PRESETS" "$REPEATS" "$PTFT_DTYPES" <<'PY'
import json, sys
work, presets, repeats, dtypes = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), sys.argv[4].split()
rows = []
for p in presets:
    ours_by = {d: [json.load(open(f"{work}/ptft-{p}-{r}-{d}.json")) for r in range(1, repeats + 1)] for d in dtypes}
    ours = [x for d in dtypes for x in ours_by[d]]
    best_d = max(dtypes, key=lambda d: max(x["decode_tokens_per_second"] for x in ours_by[d]))
    rss = max(int(open(f"{work}/ptft-{p}-{r}-{best_d}.rss").read().split()[-1]) for r in range(1, repeats + 1)) / 1024
    peer = [json.load(open(f"{work}/torch-{p}-{r}-{d}.json")) for r in range(1, repeats + 1)
            for d in ("float32", "bfloat16")]
    o = max(ours, key=lambda x: x["decode_tokens_per_second"])
    t = max(peer, key=lambda x: x["tokens_per_s"])
    each = {d: max(x["tokens_per_s"] for x in peer if x["dtype"] == d) for d in ("float32", "bfloat16")}
    mine = " / ".join(f"{max(x['decode_tokens_per_second'] for x in ours_by[d]):.0f}" for d in dtypes)
    rows.append([p, f"{t['params'] / 1e6:.1f}M", str(o["prompt_tokens"]), str(o["tokens"]), mine,
                 f"{each['float32']:.0f} / {each['bfloat16']:.0f}", f"{o['decode_tokens_per_second'] / t['tokens_per_s']:.2f}x",
                 f"{min(x['first_token_ms'] for x in ours):.1f} / {min(x['first_token_ms'] for x in peer):.1f}",
                 f"{rss:.0f} / {t['peak_rss_mb']:.0f}"])
head = ["model", "params", "prompt", "new", "ptft " + " / ".join(dtypes) + " tok/s", "torch f32 / bf16 tok/s", "ptft / best torch", "first token ms ptft / torch",
        "peak RSS MB ptft (its best dtype) / torch"]
w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
for r in [head] + rows:
    print("  ".join(c.rjust(w[i]) if i else c.ljust(w[i]) for i, c in enumerate(r)))
PY
