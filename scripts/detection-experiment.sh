#!/usr/bin/env bash
# The seed's detection claim, measured (the "YOLO for medical devices / licence plates" analogue on
# synthetic scenes of Debian's dataset-fashion-mnist, `ptft data synth-detection`): pre-train the
# tiny detector (configs/models/yolo-tiny.yaml) on 2,000 scenes of the 8 Fashion-MNIST classes
# other than Bag and Sneaker; fine-tune it to find Bag and Sneaker from 50 and 200 training
# scenes; train the same detector from scratch on the same scenes with the same budget. Test
# mAP50 / mAP50-95 on 300 held-out scenes (items never seen in training), mean and spread over seeds.
#
#   scripts/detection-experiment.sh                    # setup, build, scenes, runs, table
#   SCENES="50" SEEDS="1" PRE_STEPS=1000 scripts/detection-experiment.sh   # a quicker look
#
# Environment: PTFT_DET_DIR (runs/detection), SCENES ("50 200": training scenes of the 2 new
# classes), SEEDS ("1 2 3": batches, augmentation and head initialisation), PRE_STEPS (3000
# pre-training steps of 32 scenes), STEPS (600 fine-tuning / scratch steps of 16), PTFT_THREADS
# (0 = all cores), SKIP_SETUP=1 (no apt-get / build), FULL_BUDGET_SCRATCH=1 (also train scratch
# for the images of pre-training + fine-tuning together, on the first scene set and seed).
# Methods: "fine-tune" = new class predictor, neck and head train, the backbone frozen for the
# first 100 steps, then trained at 0.1 x lr (finetune.strategy head, unfreeze_after 100,
# backbone_lr 0.1); "scratch" = `ptft pretrain` of the same architecture on the same scenes.
# Both arms keep an EMA of the weights and are tested at their last step (no model selection).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${SKIP_SETUP:-0}" != 1 ]]; then
  scripts/setup.sh
  scripts/build.sh >/dev/null
fi
PTFT=build/ptft
OUT="${PTFT_DET_DIR:-runs/detection}"
SCENES="${SCENES:-50 200}"
SEEDS="${SEEDS:-1 2 3}"
PRE_STEPS="${PRE_STEPS:-3000}"
STEPS="${STEPS:-600}"
THREADS="${PTFT_THREADS:-0}"
DATA=data/detection
mkdir -p "$OUT" "$DATA"
start=$(date +%s)

scenes() {  # NAME then synth-detection options: written once
  local name=$1; shift
  [[ -f "$DATA/$name/data.yaml" ]] || "$PTFT" data synth-detection --out "$DATA/$name" "$@" >/dev/null
}
echo "== scenes"
scenes general-8 --classes T-shirt/top Trouser Pullover Dress Coat Sandal Shirt "Ankle boot" --train 2000 --val 200 --seed 1
max=0
for n in $SCENES; do ((n > max)) && max=$n; done
# Nested training sets: scene i of seed 2 is the same in every set, so 50 scenes are the first 50 of 200.
for n in $SCENES; do scenes "new-2-$n" --classes Bag Sneaker --train "$n" --val 0 --seed 2; done
scenes new-2-val --classes Bag Sneaker --train 1 --val 150 --seed 3
scenes new-2-test --classes Bag Sneaker --train 1 --val 300 --seed 4

run() {  # NAME then ptft arguments: runs once (a finished run is kept), then tests its last checkpoint
  local name=$1; shift
  if [[ ! -f "$OUT/$name/summary.json" ]]; then
    rm -rf "${OUT:?}/$name"
    "$PTFT" "$@" --out "$OUT/$name" --threads "$THREADS" --quiet
  fi
  [[ -f "$OUT/$name/test.json" ]] ||
    "$PTFT" eval --model "$OUT/$name/checkpoints/last" --data "$DATA/new-2-test/data.yaml" --split val --json \
      --threads "$THREADS" > "$OUT/$name/test.json"
}

