#!/usr/bin/env bash
# `ptft data prepare` throughput (input MB/s, after decompression) on the general corpus, with
# 1 thread and with more, the same tokenizer and inputs in one invocation. The tokenizer's
# encode() does nearly all the work; the reading/ordering/writing pipeline alone runs at
# ~30-60 MB/s (measured with a byte-level fake tokenizer), so this is mostly encode speed
# times the parallel efficiency.
#
#   scripts/prepare-text-data.sh                      # data/text/general (GCIDE, ~29 MB)
#   bench/data_prepare_bench.sh [PTFT] [TEXT_DIR] [TOKENIZER_DIR] [THREADS...]
#   bench/data_prepare_bench.sh build/ptft data/text/general "" 1 2 4
#
# Defaults: PTFT=build/ptft, TEXT_DIR=data/text/general, THREADS="1 2". Without a tokenizer
# directory one is trained first (SentencePiece BPE, 8000 pieces, on TEXT_DIR; not timed).
# Results, with the machine and the command, go to docs/results.md.
set -euo pipefail

PTFT="${1:-build/ptft}"
TEXT="${2:-data/text/general}"
TOK="${3:-}"
shift $(( $# < 3 ? $# : 3 ))
THREADS=("$@")
((${#THREADS[@]})) || THREADS=(1 2)

[[ -x "$PTFT" ]] || { echo "data_prepare_bench: no ptft binary at $PTFT (build it first)" >&2; exit 1; }
[[ -e "$TEXT" ]] || { echo "data_prepare_bench: $TEXT not found (run scripts/prepare-text-data.sh)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-data-bench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

if [[ -z "$TOK" ]]; then
  TOK="$WORK/tok"
  echo "training a tokenizer on $TEXT (bpe, 8000 pieces; not timed) ..." >&2
  "$PTFT" tokenizer train --input "$TEXT" --vocab-size 8000 --type bpe --out "$TOK" >/dev/null 2>&1
fi

printf '%-8s %12s %12s %10s %10s\n' threads input_MB tokens seconds MB/s
for t in "${THREADS[@]}"; do
  "$PTFT" data prepare --tokenizer "$TOK" --input "$TEXT" --out "$WORK/out-$t" --threads "$t" \
    --json --quiet > "$WORK/summary-$t.json"
  # One JSON object: input_bytes, tokens.{train,val}, seconds.
  tr -d ' \n' < "$WORK/summary-$t.json" | awk -v t="$t" '{
    match($0, /"input_bytes":[0-9]+/); b = substr($0, RSTART + 14, RLENGTH - 14);
    match($0, /"seconds":[0-9.eE+-]+/); s = substr($0, RSTART + 10, RLENGTH - 10);
    match($0, /"tokens":\{"train":[0-9]+,"val":[0-9]+\}/); tk = substr($0, RSTART, RLENGTH);
    gsub(/[^0-9,]/, "", tk); split(tk, p, ","); n = p[1] + p[2];
    printf "%-8s %12.1f %12d %10.2f %10.2f\n", t, b / 1e6, n, s, b / 1e6 / s }'
  rm -rf "$WORK/out-$t"
done
