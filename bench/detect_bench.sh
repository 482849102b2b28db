#!/usr/bin/env bash
# Object detector (model.family yolo) speed: `ptft pretrain` training images/s on synthetic scenes
# (`ptft data synth-detection`) and `ptft detect` latency per image, against the same architecture,
# loss step and decode in PyTorch eager (bench/peers/detector_peer.py, Debian's python3-torch: the
# same libtorch 1.13 and BLAS), same threads and environment, in one invocation. Prints images/s,
# ms per image, the ratios and peak RSS per case.
#
#   bench/detect_bench.sh [PTFT_BIN]       # default build/ptft
#
# Environment: THREADS (default 2), REPEATS (default 2: ptft and torch run alternately that many
# times; the best run of each counts), PYTHON (default /usr/bin/python3).
#
# ptft trains at its default precision (`auto`: on an avx512_bf16 CPU bf16 autocast, or fp32 where
# a timed step says so (steps of >= 5 GFLOP), else fp32;
# PTFT_PRECISION overrides it); the peer's training runs in each of PEER_MODES (default: fp32 and
# bf16 autocast x NCHW and channels-last; fp32 only without avx512_bf16) and its fastest counts.
# Detection is fp32 on both sides (ptft detect's default).
# Training: ptft reads the scenes through its loader (letterbox, mosaic off, flip + HSV + affine
# on the prefetch thread); its images/s is the median of its per-step `train` events after the
# warm-up steps. The peer times its step on random images with 3 random boxes each, made before
# the timer. Detection: ptft detect --batch-size 1 --json on the val scenes of the trained
# checkpoint, its speed_ms (letterbox + forward + decode/NMS per image, file decoding and writing
# excluded, mean over the images); the peer: the mean of the same per-image work on random images
# of that size, after a warm-up pass. On a shared machine use THREADS=1: OpenMP barriers stall
# when other processes hold the cores (one such stall makes a mean of 20 images useless).
set -euo pipefail
cd "$(dirname "$0")/.."

PTFT="${1:-build/ptft}"
THREADS="${THREADS:-2}"
REPEATS="${REPEATS:-2}"
PYTHON="${PYTHON:-/usr/bin/python3}"
PEER=bench/peers/detector_peer.py
if grep -qw avx512_bf16 /proc/cpuinfo; then
  PEER_MODES="${PEER_MODES:-fp32:contiguous fp32:channels_last bf16:contiguous bf16:channels_last}"
else
  PEER_MODES="${PEER_MODES:-fp32:contiguous fp32:channels_last}"
fi
PTFT_PRECISION="${PTFT_PRECISION:-auto}"
FMNIST=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[[ -x "$PTFT" ]] || { echo "detect_bench: no ptft binary at $PTFT (build it first: scripts/build.sh)" >&2; exit 1; }
source scripts/blas-kernels.sh  # OPENBLAS_CORETYPE for both sides where needed
[[ -f "$FMNIST" ]] || { echo "detect_bench: $FMNIST missing: apt-get install dataset-fashion-mnist" >&2; exit 1; }
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "detect_bench: $PYTHON cannot import torch: apt-get install -y python3-torch (scripts/setup.sh --bench)" >&2
  exit 1
fi

# name, image size, layers, width, fpn channels, head convs, batch, warm-up steps, timed steps
CASES=("tiny-96 96 1,1,1,1 8 16 2 16 3 12" "r18w32-160 160 2,2,2,2 32 64 2 16 2 6")
CLASSES="T-shirt/top,Trouser,Bag,Sneaker"
NC=4
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-detect-bench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS="$THREADS"
echo "detect_bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.before"

for c in "${CASES[@]}"; do
  read -r name size layers width fpn convs batch warm steps <<< "$c"
  "$PTFT" data synth-detection --out "$WORK/scenes-$name" --classes "$CLASSES" --train 64 --val 20 --size "$size" \
    > /dev/null 2>&1
  cat > "$WORK/$name.yaml" <<YAML
model: {family: yolo, backbone: {layers: [$layers], width: $width}, fpn_channels: $fpn, head_convs: $convs,
        image_size: $size}
data:
  train: $WORK/scenes-$name/data.yaml
  detection: {size: $size, mosaic: 0.0}
train: {steps: $((warm + steps)), batch_size: $batch, warmup: 1, log_every: 1, eval_every: 0,
        save_every: 1000000, keep_checkpoints: 1}
