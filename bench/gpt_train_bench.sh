#!/usr/bin/env bash
# Language-model training throughput: `ptft pretrain` against the same model and step in PyTorch
# eager (bench/peers/gpt_train_peer.py + llama_model.py + bert_model.py, Debian's python3-torch:
# the same libtorch and BLAS), in fp32 and in bf16 autocast, for gpt-tiny, gpt-small, gpt2,
# llama-tiny, smollm2-135m, bert-tiny and bert-base (configs/models/*.yaml; BERT as a masked LM,
# and as a sequence classifier in the rows bert-tiny-cls and bert-base-cls), with
# the same threads and environment, in one invocation. Prints tokens/s, the ratio
# ptft / max(torch fp32, torch bf16), MFU and peak RSS.
#
#   bench/gpt_train_bench.sh [PTFT_BIN]            # default build/ptft
#   THREADS=2 SKIP_GPT2=1 bench/gpt_train_bench.sh
#
# Environment: THREADS (default 2: torch intra-op threads and OMP_NUM_THREADS for both sides),
# PRESETS (default "gpt-tiny gpt-small gpt2 llama-tiny smollm2-135m"), SKIP_GPT2=1 (leave gpt2 out), REPEATS (default 2:
# ptft and torch fp32 run alternately that many times; the best run of each counts), BF16_LIMIT_S
# (default 60: a bf16 peer run that has not finished by then reports what it has, see below),
# PYTHON (default /usr/bin/python3, which sees Debian's python3-torch).
#
# Per preset: batch x context, warm-up steps, timed steps:
#   gpt-tiny       16 x 128    3 + 20
#   gpt-small       8 x 256    2 + 8
#   gpt2            1 x 1024   2 + 4
#   llama-tiny     16 x 128    3 + 20
#   smollm2-135m    4 x 256    2 + 4    (its context cut from 8192 to 256 on both sides)
#   bert-tiny      32 x 128    3 + 20   masked LM (15 % of the tokens predicted)
#   bert-base       8 x 128    2 + 4    masked LM, its context cut from 512 to 128 on both sides
#   bert-tiny-cls  32 x 128    3 + 20   sequence classifier, 4 classes, texts longer than the
#   bert-base-cls   8 x 128    2 + 4    context (full windows; the padding mask is applied)
# BERT reads token shards: the bench makes a random-word corpus (40k made-up words, Zipf
# frequencies), trains a BERT vocabulary of the preset's size on it (ptft tokenizer train
# --family bert) and prepares shards (ptft data prepare) or classification JSONL (180 words
# per text, 4 labels), outside every timed step; dropout as the
# preset has it (0.1) on both sides. The peer draws its masked windows as ptft's MlmWindows does.
# ptft's tokens/s is the median over the steps after the warm-up of batch x context over the
# step's wall time (elapsed_s between consecutive `train` events of metrics.jsonl, log_every 1);
# the checkpoint written at the end of the run (unavoidable; save_every is set past the last
# step, no evaluation) is outside every timed step. The peer times the same
# steps with a wall clock around forward, backward, clip and the AdamW step. Peak RSS is each
# whole process's ru_maxrss (ptft: summary.json peak_rss_mb; the peer includes the Python
# interpreter).
#
# MFU = (flops_per_token x tokens/s) / peak, with flops_per_token counted as ptft's
# GptImpl::flops_per_unit (x3 for forward + backward) and the peak measured once per invocation
# by the peer with the best of ten square torch.mm after a warm-up (fp32 2048^3, bf16 1024^3):
# the peak of ptft's precision for ptft (bf16 autocast: the bf16 peak), the fp32 peak for torch
# fp32, the bf16 peak for torch bf16.
#
# bf16 autocast: without avx512_bf16/amx the bf16 matmuls of libtorch 1.13 run ~20x slower than
# fp32, so a bf16 step of gpt-small/gpt2 takes minutes. The peer stops at BF16_LIMIT_S: with
# timed steps done it reports their median (marked ~), with none it reports an upper bound
# (marked <: the step in flight, or a finished one after the first, took longer than that;
# its MFU is shown as -).
set -euo pipefail
cd "$(dirname "$0")/.."

