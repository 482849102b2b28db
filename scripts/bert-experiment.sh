#!/usr/bin/env bash
# The seed's text claim measured with BERT: pre-train bert-tiny with masked LM on general English
# (the GCIDE dictionary), fine-tune it to tell which Debian fortune file a fortune comes from
# (10 topics: scripts/prepare-fortunes-data.sh), and train the same architecture from scratch on
# the same labelled fortunes with the same budget. Test accuracy and macro-F1 on the 468 held-out
# test fortunes, mean ± std over seeds, with every training fortune and with few per class.
#
#   scripts/bert-experiment.sh                                  # setup, build, data, runs, table
#   PTFT_BERT_DIR=runs/bert SHOTS="30 all" SEEDS="1 2 3" scripts/bert-experiment.sh
#
# Environment: PTFT_BERT_DIR (runs/bert), PRE_STEPS (8000 masked-LM steps of 32 x 128 tokens),
# STEPS (400 classification steps of 32 fortunes for every method), SHOTS ("30 all": labelled
# training fortunes per class, "all" = the whole training split), SEEDS ("1 2 3": the seed picks
# the few-shot fortunes, the head initialisation, dropout and the batches), LRS_FT / LRS_LORA /
# LRS_SCRATCH (the learning rates each method may pick from), JOBS (2 runs at a time, one
# thread each), SKIP_SETUP=1 (no apt-get / build).
#
# Fairness: every method gets the same data, steps and batch size; each picks its own learning
# rate from its grid by validation accuracy (seed 1, all training fortunes), and every run is
# tested at its best validation step (checkpoints/best; the 235 validation fortunes are disjoint
# from the test fortunes). Methods: "fine-tune" = new 10-class head on the pooled [CLS],
# everything trains; "LoRA" = rank-8 adapters on every projection + the new head; "scratch" =
# `ptft pretrain` of the same architecture, data.tokenizer = the same vocabulary.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${SKIP_SETUP:-0}" != 1 ]]; then
  scripts/setup.sh
  scripts/build.sh >/dev/null
fi
PTFT=build/ptft
OUT="${PTFT_BERT_DIR:-runs/bert}"
PRE_STEPS="${PRE_STEPS:-8000}"
STEPS="${STEPS:-400}"
SHOTS="${SHOTS:-30 all}"
SEEDS="${SEEDS:-1 2 3}"
LRS_FT="${LRS_FT:-1e-4 3e-4 1e-3}"
LRS_LORA="${LRS_LORA:-1e-3 3e-3 1e-2}"
LRS_SCRATCH="${LRS_SCRATCH:-1e-4 3e-4 1e-3}"
JOBS="${JOBS:-2}"
TOK=data/tokenizers/general-bert-8k
SHARDS=data/shards/general-bert
FORTUNES=data/fortunes
start=$(date +%s)

echo "== data: general English (GCIDE), a BERT-family vocabulary, token shards, the fortunes set"
scripts/prepare-text-data.sh data/text
if [[ ! -f $TOK/tokenizer_config.json ]]; then
  $PTFT tokenizer train --input data/text/general --vocab-size 8000 --type bpe --family bert \
    --max-sentences 100000 --out $TOK
fi
[[ -f $SHARDS/meta.json ]] ||
  $PTFT data prepare --tokenizer $TOK --input data/text/general --out $SHARDS --val-fraction 0.05
scripts/prepare-fortunes-data.sh $FORTUNES
mkdir -p "$OUT/data"
# Few-shot training sets: N fortunes per class, drawn with the seed (python3, stdlib only).
for n in $SHOTS; do
  [[ $n == all ]] && continue
  for s in $SEEDS; do
    python3 - "$FORTUNES/train.jsonl" "$n" "$s" "$OUT/data/train-$n-s$s.jsonl" <<'PY'
import json, random, sys
src, n, seed, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
by = {}
for line in open(src, encoding="utf-8"):
    row = json.loads(line)
    by.setdefault(row["label"], []).append(line)
rng = random.Random(seed)
rows = [l for k in sorted(by) for l in rng.sample(by[k], min(n, len(by[k])))]
rng.shuffle(rows)
open(dst + ".tmp", "w", encoding="utf-8").writelines(rows)
import os; os.replace(dst + ".tmp", dst)
PY
  done
done
train_of() { [[ $1 == all ]] && echo "$FORTUNES/train.jsonl" || echo "$OUT/data/train-$1-s$2.jsonl"; }

# One run (kept when finished), then its test metrics at the best validation step.
run() {  # NAME then ptft arguments
  local name=$1; shift
  if [[ ! -f "$OUT/$name/summary.json" ]]; then
    rm -rf "${OUT:?}/$name"
    "$PTFT" "$@" --out "$OUT/$name" --threads 1 --quiet
  fi
  [[ -f "$OUT/$name/test.json" ]] ||
    "$PTFT" eval --model "$OUT/$name/checkpoints/best" --data "$FORTUNES/test.jsonl" --json --threads 1 > "$OUT/$name/test.json"
}
# Up to JOBS runs at once; a failed run stops the script at the next wait (queue or wait_all).
queue() {
  while (( $(jobs -rp | wc -l) >= JOBS )); do wait -n; done
  run "$@" &
}
wait_all() {  # plain `wait` returns 0 whatever its jobs returned
  local pid failed=0
  for pid in $(jobs -p); do wait "$pid" || failed=1; done
  (( failed == 0 )) || { echo "bert-experiment: a run failed (see the messages above)" >&2; exit 1; }
}

