#!/usr/bin/env bash
# Every ptft-vs-peer benchmark in one go, with short settings, and one table of the ratios they
# print (issue 20's page, regenerated): GPT and Llama-family training vs PyTorch eager (fp32 and
# bf16), generation at batch 1 vs PyTorch eager (f32 and bf16 weights), ResNet and detector
# training vs PyTorch eager, and the fused AdamW vs libtorch's. Each bench's own table, log and
# the time it took go to OUT; the summary goes to stdout.
#
#   bench/run-all.sh [PTFT_BIN]        # default build/ptft; env THREADS (2), OUT (a new temp dir)
#
# Short settings (two runs per side, fewer presets, short generations) trade noise for time:
# ~6 minutes on 2 cores.
# For numbers to publish, run the benches themselves with their default repeats (bench/README.md).
# Needs the peers' Python (sudo scripts/setup.sh --bench) and the text shards
# (scripts/prepare-text-data.sh), as the benches themselves do.
set -euo pipefail
cd "$(dirname "$0")/.."
PTFT="${1:-build/ptft}"
OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/ptft-bench-all-XXXXXX")}"
export THREADS="${THREADS:-2}"
[[ -x "$PTFT" ]] || { echo "run-all: no ptft binary at $PTFT (scripts/build.sh)" >&2; exit 1; }
mkdir -p "$OUT"
source scripts/blas-kernels.sh  # OPENBLAS_CORETYPE for every bench and peer where OpenBLAS needs it
: > "$OUT/times"
start_all=$(date +%s)

# run NAME COMMAND...: the bench's stdout (its table) to OUT/NAME.txt, its stderr to OUT/NAME.log.
run() {
  local name="$1" t0
  shift
  echo "run-all: $name ..." >&2
  t0=$(date +%s)
  if "$@" > "$OUT/$name.txt" 2> "$OUT/$name.log"; then
    echo "$name $(( $(date +%s) - t0 )) ok" >> "$OUT/times"
  else
    echo "$name $(( $(date +%s) - t0 )) failed" >> "$OUT/times"
    echo "run-all: $name failed; its log: $OUT/$name.log" >&2
  fi
}

run gpt_train env PRESETS="gpt-tiny gpt-small llama-tiny bert-tiny" REPEATS=2 BF16_LIMIT_S=30 bench/gpt_train_bench.sh "$PTFT"
run generate env PRESETS="llama-tiny smollm2-135m gpt2" REPEATS=2 NEW_TOKENS=64 bench/generate_bench.sh "$PTFT"
run vision_train env REPEATS=2 bench/vision_train_bench.sh "$PTFT"
run detect env REPEATS=2 bench/detect_bench.sh "$PTFT"
run optimizer build/bench/ptft_bench_optimizer --benchmark_counters_tabular=true

python3 - "$OUT" <<'PY'
import os, re, sys
out = sys.argv[1]
cpu = open("/proc/cpuinfo").read()
flags = set(re.search(r"^flags\s*:(.*)$", cpu, re.M).group(1).split())
shown = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16") if f in flags]
model = re.search(r"^model name\s*:(.*)$", cpu, re.M).group(1).strip()
ratio = re.compile(r"^~?\d+(\.\d+)?x$")
print(f"| bench | row | ratio | the bench's ratio column | peak RSS MB (ptft / peers) |")
print("|---|---|---:|---|---|")
for line in open(f"{out}/times"):
    name, seconds, status = line.split()
    if status != "ok":
        print(f"| {name} | (failed after {seconds} s: {out}/{name}.log) | | | |")
        continue
    text = open(f"{out}/{name}.txt").read().splitlines()
    if name == "optimizer":  # google-benchmark: ptft's fused AdamW vs libtorch's, per size
        times = {}
        for l in text:
            m = re.match(r"^(BM_\w+)/(\d+)\S*\s+([\d.]+) (ns|us|ms|s)\b", l)
            if m:
                scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(4)]
                times[(m.group(1), m.group(2))] = float(m.group(3)) * scale
        for (bench, n), t in sorted(times.items()):
            if "ptft" in bench:
                peer = [v for (b, k), v in times.items() if k == n and b != bench]
                if peer:
                    print(f"| optimizer | AdamW step, {n} M parameters | {min(peer) / t:.2f}x | libtorch AdamW | |")
        continue
    head = None
    for l in text:
        cells = re.split(r"\s{2,}", l.strip())
        if head is None:
            if len(cells) > 3 and any("/" in c or "ptft" in c for c in cells):
                head = cells
            continue
        if len(cells) != len(head):
            continue
        idx = [i for i, c in enumerate(cells) if ratio.match(c)]
        if not idx:
            continue
        i = idx[0]
        rss = next((cells[j] for j, h in enumerate(head) if "RSS" in h), "")
        print(f"| {name} | {cells[0]} | {cells[i]} | {head[i]} | {rss} |")
print()
print(f"CPU: {model}, flags {' '.join(shown) or 'none of avx2..amx'}; "
      f"threads {os.environ.get('THREADS')}; "
      f"OPENBLAS_CORETYPE {os.environ.get('OPENBLAS_CORETYPE', 'unset (not needed on this CPU)')}")
print("seconds per bench: " + ", ".join(" ".join(l.split()[:2]) for l in open(f"{out}/times")))
print(f"each bench's own table and log: {out}")
PY
echo "run-all: $(( $(date +%s) - start_all )) s in all" >&2
