#!/usr/bin/env bash
# Generation speed at batch 1: `ptft generate --temperature 0` against llama.cpp (node-llama-cpp's
# prebuilt CPU build, scripts/fetch-llama-cpp.sh) running the same model exported by
# `ptft export --format gguf`, same prompt ids, same threads, in one invocation. Prints decode
# tokens/s (after the first token) and time to first token for each, best of REPEATS.
#
#   bench/generate_llama_cpp_bench.sh [PTFT_BIN]          # default build/ptft
#
# Environment: THREADS (default 2), PRESETS (default "llama-tiny smollm2-135m"), NEW_TOKENS
# (default 128), REPEATS (default 3; llama.cpp runs at each of 1 .. THREADS threads per repeat, since
# its spinning thread pool can be far slower with as many threads as cores on a shared VM —
# llama-tiny on the xeon machine, 2026-12-07: 1271 tok/s on 1 thread, 58 on 2), DTYPE (GGUF weights, default f32; f16 is llama.cpp's usual),
# PTFT_DTYPE (`ptft generate --dtype`: default f32 with DTYPE f32, else bf16 — 16-bit weights on
# both sides).
# Models: one training step on data/shards/general (scripts/prepare-text-data.sh), context 512.
set -euo pipefail
cd "$(dirname "$0")/.."
PTFT="${1:-build/ptft}"
THREADS="${THREADS:-2}" PRESETS="${PRESETS:-llama-tiny smollm2-135m}" NEW_TOKENS="${NEW_TOKENS:-128}"
REPEATS="${REPEATS:-3}" DTYPE="${DTYPE:-f32}"
PTFT_DTYPE="${PTFT_DTYPE:-$([[ "$DTYPE" == f32 ]] && echo f32 || echo bf16)}"
SHARDS=data/shards/general
[[ -d "$SHARDS" ]] || { echo "generate_llama_cpp_bench: no $SHARDS (scripts/prepare-text-data.sh makes it)" >&2; exit 1; }
scripts/fetch-llama-cpp.sh >/dev/null
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-gen-llamacpp-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
PROMPT="The court held that the contract was void because the parties had not agreed on the price, and the"
echo "generate_llama_cpp_bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $THREADS threads, GGUF $DTYPE, ptft $PTFT_DTYPE, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
printf "%-14s %6s %12s %16s %10s %26s\n" model prompt "ptft tok/s" "llama.cpp tok/s" ptft/l.cpp "first token ms ptft / l.cpp"
for preset in $PRESETS; do
  printf 'model: {family: llama, preset: %s, max_position_embeddings: 512}\ndata: {train: %s}\ntrain: {steps: 1, batch_size: 1, eval_every: 0, save_every: 1, warmup: 0}\n' \
    "$preset" "$SHARDS" > "$WORK/$preset.yaml"
  "$PTFT" pretrain --config "$WORK/$preset.yaml" --out "$WORK/run-$preset" --threads "$THREADS" --quiet > "$WORK/log" 2>&1 ||
    { cat "$WORK/log" >&2; exit 1; }
  "$PTFT" export --model "$WORK/run-$preset" --format gguf --dtype "$DTYPE" --out "$WORK/$preset.gguf" 2>> "$WORK/log"
  ids="$("$PTFT" tokenizer encode --tokenizer "$WORK/run-$preset/checkpoints/last/tokenizer" --json -- "$PROMPT" |
         node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(JSON.parse(s).ids)))')"
  best_p=0 best_l=0 ttft_p=1e9 ttft_l=1e9
  for ((r = 1; r <= REPEATS; r++)); do
    p="$("$PTFT" generate --model "$WORK/run-$preset" --prompt "$PROMPT" --max-new-tokens "$NEW_TOKENS" --temperature 0 \
         --threads "$THREADS" --dtype "$PTFT_DTYPE" --json)"
    for ((lt = 1; lt <= THREADS; lt++)); do  # llama.cpp at each thread count: its fastest counts
      l="$(NODE_PATH=data/llama-cpp/node_modules node bench/peers/llama_cpp_generate.mjs "$WORK/$preset.gguf" "$ids" "$NEW_TOKENS" "$lt")"
      read -r best_p best_l ttft_p ttft_l < <(node -e '
        const [p, l, bp, bl, tp, tl] = process.argv.slice(1); const P = JSON.parse(p), L = JSON.parse(l);
        console.log(Math.max(+bp, P.decode_tokens_per_second), Math.max(+bl, L.decode_tokens_per_second),
                    Math.min(+tp, P.first_token_ms), Math.min(+tl, L.first_token_ms));' "$p" "$l" "$best_p" "$best_l" "$ttft_p" "$ttft_l")
    done
  done
  node -e 'const [m, n, p, l, tp, tl] = process.argv.slice(1);
    console.log(m.padEnd(14), n.padStart(6), (+p).toFixed(0).padStart(12), (+l).toFixed(0).padStart(16),
                ((+p) / (+l)).toFixed(2).padStart(9) + "x", ((+tp).toFixed(1) + " / " + (+tl).toFixed(1)).padStart(26));' \
    "$preset" "$(node -p "JSON.parse(process.argv[1]).length" "$ids")" "$best_p" "$best_l" "$ttft_p" "$ttft_l"
done