PTFT="${1:-build/ptft}"
THREADS="${THREADS:-2}"
PRESETS="${PRESETS:-gpt-tiny gpt-small gpt2 llama-tiny smollm2-135m}"
[[ "${SKIP_GPT2:-0}" == 1 ]] && PRESETS="${PRESETS//gpt2/}"
BF16_LIMIT_S="${BF16_LIMIT_S:-60}"
REPEATS="${REPEATS:-2}"
PYTHON="${PYTHON:-/usr/bin/python3}"
PEER=bench/peers/gpt_train_peer.py

[[ -x "$PTFT" ]] || { echo "gpt_train_bench: no ptft binary at $PTFT (build it first: scripts/build.sh)" >&2; exit 1; }
source scripts/blas-kernels.sh  # OPENBLAS_CORETYPE for both sides where needed
if ! "$PYTHON" -c 'import torch, yaml' 2>/dev/null; then
  echo "gpt_train_bench: $PYTHON cannot import torch and yaml (the PyTorch-eager peer needs them)" >&2
  echo "  install: apt-get install -y python3-torch python3-yaml" >&2
  exit 1
fi

# batch size, warm-up steps, timed steps, context (0 = the preset's)
shape() {
  case "$1" in
    gpt-tiny) echo "16 3 20 0" ;;
    gpt-small) echo "8 2 8 0" ;;
    gpt2) echo "1 2 4 0" ;;
    llama-tiny) echo "16 3 20 0" ;;
    smollm2-135m) echo "4 2 4 256" ;;
    bert-tiny) echo "32 3 20 0" ;;
    bert-base) echo "8 2 4 128" ;;
    bert-tiny-cls) echo "32 3 20 0" ;;
    bert-base-cls) echo "8 2 4 128" ;;
    *) echo "gpt_train_bench: no batch size chosen for preset '$1'" >&2; exit 1 ;;
  esac
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-gpt-bench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS="$THREADS"

echo "gpt_train_bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
# Other work on the machine skews every number: the load average before and after is printed.
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.before"
"$PYTHON" "$PEER" --measure-peak --threads "$THREADS" > "$WORK/peak.json"

# BERT's data: token shards of a random-word corpus under a BERT vocabulary of V pieces.
bert_shards() {  # V -> prints the shard directory
  local dir="$WORK/bert-$1"
  if [[ ! -d "$dir/shards" ]]; then
    [[ -f "$WORK/bert-corpus.txt" ]] || "$PYTHON" -c '
import random
r = random.Random(7)
words = ["".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(2, 9))) for _ in range(40000)]
weights = [1.0 / (i + 1) for i in range(len(words))]
for i in range(40000):
    print(" ".join(r.choices(words, weights, k=12)) + ("\n" if i % 10 == 9 else ""))' > "$WORK/bert-corpus.txt"
    "$PTFT" tokenizer train --family bert --vocab-size "$1" --input "$WORK/bert-corpus.txt" --out "$dir/tok" \
      > "$dir.log" 2>&1 || { cat "$dir.log" >&2; exit 1; }
    "$PTFT" data prepare --tokenizer "$dir/tok" --input "$WORK/bert-corpus.txt" --out "$dir/shards" \
      --split-documents blank-lines --quiet >> "$dir.log" 2>&1 || { cat "$dir.log" >&2; exit 1; }
  fi
  echo "$dir/shards"
}

# BERT's classification data: JSONL of 180-word texts with 4 labels beside those shards.
bert_classification() {  # V -> prints the train file; the tokenizer is in its directory's tok/
  local dir
  dir="$(dirname "$(bert_shards "$1")")"
  [[ -f "$dir/cls-train.jsonl" ]] || "$PYTHON" - "$WORK/bert-corpus.txt" "$dir" <<'PY'
import json, sys
lines = [l.strip() for l in open(sys.argv[1]) if l.strip()]
for split, n in (("train", 2000), ("val", 100)):
    with open(f"{sys.argv[2]}/cls-{split}.jsonl", "w") as out:
        for i in range(n):
            text = " ".join(lines[(15 * i + k) % len(lines)] for k in range(15))
            out.write(json.dumps({"text": text, "label": "abcd"[i % 4]}) + "\n")
PY
  echo "$dir/cls-train.jsonl"
}

