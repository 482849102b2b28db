#!/usr/bin/env bash
# Data-parallel scaling, 1 -> 2 processes: `ptft launch --nproc 2` against PyTorch DDP
# (bench/peers/gpt_train_peer.py in two processes with torchrun's environment: the same GPT and
# step, DistributedDataParallel over Gloo, 25 MB buckets), for gpt-tiny and gpt-small (configs/models/*.yaml) in fp32, in one invocation under the
# same environment. Each side runs three ways on the same global batch per step:
#   1p x 1t   one process, one thread, half the batch     -> r1   (what one core does)
#   1p x 2t   one process, two threads, the whole batch   -> r1x2 (both cores, intra-op threads)
#   2p x 1t   two processes, one thread each, half each   -> r2   (both cores, data-parallel)
# and reports tokens/s, the scaling efficiency r2 / (2 r1) and r2 / r1x2 (data-parallel against
# threads on the same cores). On a 2-core machine 2 processes share the cores with Gloo's
# transfer threads: this measures the cost of the all-reduce path, not a multi-host speed-up.
#
#   bench/dist_scaling_bench.sh [PTFT_BIN]          # default build/ptft
#   PRESETS=gpt-tiny REPEATS=1 bench/dist_scaling_bench.sh
#
# ptft's tokens/s: the median of its per-step `train` events (rank 0 logs all ranks' tokens)
# after the warm-up steps. The peer's: the median timed step of rank 0, x world size.
set -euo pipefail
cd "$(dirname "$0")/.."

PTFT="${1:-build/ptft}"
PRESETS="${PRESETS:-gpt-tiny gpt-small}"
REPEATS="${REPEATS:-2}"
PYTHON="${PYTHON:-/usr/bin/python3}"
PEER=bench/peers/gpt_train_peer.py

[[ -x "$PTFT" ]] || { echo "dist_scaling_bench: no ptft binary at $PTFT (build it first: scripts/build.sh)" >&2; exit 1; }
source scripts/blas-kernels.sh  # OPENBLAS_CORETYPE for both sides where needed
if ! "$PYTHON" -c 'import torch.distributed, yaml; assert torch.distributed.is_gloo_available()' 2>/dev/null; then
  echo "dist_scaling_bench: $PYTHON cannot import torch.distributed (with Gloo) and yaml (the PyTorch DDP peer)" >&2
  echo "  install: apt-get install -y python3-torch python3-yaml (scripts/setup.sh --bench)" >&2
  exit 1
fi

# global batch, warm-up steps, timed steps
shape() {
  case "$1" in
    gpt-tiny) echo "16 3 20" ;;
    gpt-small) echo "8 2 8" ;;
    *) echo "dist_scaling_bench: no batch size chosen for preset '$1'" >&2; exit 1 ;;
  esac
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-dist-bench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
echo "dist_scaling_bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.before"

for preset in $PRESETS; do
  read -r batch warm steps <<< "$(shape "$preset")"
  half=$((batch / 2))
  echo "$warm" > "$WORK/$preset.warm"
  cat > "$WORK/$preset.yaml" <<EOC
model: {family: gpt, preset: $preset}
data: {train: "synthetic:tokens"}
train: {steps: $((warm + steps)), warmup: 1, log_every: 1, eval_every: 0, save_every: 1000000,
        keep_checkpoints: 1, precision: fp32}
