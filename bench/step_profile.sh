#!/usr/bin/env bash
# Where a training step's time goes, per model: `ptft pretrain` / `finetune` runs with the phase
# clock (train.phase_times on; include/ptft/train/phase_clock.h) and one table of the step's
# phases — data, forward, backward, optimizer, other — with ms per step, throughput, the one
# evaluation's and checkpoint's seconds and peak RSS. Issue 20's per-config profiles.
#
#   bench/step_profile.sh [PTFT_BIN]                 # default build/ptft
#   ROWS="gpt-tiny gpt2-lora" STEPS=10 bench/step_profile.sh
#
# Environment: THREADS (default 2), STEPS (timed steps, default 10; 2 warm-up steps before them
# are not counted), PRECISION (default auto: bf16 on CPUs with avx512_bf16), ROWS (default all:
# gpt-tiny gpt-small gpt2 gpt2-lora llama-tiny smollm2-135m resnet-fmnist; also smollm2 and
# smollm2-lora).
# Language models train on `synthetic:tokens` (no data to prepare); gpt2 and gpt2-lora are
# fine-tunes of the same randomly initialised GPT-2 124M (B4 x T256, the issue's LoRA row: full
# vs LoRA r=8 on c_attn/c_proj/c_fc); smollm2 and smollm2-lora the same for the SmolLM2-135M
# shape (LoRA r=8 on every projection of the blocks, the default); resnet-fmnist runs
# configs/resnet-fmnist-pretrain.yaml on /usr/share/datasets/fashion-mnist (scripts/setup.sh). Each run evaluates once (4 batches) and
# writes one checkpoint, after the timed steps.
set -euo pipefail
cd "$(dirname "$0")/.."
PTFT="${1:-build/ptft}"
THREADS="${THREADS:-2}"
STEPS="${STEPS:-10}"
WARM=2
PRECISION="${PRECISION:-auto}"
ROWS="${ROWS:-gpt-tiny gpt-small gpt2 gpt2-lora llama-tiny smollm2-135m resnet-fmnist}"
[[ -x "$PTFT" ]] || { echo "step_profile: no ptft binary at $PTFT (scripts/build.sh)" >&2; exit 1; }
source scripts/blas-kernels.sh
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-step-profile-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS="$THREADS"
TOTAL=$((WARM + STEPS))
COMMON=(--threads "$THREADS" --precision "$PRECISION" --quiet --set train.phase_times=on --set train.log_every=1
        --set train.steps=$TOTAL --set train.eval_every=0 --set train.eval_batches=4 --set train.save_every=0
        --set train.warmup=1)

lm_config() {  # preset batch context(0 = the preset's)
  local family override=""
  family="$(sed -n 's/^family: *//p' "configs/models/$1.yaml")"
  if (($3 > 0)); then
    [[ "$family" == llama ]] && override=", max_position_embeddings: $3" || override=", n_positions: $3"
  fi
  printf 'model: {family: %s, preset: %s%s}\ndata: {train: "synthetic:tokens", val: "synthetic:tokens"}\ntrain: {batch_size: %s}\n' \
    "$family" "$1" "$override" "$2" > "$WORK/$1.yaml"
  echo "$WORK/$1.yaml"
}

run() {  # name, then the ptft arguments
  local name="$1"
  shift
  echo "[$name] $*" >&2
  "$PTFT" "$@" --out "$WORK/$name" "${COMMON[@]}" > "$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log" >&2; exit 1; }
  echo "$name" >> "$WORK/rows"
}

echo "step_profile: $(date -u '+%Y-%m-%d %H:%M UTC'), $THREADS threads, precision $PRECISION, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
for row in $ROWS; do
  case "$row" in
    gpt-tiny | llama-tiny) run "$row" pretrain --config "$(lm_config "$row" 16 0)" ;;
    gpt-small) run "$row" pretrain --config "$(lm_config gpt-small 8 256)" ;;
    smollm2-135m) run "$row" pretrain --config "$(lm_config smollm2-135m 4 256)" ;;
    gpt2 | gpt2-lora | smollm2 | smollm2-lora)
      preset=gpt2
      [[ "$row" == smollm2* ]] && preset=smollm2-135m
      if [[ ! -d "$WORK/$preset-base" ]]; then  # one step, saved: the checkpoint both fine-tune
        echo "[$preset-base] pretrain 1 step" >&2
        "$PTFT" pretrain --config "$(lm_config $preset 4 256)" --out "$WORK/$preset-base" --threads "$THREADS" --quiet \
          --set train.steps=1 --set train.eval_every=0 > "$WORK/$preset-base.log" 2>&1 || { cat "$WORK/$preset-base.log" >&2; exit 1; }
      fi
      strategy=full
      [[ "$row" == *-lora ]] && strategy=lora
      run "$row" finetune --config "$WORK/$preset.yaml" --from "$WORK/$preset-base" --set finetune.strategy=$strategy ;;
    resnet-fmnist) run "$row" pretrain --config configs/resnet-fmnist-pretrain.yaml ;;
    *) echo "step_profile: unknown row '$row'" >&2; exit 1 ;;
  esac
done

/usr/bin/python3 - "$WORK" "$WARM" <<'EOF'
import json, sys
work, warm = sys.argv[1], int(sys.argv[2])
phases = ["data", "forward", "backward", "optimizer", "other"]
print("| run | precision | ms/step | units/s | " + " | ".join(phases) + " | eval s | checkpoint s | peak RSS MB |")
print("|---|---|---|---|" + "---|" * len(phases) + "---|---|---|")
for name in open(f"{work}/rows").read().split():
    events = [json.loads(l) for l in open(f"{work}/{name}/metrics.jsonl")]
    start = next(e for e in events if e["event"] == "start")
    timed = [e for e in events if e["event"] == "train" and e["step"] > warm]
    total = {p: sum(e["phase_s"].get(p, 0.0) for e in timed) for p in phases}
    step_s = sum(total.values()) / len(timed)
    rate_key = next(k for k in timed[0] if k.endswith("_per_s"))
    rate = sorted(e[rate_key] for e in timed)[len(timed) // 2]
    summary = json.load(open(f"{work}/{name}/summary.json"))
    shares = [f"{100 * total[p] / sum(total.values()):.0f}%" for p in phases]
    print(f"| {name} | {start.get('precision', '?')} | {1000 * step_s:.0f} | {rate:.0f} {rate_key[:-6]}/s | "
          + " | ".join(shares)
          + f" | {summary['phase_seconds']['eval']:.2f} | {summary['phase_seconds']['checkpoint']:.2f} | "
          f"{summary['peak_rss_mb']:.0f} |")
EOF