for preset in $PRESETS; do
  read -r batch warm steps context <<< "$(shape "$preset")"
  echo "$warm" > "$WORK/$preset.warm"
  model="${preset%-cls}"  # the model preset of the row
  task=lm
  [[ "$model" != "$preset" ]] && task=classify
  tokens=$context
  ((tokens > 0)) || tokens="$(sed -n 's/^\(n_positions\|max_position_embeddings\): *//p' "configs/models/$model.yaml")"
  echo $((batch * tokens)) > "$WORK/$preset.window"
  family="$(sed -n 's/^family: *//p' "configs/models/$model.yaml")"
  override=""
  if ((context > 0)); then
    [[ "$family" == gpt ]] && override=", n_positions: $context" || override=", max_position_embeddings: $context"
  fi
  data='{train: "synthetic:tokens"}'
  vocab="$(sed -n 's/^vocab_size: *//p' "configs/models/$model.yaml")"
  if [[ "$task" == classify ]]; then
    train_file="$(bert_classification "$vocab")"
    data="{train: $train_file, val: ${train_file%train.jsonl}val.jsonl, tokenizer: $(dirname "$train_file")/tok}"
  elif [[ "$family" == bert ]]; then
    shards="$(bert_shards "$vocab")"
    data="{train: $shards, val: $shards, mlm_probability: 0.15}"
  fi
  cat > "$WORK/$preset.yaml" <<EOF
model: {family: $family, preset: $model$override}
data: $data
train: {steps: $((warm + steps)), batch_size: $batch, warmup: 1, log_every: 1, eval_every: 0,
        save_every: 1000000, keep_checkpoints: 1}
EOF
  # ptft and torch fp32 alternate, so that a slow phase of the VM hits both sides alike.
  for ((r = 1; r <= REPEATS; r++)); do
    echo "[$preset] ptft pretrain, batch $batch, $warm + $steps steps (run $r/$REPEATS) ..." >&2
    "$PTFT" pretrain --config "$WORK/$preset.yaml" --out "$WORK/run-$preset-$r" --threads "$THREADS" --quiet \
      > "$WORK/ptft-$preset.log" 2>&1 || { cat "$WORK/ptft-$preset.log" >&2; exit 1; }
    rm -rf "$WORK/run-$preset-$r/checkpoints"
    echo "[$preset] torch eager fp32 (run $r/$REPEATS) ..." >&2
    "$PYTHON" "$PEER" --preset "configs/models/$model.yaml" --task "$task" --batch-size "$batch" --context "$context" \
      --warmup-steps "$warm" --steps "$steps" --precision fp32 --threads "$THREADS" --time-limit 0 \
      > "$WORK/torch-fp32-$preset-$r.json"
  done
  echo "[$preset] torch eager bf16 ..." >&2
  "$PYTHON" "$PEER" --preset "configs/models/$model.yaml" --task "$task" --batch-size "$batch" --context "$context" \
    --warmup-steps "$warm" --steps "$steps" --precision bf16 --threads "$THREADS" --time-limit "$BF16_LIMIT_S" \
    > "$WORK/torch-bf16-$preset.json"
done

cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.after"
"$PYTHON" - "$WORK" "$PRESETS" "$REPEATS" <<'EOF'
import json, statistics, sys
work, presets, repeats = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
load = [open(f"{work}/load.{w}").read().strip() for w in ("before", "after")]
peak = json.load(open(f"{work}/peak.json"))

def fmt_tok(r):
    if r.get("tokens_per_s") is None:
        return f"<{r['tokens_per_s_below']:.0f}", r["tokens_per_s_below"]
    mark = "~" if r.get("truncated") else ""
    return f"{mark}{r['tokens_per_s']:.0f}", r["tokens_per_s"]

