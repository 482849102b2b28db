#!/usr/bin/env bash
# The seed's image claim, measured (the cats-vs-dogs analogue on Debian's dataset-fashion-mnist):
# pre-train the small ResNet on the 8 Fashion-MNIST classes other than T-shirt/top and Shirt,
# fine-tune it to tell T-shirt/top from Shirt with 20, 100 and 500 labelled images per class,
# and train the same network from scratch on the same images with the same budget. Test accuracy
# (the 2,000 T-shirt/top and Shirt images of the official test set), mean and spread over seeds.
#
#   scripts/vision-experiment.sh                       # setup, build, runs, table
#   PTFT_VISION_DIR=runs/vision SHOTS="20 100" SEEDS="1 2 3" scripts/vision-experiment.sh
#
# Environment: PTFT_VISION_DIR (runs/vision), SHOTS ("20 100 500": labelled training images per
# class), SEEDS ("1 2 3": the seed picks the images, the head initialisation and the batches),
# PRE_STEPS (1500 pre-training steps of 64 images), STEPS (200 fine-tuning / scratch steps of 32),
# PTFT_THREADS (0 = all cores), SKIP_SETUP=1 (no apt-get / build).
# Methods: "fine-tune" = new 2-class head, everything trains (finetune.strategy full, backbone LR
# x0.1); "linear probe" = only the new head trains (strategy head); "scratch" = `ptft pretrain`
# of the same architecture on the same images. Every model is tested at its last step (no
# selection on validation data: with 20 images per class there is none to spare).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${SKIP_SETUP:-0}" != 1 ]]; then
  scripts/setup.sh
  scripts/build.sh >/dev/null
fi
PTFT=build/ptft
OUT="${PTFT_VISION_DIR:-runs/vision}"
SHOTS="${SHOTS:-20 100 500}"
SEEDS="${SEEDS:-1 2 3}"
PRE_STEPS="${PRE_STEPS:-1500}"
STEPS="${STEPS:-200}"
THREADS="${PTFT_THREADS:-0}"
FMNIST=/usr/share/datasets/fashion-mnist
TEST="$FMNIST/t10k-images-idx3-ubyte.gz"
[[ -f "$TEST" ]] || { echo "vision-experiment: $TEST is missing: apt-get install dataset-fashion-mnist (scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$OUT"
start=$(date +%s)

run() {  # NAME then ptft arguments: runs once (a finished run is kept), then tests its last checkpoint
  local name=$1; shift
  if [[ ! -f "$OUT/$name/summary.json" ]]; then
    rm -rf "${OUT:?}/$name"
    "$PTFT" "$@" --out "$OUT/$name" --threads "$THREADS" --quiet
  fi
  [[ -f "$OUT/$name/test.json" ]] ||
    "$PTFT" eval --model "$OUT/$name/checkpoints/last" --data "$TEST" --json --threads "$THREADS" > "$OUT/$name/test.json"
}

echo "== pre-train resnet-fmnist on 8 classes ($PRE_STEPS steps)"
run pretrain-8 pretrain --config configs/resnet-fmnist-pretrain.yaml --set train.steps="$PRE_STEPS"
for n in $SHOTS; do
  for s in $SEEDS; do
    echo "== $n images per class, seed $s: fine-tune, linear probe, scratch ($STEPS steps each)"
    common=(--config configs/resnet-fmnist-finetune.yaml --set data.images.per_class="$n" --set train.seed="$s"
            --set train.steps="$STEPS")
    run "finetune-$n-s$s" finetune "${common[@]}" --from "$OUT/pretrain-8/checkpoints/last" \
      --set finetune.strategy=full --set finetune.backbone_lr=0.1
    run "probe-$n-s$s" finetune "${common[@]}" --from "$OUT/pretrain-8/checkpoints/last" \
      --set finetune.strategy=head --set train.lr=1.0e-2
    run "scratch-$n-s$s" pretrain "${common[@]}"
  done
done

python3 - "$OUT" "$SHOTS" "$SEEDS" "$PRE_STEPS" "$STEPS" "$(( $(date +%s) - start ))" <<'PY' | tee "$OUT/results.md"
import json, statistics, sys
out, shots, seeds, pre_steps, steps, wall = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), *sys.argv[4:]
def load(name):
    test = json.load(open(f"{out}/{name}/test.json"))
    summary = json.load(open(f"{out}/{name}/summary.json"))
    return test, summary
pre_test, pre = load("pretrain-8")
print(f"Pre-training: {pre['steps']} steps on 8 classes, {pre['wall_seconds']:.0f} s, "
      f"test accuracy on those 8 classes {pre_test['accuracy']:.4f}\n")
print(f"T-shirt/top vs Shirt, test accuracy on {json.load(open(f'{out}/finetune-{shots[0]}-s{seeds[0]}/test.json'))['examples']} "
      f"test images, mean ± std over seeds {' '.join(seeds)}; {steps} steps of 32 images each\n")
methods = [("fine-tune (full, backbone LR x0.1)", "finetune"), ("linear probe (head only)", "probe"), ("scratch", "scratch")]
print("| images per class | " + " | ".join(m for m, _ in methods) + " |")
print("|---|" + "---|" * len(methods))
times = {k: [] for _, k in methods}
params = {}
for n in shots:
    cells = []
    for _, key in methods:
        accs = []
        for s in seeds:
            test, summary = load(f"{key}-{n}-s{s}")
            accs.append(test["accuracy"])
            times[key].append(summary["wall_seconds"])
            params[key] = summary["trainable_parameters"]
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        cells.append(f"{100 * statistics.mean(accs):.1f} ± {100 * sd:.1f}")
    print(f"| {n} | " + " | ".join(cells) + " |")
print()
print("| method | trainable parameters | mean wall time per run (s) |")
print("|---|---|---|")
for name, key in methods:
    print(f"| {name} | {params[key]:,} | {statistics.mean(times[key]):.1f} |")
print(f"\nPre-training: {pre['wall_seconds']:.0f} s once; whole experiment {wall} s.")
PY
