#!/usr/bin/env bash
# The torch-free library (ptft_base: config, safetensors, GGUF, tokenizers, Jinja, serve's HTTP
# layer, text data) and its unit tests, built with AddressSanitizer + UndefinedBehaviorSanitizer
# (g++'s, -O1) into build-sanitize/, then run; any report fails the run (issue 21, item 2).
#
#   scripts/sanitize.sh                 # PTFT_SANITIZE_DIR=build-sanitize, extra gtest args after
#   scripts/sanitize.sh --gtest_filter='Config*'
#
# The torch half (models, training) is not covered: libtorch is not built with the sanitizers.
# The fuzz targets (fuzz/, built with clang's ASan + UBSan + libFuzzer) cover the parsers again
# on generated inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${PTFT_SANITIZE_DIR:-build-sanitize}"
FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
if [[ ! -f "$DIR/build.ninja" ]]; then
  mkdir -p "$DIR"
  cmake -S . -B "$DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS="$FLAGS" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" > "$DIR/configure.log" 2>&1 ||
    { cat "$DIR/configure.log" >&2; exit 1; }
fi
cmake --build "$DIR" --target ptft_base_tests -j "${PTFT_JOBS:-$(nproc)}"
# halt_on_error: the first report ends the run with a failure; leaks are reported at exit.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
start=$(date +%s)
"$DIR/tests/ptft_base_tests" "$@"
echo "sanitize: ptft_base_tests passed under ASan + UBSan in $(( $(date +%s) - start )) s"