echo "== pre-train bert-tiny with masked LM on general English ($PRE_STEPS steps)"
if [[ ! -f "$OUT/pretrain/summary.json" ]]; then
  rm -rf "${OUT:?}/pretrain"
  $PTFT pretrain --config configs/bert-tiny-general.yaml --out "$OUT/pretrain" --set train.steps="$PRE_STEPS" \
    --quiet
fi
$PTFT eval --model "$OUT/pretrain/checkpoints/last" --data $SHARDS --json > "$OUT/pretrain/mlm-val.json"
PRE="$OUT/pretrain/checkpoints/last"

common=(--config configs/bert-tiny-fortunes.yaml --set train.steps="$STEPS")
method_args() {  # METHOD -> the ptft arguments of that method
  case $1 in
    finetune) echo "finetune --from $PRE --set finetune.strategy=full" ;;
    lora) echo "finetune --from $PRE --set finetune.strategy=lora" ;;
    scratch) echo "pretrain" ;;
  esac
}
lrs_of() { case $1 in finetune) echo "$LRS_FT" ;; lora) echo "$LRS_LORA" ;; scratch) echo "$LRS_SCRATCH" ;; esac; }
METHODS="finetune lora scratch"

echo "== learning rates: each method's grid, all training fortunes, seed 1 ($STEPS steps each)"
for m in $METHODS; do
  for lr in $(lrs_of $m); do
    # shellcheck disable=SC2046
    queue "$m-all-s1-lr$lr" $(method_args $m) "${common[@]}" --set train.seed=1 --set train.lr="$lr"
  done
done
wait_all
declare -A LR
for m in $METHODS; do
  best=-1
  for lr in $(lrs_of $m); do
    acc=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['best_metric'])" "$OUT/$m-all-s1-lr$lr/summary.json")
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$acc" "$best"; then
      best=$acc; LR[$m]=$lr
    fi
  done
  echo "   $m: lr ${LR[$m]} (validation accuracy $best)"
done

echo "== every method x training-set size x seed at its learning rate"
for n in $SHOTS; do
  for s in $SEEDS; do
    for m in $METHODS; do
      # shellcheck disable=SC2046
      queue "$m-$n-s$s-lr${LR[$m]}" $(method_args $m) "${common[@]}" --set train.seed="$s" \
        --set train.lr="${LR[$m]}" --set data.train="$(train_of "$n" "$s")"
    done
  done
done
wait_all

python3 - "$OUT" "$SHOTS" "$SEEDS" "$STEPS" "$(( $(date +%s) - start ))" "${LR[finetune]}" "${LR[lora]}" "${LR[scratch]}" <<'PY' | tee "$OUT/results.md"
import json, statistics, sys
out, shots, seeds, steps, wall = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4], sys.argv[5]
lr = dict(zip(["finetune", "lora", "scratch"], sys.argv[6:9]))
pre = json.load(open(f"{out}/pretrain/summary.json"))
mlm = json.load(open(f"{out}/pretrain/mlm-val.json"))
print(f"Pre-training: masked LM, {pre['steps']} steps of 32 x 128 tokens, {pre['wall_seconds']:.0f} s; "
      f"held-out masked-token loss {mlm['loss']:.3f}, accuracy {mlm['accuracy']:.3f}\n")
methods = [("fine-tune (full)", "finetune"), ("fine-tune (LoRA r=8 + head)", "lora"), ("scratch", "scratch")]
def load(key, n, s):
    d = f"{out}/{key}-{n}-s{s}-lr{lr[key]}"
    return json.load(open(f"{d}/test.json")), json.load(open(f"{d}/summary.json"))
print(f"Fortune topic (10 classes), test accuracy / macro-F1 (%) on {load('scratch', shots[0], seeds[0])[0]['examples']} "
      f"test fortunes, mean ± std over seeds {' '.join(seeds)}; {steps} steps of 32, best validation step\n")
print("| training fortunes per class | " + " | ".join(m for m, _ in methods) + " |")
print("|---|" + "---|" * len(methods))
times, params = {k: [] for _, k in methods}, {}
for n in shots:
    cells = []
    for _, key in methods:
        acc, f1 = [], []
        for s in seeds:
            test, summary = load(key, n, s)
            acc.append(100 * test["accuracy"]); f1.append(100 * test["macro_f1"])
            times[key].append(summary["wall_seconds"]); params[key] = summary["trainable_parameters"]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
        cells.append(f"{statistics.mean(acc):.1f} ± {sd(acc):.1f} / {statistics.mean(f1):.1f} ± {sd(f1):.1f}")
    label = "all (100-210)" if n == "all" else n
    print(f"| {label} | " + " | ".join(cells) + " |")
print()
print("| method | learning rate (picked on validation) | trainable parameters | mean wall time per run (s) |")
print("|---|---|---|---|")
for name, key in methods:
    print(f"| {name} | {lr[key]} | {params[key]:,} | {statistics.mean(times[key]):.1f} |")
print(f"\nPre-training: {pre['wall_seconds']:.0f} s once; whole experiment {wall} s.")
PY
