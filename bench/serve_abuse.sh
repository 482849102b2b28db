#!/usr/bin/env bash
# `ptft serve` under abuse (issue 21, item 5): malformed JSON, bodies over --max-body-bytes,
# half-sent and trickling requests, hundreds of connections at once, streams cancelled mid-way
# (bench/serve_abuse.mjs, ROUNDS rounds of about 30 s), then checks that the server
#   - still answers: a greedy completion gives the same text as before the abuse;
#   - did not crash, and exits 0 on SIGTERM;
#   - holds its memory: VmRSS after the last round at most max(32 MB, 20 %) above the level
#     before (measured after 10 warm-up requests), and the last round's at most 8 MB above the
#     first round's (growth that repeats with each round would be a leak).
#
#   bench/serve_abuse.sh [MODEL] [ROUNDS=2]      # PTFT=path/to/ptft (default build/ptft)
# Without MODEL it trains a tiny GPT (SentencePiece 400, one block, 30 steps) on the GPL first.
# Prints the abuse's JSON line and a verdict; exits 1 on a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-}" ROUNDS="${2:-2}"
PTFT="${PTFT:-build/ptft}"
[[ -x "$PTFT" ]] || { echo "serve_abuse: no ptft binary at '$PTFT' (set PTFT=...)" >&2; exit 2; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-serve-abuse.XXXXXX")"
pid=""
trap '[[ -n "$pid" ]] && kill -9 $pid 2>/dev/null; rm -rf "$WORK"' EXIT

if [[ -z "$MODEL" ]]; then  # as tests/e2e/tiny_checkpoint.h makes it
  gpl=/usr/share/common-licenses/GPL-3
  "$PTFT" tokenizer train --input $gpl --vocab-size 400 --type bpe --out "$WORK/tok" --threads 1 > /dev/null
  "$PTFT" data prepare --tokenizer "$WORK/tok" --input $gpl --out "$WORK/shards" --val-fraction 0.2 \
    --split-documents blank-lines --threads 1 --quiet
  cat > "$WORK/gpt.yaml" <<EOF
model: {family: gpt, vocab_size: 400, n_positions: 64, n_embd: 32, n_layer: 1, n_head: 2}
data: {train: $WORK/shards, val: $WORK/shards}
train: {steps: 30, batch_size: 8, lr: 3.0e-3, warmup: 5, eval_every: 30, eval_batches: 2, save_every: 30, weight_decay: 0.0}
EOF
  "$PTFT" pretrain --config "$WORK/gpt.yaml" --out "$WORK/run" --threads 1 --quiet
  MODEL="$WORK/run"
fi

MAX_BODY=1048576  # serve's default, given explicitly so that the abuse knows it
"$PTFT" serve --model "$MODEL" --port 0 --max-body-bytes $MAX_BODY > /dev/null 2> "$WORK/serve.log" &
pid=$!
for _ in $(seq 600); do grep -q "on http://" "$WORK/serve.log" && break; sleep 0.1; done
port="$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve.log" | head -1 | cut -d: -f3)"
[[ -n "$port" ]] || { cat "$WORK/serve.log" >&2; exit 1; }

result="$(node bench/serve_abuse.mjs "$port" "$pid" "$ROUNDS" "$MAX_BODY")" || true
alive=1; kill -0 $pid 2>/dev/null || alive=0
code=none
if (( alive )); then
  kill -TERM $pid
  wait $pid && code=0 || code=$?
else
  wait $pid && code=0 || code=$?
fi
pid=""
echo "$result"
node -e '
const [text, alive, code, log] = process.argv.slice(1);
let r;
try { r = JSON.parse(text); } catch { console.log("serve_abuse: FAIL: no result from serve_abuse.mjs"); process.exit(1); }
const f = [...(r.failures || [])];
if (alive !== "1") f.push("the server died during the abuse; its stderr: " + log.slice(-2000));
if (code !== "0") f.push(`exit status after SIGTERM: ${code}`);
const rounds = r.rounds || [];
if (rounds.length) {
  const before = r.rss_mb_before, last = rounds[rounds.length - 1].rss_mb_after, first = rounds[0].rss_mb_after;
  const tolerance = Math.max(32, Math.round(before * 0.2));
  if (last > before + tolerance) f.push(`RSS ${last} MB after the abuse, ${before} MB before (tolerance +${tolerance} MB)`);
  if (last > first + 8) f.push(`RSS grew from round to round: ${rounds.map((x) => x.rss_mb_after).join(" -> ")} MB`);
  console.log(`serve_abuse: RSS MB before ${before}, peak ${rounds.map((x) => x.rss_mb_peak).join("/")}, after ${rounds.map((x) => x.rss_mb_after).join("/")} (tolerance +${tolerance} MB); exit after SIGTERM ${code}`);
}
console.log(f.length ? "serve_abuse: FAIL\n  - " + f.join("\n  - ") : "serve_abuse: OK");
process.exit(f.length ? 1 : 0);' "$result" "$alive" "$code" "$(cat "$WORK/serve.log")"
