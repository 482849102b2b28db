#!/usr/bin/env bash
# End-to-end smoke of a ptft binary built with AddressSanitizer + UBSan (issue 21, item 2):
# the path a user's files take through the torch-free half (tokenizer.json encoding and decoding,
# data prepare, config parsing, checkpoints, SFT rows and chat templates, HF and GGUF export and
# loading, serve's HTTP layer), with a few training steps in between. Any sanitizer report ends
# the command that hit it with a failure, and then this script (exit 1, the report on stderr).
#
#   PTFT=build/ptft-sanitized scripts/sanitize-smoke.sh      # CTest: sanitized_smoke
#
# Works on any ptft binary (PTFT=build/ptft checks the script itself); about a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
PTFT="$(realpath "${PTFT:-build/ptft-sanitized}")"
[[ -x "$PTFT" ]] || { echo "sanitize-smoke: no binary at '$PTFT' (set PTFT=...)" >&2; exit 2; }
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-sanitize-smoke.XXXXXX")"
SERVER=""
cleanup() { [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
step() { echo "sanitize-smoke: $*" >&2; }
run() { "$PTFT" "$@" > "$WORK/last.out" 2> "$WORK/last.err" ||
          { echo "sanitize-smoke: FAILED: ptft $*" >&2; cat "$WORK/last.err" >&2; exit 1; }; }
start=$(date +%s)
TEXT=(/usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0 /usr/share/common-licenses/MPL-2.0)

# The real tokenizer.json files (scripts/fetch-hf-tokenizers.sh, npm). Not `tokenizer train`:
# SentencePiece is dlopen()ed apart from libtorch's protobuf with RTLD_DEEPBIND, which the
# sanitizer runtime refuses (the sanitized unit tests train SentencePiece tokenizers, without libtorch).
scripts/fetch-hf-tokenizers.sh > "$WORK/fetch.log" 2>&1 || { cat "$WORK/fetch.log" >&2; exit 1; }
HFT=data/hf-tokenizers
step "tokenizer encode / decode (Llama-2, Llama-3, Qwen3 tokenizer.json)"
for name in llama2 llama3 qwen3; do
  run tokenizer encode --tokenizer "$HFT/$name" "Licences: clause 7 (b) — ünïcödé ✓ 1234  <|im_start|> 漢字 🙂"
  ids="$(tr -cs '0-9' ' ' < "$WORK/last.out")"
  # shellcheck disable=SC2086  # the ids are separate arguments
  run tokenizer decode --tokenizer "$HFT/$name" $ids
done

step "data prepare (text), pretrain llama-tiny 4 steps"
run data prepare --tokenizer "$HFT/llama2" --input "${TEXT[@]}" --out "$WORK/shards" --val-fraction 0.34 \
  --split-documents blank-lines --quiet --threads 1
run pretrain --config configs/llama-tiny-general.yaml --out "$WORK/pre" --quiet --threads 2 \
  --set data.train="$WORK/shards" --set data.val="$WORK/shards" --set model.vocab_size=32000 \
  --set train.steps=4 --set train.batch_size=2 --set model.max_position_embeddings=64 --set train.eval_every=4 \
  --set train.eval_batches=1 --set train.save_every=4 --set train.warmup=1

step "SFT with LoRA (JSONL rows, Llama-2's Jinja chat template), eval"
for i in $(seq 0 11); do
  printf '{"prompt": "What does clause %d say?", "response": "Clause %d covers the licence."}\n' "$i" "$i"
done > "$WORK/sft.jsonl"
run finetune --config configs/llama-tiny-medical-sft.yaml --from "$WORK/pre" --out "$WORK/sft" --quiet \
  --threads 2 --set data.train="$WORK/sft.jsonl" --set data.val="$WORK/sft.jsonl" \
  --set finetune.strategy=lora --set train.steps=3 --set train.batch_size=2 --set train.eval_every=3 \
  --set train.eval_batches=1 --set train.save_every=3 --set train.warmup=1
run eval --model "$WORK/pre" --data "$WORK/shards" --max-tokens 256 --json --threads 2

step "export hf and gguf, read both back"
run export --model "$WORK/sft" --format hf --merge-lora --out "$WORK/hf"
run export --model "$WORK/pre" --format gguf --dtype f16 --out "$WORK/model.gguf"
run tokenizer encode --tokenizer "$WORK/hf" "What does clause 3 say?"
run generate --model "$WORK/hf" --chat --prompt "What does clause 3 say?" --max-new-tokens 8 --temperature 0 \
  --threads 2 --json
run generate --model "$WORK/model.gguf" --prompt "The licence" --max-new-tokens 8 --threads 2
run eval --model "$WORK/hf" --data "$WORK/shards" --max-tokens 256 --threads 2

step "serve: one good request, malformed ones"
"$PTFT" serve --model "$WORK/hf" --port 0 --threads 2 > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER=$!
port=""
for _ in $(seq 1 600); do  # the instrumented binary loads in a few seconds
  port="$(grep -o '127\.0\.0\.1:[0-9]*' "$WORK/serve.err" "$WORK/serve.out" 2>/dev/null | head -1 | cut -d: -f3)" || true
  [[ -n "$port" ]] && break
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$port" ]] || { echo "sanitize-smoke: FAILED: serve did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }
url="http://127.0.0.1:$port/v1/chat/completions"
code="$(curl -s -o "$WORK/reply.json" -w '%{http_code}' "$url" -H 'Content-Type: application/json' \
  -d '{"messages": [{"role": "user", "content": "clause 3?"}], "max_tokens": 4, "temperature": 0}')"
[[ "$code" == 200 ]] || { echo "sanitize-smoke: FAILED: chat completion gave HTTP $code" >&2; exit 1; }
for body in '{"messages": [' '{"messages": "x", "max_tokens": -1}' '[[[[[[[[' '{"model": 1e999}'; do
  code="$(curl -s -o /dev/null -w '%{http_code}' "$url" -H 'Content-Type: application/json' -d "$body")"
  [[ "$code" == 400 ]] || { echo "sanitize-smoke: FAILED: body '$body' gave HTTP $code, not 400" >&2; exit 1; }
done
kill -TERM "$SERVER"
wait "$SERVER" || { echo "sanitize-smoke: FAILED: serve exited $? after SIGTERM" >&2; cat "$WORK/serve.err" >&2; exit 1; }
SERVER=""
echo "sanitize-smoke: passed in $(( $(date +%s) - start )) s ($PTFT)"