rows, raw = [], {"peak": peak}
for p in presets:
    warm = int(open(f"{work}/{p}.warm").read())
    # Each run's figure is the median over its timed steps; the best of the REPEATS runs counts.
    ptft_runs = []
    for r in range(1, repeats + 1):
        events = [json.loads(l) for l in open(f"{work}/run-{p}-{r}/metrics.jsonl")]
        start = next(e for e in events if e["event"] == "start")
        train = [e for e in events if e["event"] == "train"]
        # A step's tokens over its wall time (the elapsed_s of consecutive train events, log_every
        # 1): the unit of both sides. (ptft's own tokens_per_s of a masked LM counts the predicted
        # tokens only, 15 % of them.)
        window = int(open(f"{work}/{p}.window").read())
        timed = [window / (e["elapsed_s"] - prev["elapsed_s"]) for prev, e in zip(train, train[1:]) if e["step"] > warm]
        summary = json.load(open(f"{work}/run-{p}-{r}/summary.json"))
        ptft_runs.append((statistics.median(timed), len(timed), summary))
    t32_runs = [json.loads(open(f"{work}/torch-fp32-{p}-{r}.json").read().strip().splitlines()[-1])
                for r in range(1, repeats + 1)]
    t32 = max(t32_runs, key=lambda t: t["tokens_per_s"])
    t16 = json.loads(open(f"{work}/torch-bf16-{p}.json").read().strip().splitlines()[-1])
    ptft, timed_n, summary = max(ptft_runs, key=lambda x: x[0])
    s32, v32 = fmt_tok(t32)
    s16, v16 = fmt_tok(t16)
    fpt = t32["flops_per_token"]
    mfu = lambda tok, pk: f"{100 * fpt * tok / (pk * 1e12):.1f}%"
    rows.append([p, f"{t32['params'] / 1e6:.1f}M", f"{t32['batch_size']}x{t32['context']}",
                 f"{ptft:.0f}", s32, s16, f"{ptft / max(v32, v16):.2f}x",
                 f"{mfu(ptft, peak['peak_tflops_bf16' if start['precision'] == 'bf16' else 'peak_tflops_fp32'])} / "
                 f"{mfu(v32, peak['peak_tflops_fp32'])} / "
                 f"{'-' if t16.get('tokens_per_s') is None else mfu(v16, peak['peak_tflops_bf16'])}",
                 f"{summary['peak_rss_mb']:.0f} / {t32['peak_rss_mb']:.0f} / {t16['peak_rss_mb']:.0f}"])
    raw[p] = {"ptft": {"tokens_per_s": ptft, "runs": [x[0] for x in ptft_runs], "steps_timed": timed_n, "precision": start["precision"],
                       "parameters": summary["parameters"], "peak_rss_mb": summary["peak_rss_mb"]},
              "torch_fp32": t32, "torch_fp32_runs": [t["tokens_per_s"] for t in t32_runs], "torch_bf16": t16}
head = ["config", "params", "BxT", "ptft tok/s", "torch fp32", "torch bf16", "ptft/max(torch)",
        "MFU ptft / fp32 / bf16", "peak RSS MB ptft / fp32 / bf16"]
w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
for r in [head] + rows:
    print("  ".join(str(c).rjust(w[i]) if i else str(c).ljust(w[i]) for i, c in enumerate(r)))
print(f"matmul peak (best torch.mm, {peak['matmul_size_fp32']}^3 fp32, {peak['matmul_size_bf16']}^3 bf16, "
      f"{peak['threads']} threads): "
      f"fp32 {peak['peak_tflops_fp32'] * 1e3:.1f} GFLOP/s, bf16 {peak['peak_tflops_bf16'] * 1e3:.1f} GFLOP/s; "
      f"ptft precision: {raw[presets[0]]['ptft']['precision']}; torch AdamW: {t32['adamw']}; "
      f"load average before {load[0]}, after {load[1]}")
print("raw: " + json.dumps(raw), file=sys.stderr)
EOF