echo "== pre-train yolo-tiny on scenes of 8 classes ($PRE_STEPS steps)"
if [[ ! -f "$OUT/pretrain-8/summary.json" ]]; then
  rm -rf "${OUT:?}/pretrain-8"
  "$PTFT" pretrain --config configs/yolo-scenes-pretrain.yaml --set train.steps="$PRE_STEPS" \
    --set data.train="$DATA/general-8/data.yaml" --set data.val="$DATA/general-8/data.yaml" \
    --out "$OUT/pretrain-8" --threads "$THREADS" --quiet
fi
for n in $SCENES; do
  for s in $SEEDS; do
    echo "== $n scenes, seed $s: fine-tune, scratch ($STEPS steps each)"
    common=(--config configs/yolo-scenes-finetune.yaml --set data.train="$DATA/new-2-$n/data.yaml"
            --set data.val="$DATA/new-2-val/data.yaml" --set train.seed="$s" --set train.steps="$STEPS")
    run "finetune-$n-s$s" finetune "${common[@]}" --from "$OUT/pretrain-8/checkpoints/last"
    run "scratch-$n-s$s" pretrain "${common[@]}"
  done
done

# Optional: scratch given the whole budget of pre-training + fine-tuning, in images
# (PRE_STEPS x 32 + STEPS x 16, as steps of 16), on the smallest scene set, first seed.
if [[ "${FULL_BUDGET_SCRATCH:-0}" == 1 ]]; then
  n=${SCENES%% *}; s=${SEEDS%% *}; long=$(( PRE_STEPS * 2 + STEPS ))
  echo "== $n scenes, seed $s: scratch with the full budget ($long steps)"
  run "scratch-full-$n-s$s" pretrain --config configs/yolo-scenes-finetune.yaml --set data.train="$DATA/new-2-$n/data.yaml" \
    --set data.val="$DATA/new-2-val/data.yaml" --set train.seed="$s" --set train.steps="$long" --set train.eval_every=1000 \
    --set train.save_every="$long"
fi

echo "== test mAP on $DATA/new-2-test (300 scenes), last checkpoints; $(( $(date +%s) - start )) s"
python3 - "$OUT" "$SCENES" "$SEEDS" <<'PY'
import json, statistics, sys
out, scenes, seeds = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def stat(v):
    return f"{100*statistics.mean(v):.1f} ± {100*statistics.stdev(v):.1f}" if len(v) > 1 else f"{100*v[0]:.1f}"
print("| training scenes | method | mAP50 (%) | mAP50-95 (%) | images trained on | wall s per run |")
print("|---|---|---|---|---|---|")
for n in scenes:
    for m in ("finetune", "scratch"):
        t = [json.load(open(f"{out}/{m}-{n}-s{s}/test.json")) for s in seeds]
        sm = [json.load(open(f"{out}/{m}-{n}-s{s}/summary.json")) for s in seeds]
        w = [x["wall_seconds"] for x in sm]
        name = "fine-tune (pre-trained)" if m == "finetune" else "scratch"
        print(f"| {n} | {name} | {stat([x['map50'] for x in t])} | {stat([x['map50_95'] for x in t])} | {sm[0]['images_seen']:,} | {statistics.mean(w):.0f} |")
import glob, os
for d in sorted(glob.glob(f"{out}/scratch-full-*")):
    t, sm = json.load(open(f"{d}/test.json")), json.load(open(f"{d}/summary.json"))
    print(f"| {d.split('-')[-2]} | scratch, full budget ({os.path.basename(d)}) | {100*t['map50']:.1f} | "
          f"{100*t['map50_95']:.1f} | {sm['images_seen']:,} | {sm['wall_seconds']:.0f} |")
pre = json.load(open(f"{out}/pretrain-8/summary.json"))
print(f"\npre-training (once, reused by every fine-tune): {pre['steps']} steps, {pre['images_seen']:,} images, "
      f"{pre['wall_seconds']:.0f} s; val mAP50 / mAP50-95 on the 8 classes "
      f"{100*pre['last_eval'].get('val_map50', float('nan')):.1f} / {100*pre['last_eval'].get('val_map50_95', float('nan')):.1f} %")
PY
