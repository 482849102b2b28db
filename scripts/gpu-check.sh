#!/usr/bin/env bash
# The GPU check: builds ptft against the CUDA libtorch of a PyTorch install, runs the GPU tests,
# trains and generates with --device cuda, and measures GPT training throughput and MFU against
# the card's peak, with PyTorch eager (the same GPT and step) beside it, and checks the llama family's
# Hugging Face exports with transformers' own classes where that Python has transformers
# (tests/models/transformers_check.py). See docs/distributed.md.
#
# A GPU machine often has a CUDA PyTorch but none of the Debian -dev packages ptft builds with, and
# no network. So, in two steps:
#   scripts/gpu-check.sh --prepare     # on a Debian 12 machine with its registry: downloads the
#                                      # packages below into .gpu-deps/ (git-ignored, ~5 MB)
#   scripts/gpu-check.sh               # on the GPU machine, with .gpu-deps/ carried over
# The packages are unpacked into .gpu-deps/root (dpkg -x; nothing is installed) and found through
# CMAKE_PREFIX_PATH / PKG_CONFIG_SYSROOT_DIR / LD_LIBRARY_PATH. gloo's headers are not carried:
# Debian's gloo is not the one inside a PyTorch wheel (CPU data-parallel training is then off in
# that build unless the wheel ships gloo/*.h); NCCL's nccl.h comes with the wheel's nvidia-nccl.
#
# Environment: PYTHON (default python3: the one with CUDA torch), BUILD (default build-gpu),
# RESULTS (default $BUILD/gpu-check: logs and results.json), BENCH_STEPS (default 20 timed steps),
# SKIP_BENCH=1.
set -euo pipefail
cd "$(dirname "$0")/.."

DEPS_DIR=.gpu-deps
PACKAGES=(libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev libcli11-dev libstb-dev libstb0
          libsentencepiece-dev zlib1g-dev libgtest-dev pkgconf pkgconf-bin libpkgconf3)

if [[ "${1:-}" == "--prepare" ]]; then
  mkdir -p "$DEPS_DIR"
  (cd "$DEPS_DIR" && apt-get download "${PACKAGES[@]}")
  echo "gpu-check: $(ls "$DEPS_DIR"/*.deb | wc -l) packages in $DEPS_DIR/ ($(du -sh "$DEPS_DIR" | cut -f1)); carry it to the GPU machine"
  exit 0
fi
[[ $# -eq 0 ]] || { echo "gpu-check: unknown option '$1' (use --prepare, or none on the GPU machine)" >&2; exit 1; }

PYTHON="${PYTHON:-python3}"
BUILD="${BUILD:-build-gpu}"
RESULTS="${RESULTS:-$BUILD/gpu-check}"
BENCH_STEPS="${BENCH_STEPS:-20}"
mkdir -p "$RESULTS"
log() { echo "gpu-check: $*" >&2; }

# 1. The PyTorch install and its GPU.
"$PYTHON" - > "$RESULTS/torch.json" <<'EOF' || { log "$PYTHON has no CUDA torch"; exit 1; }
import json, torch
assert torch.cuda.is_available(), "torch.cuda.is_available() is False"
p = torch.cuda.get_device_properties(0)
print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda, "device": p.name,
                  "devices": torch.cuda.device_count(), "memory_gib": round(p.total_memory / 2**30, 1),
                  "cmake_prefix_path": torch.utils.cmake_prefix_path}))
EOF
log "$(cat "$RESULTS/torch.json")"
TORCH_PREFIX="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["cmake_prefix_path"])' "$RESULTS/torch.json")"