YAML
  peer_args=(--image-size "$size" --classes "$NC" --layers "$layers" --width "$width" --fpn-channels "$fpn"
             --head-convs "$convs" --threads "$THREADS")
  for ((r = 1; r <= REPEATS; r++)); do
    echo "[$name] ptft pretrain, batch $batch, $warm + $steps steps (run $r/$REPEATS) ..." >&2
    "$PTFT" pretrain --config "$WORK/$name.yaml" --out "$WORK/run-$name-$r" --threads "$THREADS" --precision "$PTFT_PRECISION" --quiet \
      > "$WORK/ptft-$name.log" 2>&1 || { cat "$WORK/ptft-$name.log" >&2; exit 1; }
    for mode in $PEER_MODES; do
      echo "[$name] torch eager train ${mode/:/ } (run $r/$REPEATS) ..." >&2
      "$PYTHON" "$PEER" train "${peer_args[@]}" --batch-size "$batch" --warmup-steps "$warm" --steps "$steps" \
        --precision "${mode%%:*}" --memory-format "${mode##*:}" > "$WORK/torch-train-$name-$mode-$r.json"
    done
    echo "[$name] ptft detect, 20 images (run $r/$REPEATS) ..." >&2
    "$PTFT" detect --model "$WORK/run-$name-1" "$WORK/scenes-$name"/images/val/*.png --out "$WORK/det-$name-$r" \
      --batch-size 1 --threads "$THREADS" --json > "$WORK/ptft-detect-$name-$r.json" 2> "$WORK/ptft-detect-$name.log" \
      || { cat "$WORK/ptft-detect-$name.log" >&2; exit 1; }
    echo "[$name] torch eager detect (run $r/$REPEATS) ..." >&2
    "$PYTHON" "$PEER" detect "${peer_args[@]}" --images 20 --repeats 3 > "$WORK/torch-detect-$name-$r.json"
  done
  echo "$warm" > "$WORK/$name.warm"
done
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.after"

"$PYTHON" - "$WORK" "$REPEATS" "$PEER_MODES" "${CASES[@]}" <<'PY'
import json, statistics, sys
work, repeats, modes, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), [c.split() for c in sys.argv[4:]]
load = [open(f"{work}/load.{w}").read().strip() for w in ("before", "after")]
last = lambda p: json.loads(open(p).read().strip().splitlines()[-1])
rows, raw = [], {}
for name, size, layers, width, fpn, convs, batch, warm, steps in cases:
    train, dets = [], []
    for r in range(1, repeats + 1):
        events = [json.loads(l) for l in open(f"{work}/run-{name}-{r}/metrics.jsonl")]
        timed = [e["images_per_s"] for e in events if e["event"] == "train" and e["step"] > int(warm)]
        summary = json.load(open(f"{work}/run-{name}-{r}/summary.json"))
        precision = next(e for e in events if e["event"] == "start").get("precision", "?")
        for m in modes:
            train.append((statistics.median(timed), summary, last(f"{work}/torch-train-{name}-{m}-{r}.json"), precision))
        d = last(f"{work}/ptft-detect-{name}-{r}.json")
        dets.append((sum(d["speed_ms"].values()), d, last(f"{work}/torch-detect-{name}-{r}.json")))
    ptft, summary, _, precision = max(train, key=lambda x: x[0])
    t = max((x[2] for x in train), key=lambda x: x["images_per_s"])
    best_mode = f"{t['precision']} {t['memory_format'].replace('contiguous', 'NCHW').replace('channels_last', 'NHWC')}"
    ptft_ms = min(x[0] for x in dets)
    t_ms = min(x[2]["ms_per_image"] for x in dets)
    if summary["parameters"] != t["params"]:
        print(f"detect_bench: {name}: ptft has {summary['parameters']} parameters, the peer {t['params']}: "
              "the peer no longer mirrors src/models/detector.cpp", file=sys.stderr)
        sys.exit(1)
    rows.append([name, f"{t['params'] / 1e6:.2f}M", f"{batch}x3x{size}x{size}", f"{ptft:.1f} ({precision})",
                 f"{t['images_per_s']:.1f} ({best_mode})", f"{ptft / t['images_per_s']:.2f}x", f"{ptft_ms:.2f}", f"{t_ms:.2f}",
                 f"{t_ms / ptft_ms:.2f}x", f"{summary['peak_rss_mb']:.0f} / {t['peak_rss_mb']:.0f}"])
    per_mode = {m: max(x[2]["images_per_s"] for x in train
                       if f"{x[2]['precision']}:{x[2]['memory_format']}" == m) for m in modes}
    raw[name] = {"ptft_train": sorted({x[0] for x in train}), "torch_train_best_per_mode": per_mode,
                 "ptft_detect_speed_ms": [x[1]["speed_ms"] for x in dets],
                 "torch_detect_ms": [x[2]["ms_per_image"] for x in dets]}
head = ["config", "params", "batch", "ptft train img/s (precision)", "torch best img/s (mode)", "ptft/torch",
        "ptft detect ms/img",
        "torch ms/img", "speed-up", "train peak RSS MB ptft / torch"]
w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
for r in [head] + rows:
    print("  ".join(str(c).rjust(w[i]) if i else str(c).ljust(w[i]) for i, c in enumerate(r)))
print(f"load average before {load[0]}, after {load[1]}")
print("raw: " + json.dumps(raw), file=sys.stderr)
PY
