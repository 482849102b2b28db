#!/usr/bin/env bash
# `ptft serve` under a bounded load on loopback: CLIENTS concurrent OpenAI clients x REQUESTS
# completions each (bench/serve_load.mjs; half streamed), then the server's resident memory
# before and after, and its exit after SIGTERM.
#
#   bench/serve_load.sh MODEL [CLIENTS=8] [REQUESTS=50] [MAX_TOKENS=16]
#   (MODEL: anything `ptft serve --model` takes; e.g. runs/demo/full)
# Prints the load's JSON line with rss_mb_before / rss_mb_after_load / rss_mb_after_second_load
# added (a second identical load shows whether memory keeps growing) and the CPU flags.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:?usage: bench/serve_load.sh MODEL [CLIENTS] [REQUESTS] [MAX_TOKENS]}"
CLIENTS="${2:-8}" REQUESTS="${3:-50}" MAX="${4:-16}"
PTFT="${PTFT:-build/ptft}"
scripts/fetch-openai-client.sh >/dev/null
log="$(mktemp)"
"$PTFT" serve --model "$MODEL" --port 0 --max-queue 64 > /dev/null 2> "$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 600); do grep -q "on http://" "$log" && break; sleep 0.1; done
port="$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f3)"
[[ -n "$port" ]] || { cat "$log" >&2; exit 1; }
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status"; }
load() { NODE_PATH=data/openai-client/node_modules node bench/serve_load.mjs "http://127.0.0.1:$port/v1" "$CLIENTS" "$REQUESTS" "$MAX"; }
before="$(rss)"
result="$(load)"
after="$(rss)"
load > /dev/null
after2="$(rss)"
kill -TERM $pid
wait $pid && code=0 || code=$?
node -e '
const r = JSON.parse(process.argv[1]);
Object.assign(r, {rss_mb_before: +process.argv[2], rss_mb_after_load: +process.argv[3], rss_mb_after_second_load: +process.argv[4],
                  exit_after_sigterm: +process.argv[5], cpu_flags: process.argv[6]});
console.log(JSON.stringify(r));' "$result" "$before" "$after" "$after2" "$code" \
  "$(grep -m1 -o -w -E 'avx512_bf16|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
