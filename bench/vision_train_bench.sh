#!/usr/bin/env bash
# Image-classifier training throughput: `ptft pretrain` against the same ResNet and step in
# PyTorch eager (bench/peers/resnet_train_peer.py, Debian's python3-torch: the same libtorch 1.13
# and BLAS), same threads and environment, in one invocation. Prints images/s, the ratio and peak
# RSS for the small preset (resnet-fmnist, 1x28x28, Fashion-MNIST) and ResNet-18 at 3x32x32
# (Fashion-MNIST converted to RGB and resized to 32 px: CIFAR-sized input, 10 classes).
#
#   bench/vision_train_bench.sh [PTFT_BIN]       # default build/ptft
#
# Environment: THREADS (default 2), REPEATS (default 2: ptft and torch run alternately that many
# times; the best run of each counts), PYTHON (default /usr/bin/python3), PEER_MODES (default
# "fp32:contiguous fp32:channels_last bf16:contiguous bf16:channels_last": the peer runs in each
# of PyTorch users' CPU modes, precision x memory format, and its fastest counts; bf16 modes are
# left out on a CPU without avx512_bf16, where libtorch 1.13's bf16 convolutions are far slower).
# ptft runs at its default precision (`auto`: on an avx512_bf16 CPU a convolutional model times a
# step in bf16 autocast and fp32 and keeps the faster, the table names it; else fp32);
# PTFT_PRECISION overrides it.
#
# ptft reads real images through its loader (decode once at open, augmentation pad_crop 2 +
# hflip per batch on the prefetch thread); the peer times its step on random tensors made before
# the timer. ptft's images/s is the median of its per-step `train` events after the warm-up steps.
set -euo pipefail
cd "$(dirname "$0")/.."

PTFT="${1:-build/ptft}"
THREADS="${THREADS:-2}"
REPEATS="${REPEATS:-2}"
PYTHON="${PYTHON:-/usr/bin/python3}"
PEER=bench/peers/resnet_train_peer.py
if grep -qw avx512_bf16 /proc/cpuinfo; then
  PEER_MODES="${PEER_MODES:-fp32:contiguous fp32:channels_last bf16:contiguous bf16:channels_last}"
else
  PEER_MODES="${PEER_MODES:-fp32:contiguous fp32:channels_last}"
fi
PTFT_PRECISION="${PTFT_PRECISION:-auto}"
FMNIST=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[[ -x "$PTFT" ]] || { echo "vision_train_bench: no ptft binary at $PTFT (build it first: scripts/build.sh)" >&2; exit 1; }
source scripts/blas-kernels.sh  # OPENBLAS_CORETYPE for both sides where needed
[[ -f "$FMNIST" ]] || { echo "vision_train_bench: $FMNIST missing: apt-get install dataset-fashion-mnist" >&2; exit 1; }
if ! "$PYTHON" -c 'import torch, yaml' 2>/dev/null; then
  echo "vision_train_bench: $PYTHON cannot import torch and yaml: apt-get install -y python3-torch python3-yaml" >&2
  exit 1
fi

# name, preset, image size, channels, batch, warm-up steps, timed steps
CASES=("resnet-fmnist resnet-fmnist 28 1 128 3 15" "resnet18-32px resnet18 32 3 128 2 8")
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-vision-bench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS="$THREADS"
echo "vision_train_bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.before"

for c in "${CASES[@]}"; do
  read -r name preset size ch batch warm steps <<< "$c"
  cat > "$WORK/$name.yaml" <<YAML
model: {family: resnet, preset: $preset}
data:
  train: $FMNIST
  images: {size: $size, channels: $ch, augment: {hflip: 0.5, pad_crop: 2}}
train: {steps: $((warm + steps)), batch_size: $batch, warmup: 1, log_every: 1, eval_every: 0,
        save_every: 1000000, keep_checkpoints: 1, precision: $PTFT_PRECISION}
YAML
  for ((r = 1; r <= REPEATS; r++)); do
    echo "[$name] ptft pretrain, batch $batch, $warm + $steps steps (run $r/$REPEATS) ..." >&2
    "$PTFT" pretrain --config "$WORK/$name.yaml" --out "$WORK/run-$name-$r" --threads "$THREADS" --quiet \
      > "$WORK/ptft-$name.log" 2>&1 || { cat "$WORK/ptft-$name.log" >&2; exit 1; }
    for mode in $PEER_MODES; do
      echo "[$name] torch eager ${mode/:/ } (run $r/$REPEATS) ..." >&2
      "$PYTHON" "$PEER" --preset "configs/models/$preset.yaml" --image-size "$size" --channels "$ch" --classes 10 \
        --batch-size "$batch" --warmup-steps "$warm" --steps "$steps" --threads "$THREADS" \
        --precision "${mode%%:*}" --memory-format "${mode##*:}" > "$WORK/torch-$name-$mode-$r.json"
    done
  done
  echo "$warm" > "$WORK/$name.warm"
done
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.after"

"$PYTHON" - "$WORK" "$REPEATS" "$PEER_MODES" "${CASES[@]}" <<'PY'
import json, statistics, sys
work, repeats, modes, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), [c.split() for c in sys.argv[4:]]
load = [open(f"{work}/load.{w}").read().strip() for w in ("before", "after")]
rows, raw = [], {}
for name, preset, size, ch, batch, warm, steps in cases:
    ptft_runs, torch_runs = [], []
    for r in range(1, repeats + 1):
        events = [json.loads(l) for l in open(f"{work}/run-{name}-{r}/metrics.jsonl")]
        timed = [e["examples_per_s"] for e in events if e["event"] == "train" and e["step"] > int(warm)]
        summary = json.load(open(f"{work}/run-{name}-{r}/summary.json"))
        start = next(e for e in events if e["event"] == "start")
        ptft_runs.append((statistics.median(timed), summary, start.get("precision", "?")))
        for m in modes:
            torch_runs.append(json.loads(open(f"{work}/torch-{name}-{m}-{r}.json").read().strip().splitlines()[-1]))
    ptft, summary, precision = max(ptft_runs, key=lambda x: x[0])
    t = max(torch_runs, key=lambda x: x["images_per_s"])
    best_mode = f"{t['precision']} {t['memory_format'].replace('contiguous', 'NCHW').replace('channels_last', 'NHWC')}"
    rows.append([name, f"{t['params'] / 1e6:.2f}M", f"{batch}x{ch}x{size}x{size}", f"{ptft:.0f} ({precision})",
                 f"{t['images_per_s']:.0f} ({best_mode})", f"{ptft / t['images_per_s']:.2f}x",
                 f"{summary['peak_rss_mb']:.0f} / {t['peak_rss_mb']:.0f}"])
    per_mode = {m: max(x["images_per_s"] for x in torch_runs if f"{x['precision']}:{x['memory_format']}" == m) for m in modes}
    raw[name] = {"ptft_runs": [x[0] for x in ptft_runs], "torch_best_per_mode": per_mode,
                 "ptft_params": summary["parameters"], "torch": t}
head = ["config", "params", "batch", "ptft img/s (precision)", "torch best img/s (mode)", "ptft/torch",
        "peak RSS MB ptft / torch"]
w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
for r in [head] + rows:
    print("  ".join(str(c).rjust(w[i]) if i else str(c).ljust(w[i]) for i, c in enumerate(r)))
print(f"load average before {load[0]}, after {load[1]}")
print("raw: " + json.dumps(raw), file=sys.stderr)
PY