EOC
  for ((r = 1; r <= REPEATS; r++)); do
    echo "[$preset] run $r/$REPEATS: ptft 1p x 1t, 1p x 2t, 2p x 1t; torch the same ..." >&2
    OMP_NUM_THREADS=1 "$PTFT" pretrain --config "$WORK/$preset.yaml" --out "$WORK/ptft-1p1t-$preset-$r" \
      --set train.batch_size=$half --threads 1 --quiet
    OMP_NUM_THREADS=2 "$PTFT" pretrain --config "$WORK/$preset.yaml" --out "$WORK/ptft-1p2t-$preset-$r" \
      --set train.batch_size=$batch --threads 2 --quiet
    OMP_NUM_THREADS=1 "$PTFT" launch --nproc 2 -- pretrain --config "$WORK/$preset.yaml" \
      --out "$WORK/ptft-2p1t-$preset-$r" --set train.batch_size=$half --threads 1 --quiet 2> "$WORK/launch.log" \
      || { cat "$WORK/launch.log" >&2; exit 1; }
    rm -rf "$WORK"/ptft-*-"$preset"-$r/checkpoints
    common=(--preset "configs/models/$preset.yaml" --warmup-steps "$warm" --steps "$steps" --precision fp32 --time-limit 0)
    OMP_NUM_THREADS=1 "$PYTHON" "$PEER" "${common[@]}" --batch-size $half --threads 1 > "$WORK/torch-1p1t-$preset-$r.json"
    OMP_NUM_THREADS=2 "$PYTHON" "$PEER" "${common[@]}" --batch-size $batch --threads 2 > "$WORK/torch-1p2t-$preset-$r.json"
    # The two ranks are started as torchrun would (its env:// contract); Debian's torchrun 1.13
    # itself fails under Python 3.11 (torch.distributed.elastic: 'NoneType' object has no attribute 'get').
    port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    for rank in 0 1; do
      OMP_NUM_THREADS=1 RANK=$rank LOCAL_RANK=$rank WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
        "$PYTHON" "$PEER" "${common[@]}" --batch-size $half --threads 1 > "$WORK/torch-2p1t-$preset-$r.$rank.json" \
        2> "$WORK/torch-ddp.$rank.log" &
    done
    wait -n && wait -n || { cat "$WORK"/torch-ddp.*.log >&2; exit 1; }
    mv "$WORK/torch-2p1t-$preset-$r.0.json" "$WORK/torch-2p1t-$preset-$r.json"
  done
done

cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.after"
"$PYTHON" - "$WORK" "$PRESETS" "$REPEATS" <<'EOF'
import json, statistics, sys
work, presets, repeats = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
load = [open(f"{work}/load.{w}").read().strip() for w in ("before", "after")]

def ptft_tps(run, warm):
    ev = [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl")]
    return statistics.median(e["tokens_per_s"] for e in ev if e["event"] == "train" and e["step"] > warm)

def torch_tps(name):
    return json.loads(open(f"{work}/{name}.json").read().strip().splitlines()[-1])["tokens_per_s"]

rows, raw = [], {}
for p in presets:
    warm = int(open(f"{work}/{p}.warm").read())
    best = {}
    for side in ("ptft", "torch"):
        for mode in ("1p1t", "1p2t", "2p1t"):
            vals = [ptft_tps(f"ptft-{mode}-{p}-{r}", warm) if side == "ptft" else torch_tps(f"torch-{mode}-{p}-{r}")
                    for r in range(1, repeats + 1)]
            best[(side, mode)] = max(vals)
            raw.setdefault(p, {})[f"{side}_{mode}"] = vals
    for side in ("ptft", "torch"):
        r1, r12, r2 = best[(side, "1p1t")], best[(side, "1p2t")], best[(side, "2p1t")]
        rows.append([p, side, f"{r1:.0f}", f"{r12:.0f}", f"{r2:.0f}", f"{r2 / (2 * r1):.2f}", f"{r2 / r12:.2f}"])
    rows.append([p, "ptft/torch", f"{best[('ptft', '1p1t')] / best[('torch', '1p1t')]:.2f}x",
                 f"{best[('ptft', '1p2t')] / best[('torch', '1p2t')]:.2f}x",
                 f"{best[('ptft', '2p1t')] / best[('torch', '2p1t')]:.2f}x", "", ""])
head = ["config", "side", "1p x 1t tok/s", "1p x 2t tok/s", "2p x 1t tok/s", "eff r2/(2 r1)", "r2 / r1x2"]
w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
for r in [head] + rows:
    print("  ".join(str(c).rjust(w[i]) if i > 1 else str(c).ljust(w[i]) for i, c in enumerate(r)))
print(f"fp32; best of {repeats} runs each; load average before {load[0]}, after {load[1]}")
print("raw: " + json.dumps(raw), file=sys.stderr)
EOF