# 2. The carried packages.
PREFIX="$TORCH_PREFIX"
if compgen -G "$DEPS_DIR/*.deb" > /dev/null; then
  ROOT="$PWD/$DEPS_DIR/root"
  rm -rf "$ROOT" && mkdir -p "$ROOT"
  for f in "$DEPS_DIR"/*.deb; do dpkg -x "$f" "$ROOT"; done
  ARCH_LIB="$ROOT/usr/lib/x86_64-linux-gnu"
  export PATH="$ROOT/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$ARCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PKG_CONFIG_PATH="$ARCH_LIB/pkgconfig:$ROOT/usr/share/pkgconfig"
  export PKG_CONFIG_SYSROOT_DIR="$ROOT"
  PREFIX="$TORCH_PREFIX;$ROOT/usr"
  log "using the packages unpacked in $ROOT"
else
  log "no $DEPS_DIR/*.deb: the build uses what this machine has (run --prepare elsewhere if it fails)"
fi

# 3. Build the binary and the GPU tests against the PyTorch libtorch.
CUDA_ARGS=()
command -v nvcc > /dev/null && CUDA_ARGS+=(-DCMAKE_CUDA_COMPILER="$(command -v nvcc)")
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DPTFT_BUILD_FUZZ=OFF -DPTFT_BUILD_BENCH=OFF "${CUDA_ARGS[@]}" > "$RESULTS/cmake.log" 2>&1 \
  || { tail -40 "$RESULTS/cmake.log" >&2; exit 1; }
grep -E "data-parallel backends|Found Torch|CUDA" "$RESULTS/cmake.log" | head -5 >&2 || true
ninja -C "$BUILD" ptft_cli ptft_gpu_tests > "$RESULTS/build.log" 2>&1 || { tail -60 "$RESULTS/build.log" >&2; exit 1; }
PTFT="$BUILD/ptft"
"$PTFT" env > "$RESULTS/env.txt" 2>&1 || true
log "built $PTFT ($(head -1 "$RESULTS/env.txt"))"

# 4. The GPU tests (label gpu).
(cd "$BUILD" && ctest -L gpu --output-on-failure) > "$RESULTS/ctest.log" 2>&1 && gpu_tests=passed || gpu_tests=FAILED
tail -4 "$RESULTS/ctest.log" >&2

# 5. Train and generate with --device cuda: a small GPT on this repository's own text.
W="$RESULTS/e2e"
rm -rf "$W" && mkdir -p "$W"
"$PTFT" tokenizer train --input README.md docs --vocab-size 1000 --type bpe --out "$W/tok" > "$W/log" 2>&1
"$PTFT" data prepare --tokenizer "$W/tok" --input README.md docs --out "$W/shards" --val-fraction 0.1 --quiet >> "$W/log" 2>&1
cat > "$W/gpt.yaml" <<EOF
model: {family: gpt, vocab_size: 1000, n_positions: 128, n_embd: 128, n_layer: 4, n_head: 4}
data: {train: $W/shards, val: $W/shards}
train: {steps: 300, batch_size: 32, lr: 3.0e-3, warmup: 20, eval_every: 100, save_every: 300}
EOF
e2e=FAILED
if "$PTFT" pretrain --config "$W/gpt.yaml" --out "$W/run" --device cuda >> "$W/log" 2>&1; then
  "$PTFT" generate --model "$W/run" --prompt "ptft is" --max-new-tokens 40 --temperature 0 --device cuda \
    > "$W/cuda.txt" 2>> "$W/log"
  "$PTFT" generate --model "$W/run" --prompt "ptft is" --max-new-tokens 40 --temperature 0 --device cpu \
    > "$W/cpu.txt" 2>> "$W/log"
  cmp -s "$W/cuda.txt" "$W/cpu.txt" && e2e="passed (greedy text on cuda = cpu)" || e2e="passed (greedy text differs cuda vs cpu)"
  log "pretrain --device cuda: $(grep -o '"val_perplexity":[0-9.]*' "$W/run/metrics.jsonl" | tail -1); generate: $(head -c 120 "$W/cuda.txt")"
else
  tail -20 "$W/log" >&2
fi

# 6. GPT-2 124M training throughput and MFU: ptft against PyTorch eager, bf16 autocast.
if [[ "${SKIP_BENCH:-0}" != 1 ]]; then
  B=16
  cat > "$W/gpt2.yaml" <<EOF
model: {family: gpt, preset: gpt2}
data: {train: "synthetic:tokens"}
train: {steps: $((BENCH_STEPS + 5)), batch_size: $B, warmup: 1, log_every: 1, eval_every: 0,
        save_every: 1000000, keep_checkpoints: 1, precision: bf16, device: cuda}
EOF
  "$PTFT" pretrain --config "$W/gpt2.yaml" --out "$W/gpt2" --quiet > "$W/gpt2.log" 2>&1 || { tail -20 "$W/gpt2.log" >&2; exit 1; }
  "$PYTHON" bench/peers/gpt_train_peer.py --preset configs/models/gpt2.yaml --batch-size $B --steps "$BENCH_STEPS" \
    --warmup-steps 5 --precision bf16 --device cuda > "$W/peer.json" 2> "$W/peer.log" || { tail -20 "$W/peer.log" >&2; exit 1; }
  "$PYTHON" - "$W" "$RESULTS/torch.json" <<'EOF' | tee "$RESULTS/bench.txt"
import json, statistics, sys
w, info = sys.argv[1], json.load(open(sys.argv[2]))
ev = [json.loads(l) for l in open(f"{w}/gpt2/metrics.jsonl")]
peak = next(e for e in ev if e["event"] == "peak")["peak_tflops"]
train = [e for e in ev if e["event"] == "train" and e["step"] > 5]
tps = statistics.median(e["tokens_per_s"] for e in train)
mfu_measured = statistics.median(e["mfu"] for e in train)
peer = json.loads(open(f"{w}/peer.json").read().strip().splitlines()[-1])
# Dense bf16 datasheet peaks (TFLOP/s) of the cards this is likely to meet.
sheet = {"H200": 989.4, "H100 SXM": 989.4, "H100 PCIe": 756.0, "H100": 989.4, "A100": 312.0, "L40S": 362.0}
name = info["device"]
card = next((v for k, v in sheet.items() if k in name), None)
fpt = peer["flops_per_token"]
line = (f"GPT-2 124M, {peer['batch_size']}x{peer['context']}, bf16 autocast on {name} (torch {info['torch']}): "
        f"ptft {tps:.0f} tok/s, torch eager {peer['tokens_per_s']:.0f} tok/s ({tps / peer['tokens_per_s']:.2f}x); "
        f"MFU vs measured bf16 matmul peak {peak:.0f} TFLOP/s: ptft {100 * mfu_measured:.1f}%, "
        f"torch {100 * fpt * peer['tokens_per_s'] / (peak * 1e12):.1f}%")
if card:
    line += f"; vs datasheet {card:.0f} TFLOP/s: ptft {100 * fpt * tps / (card * 1e12):.1f}%, torch {100 * fpt * peer['tokens_per_s'] / (card * 1e12):.1f}%"
print(line)
EOF
fi

# 7. The llama family against transformers' own classes, where this Python has transformers (exit 3: it has not).
hf=skipped
hf_rc=0
"$PYTHON" tests/models/transformers_check.py "$PTFT" "$RESULTS/transformers" > "$RESULTS/transformers.jsonl" 2>&1 || hf_rc=$?
case $hf_rc in
  0) hf=passed ;;
  3) hf="skipped ($PYTHON has no transformers)" ;;
  *) hf=FAILED; tail -5 "$RESULTS/transformers.jsonl" >&2 ;;
esac

log "GPU tests: $gpu_tests; train + generate on cuda: $e2e; transformers check: $hf; logs in $RESULTS"
[[ "$gpu_tests" == passed && "$e2e" == passed* && "$hf" != FAILED ]]
