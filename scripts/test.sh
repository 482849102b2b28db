#!/usr/bin/env bash
# Set-up + configure + build + every test (unit, end-to-end, fuzz corpus).
#   scripts/test.sh            # as root on a fresh Debian 12 this installs what it needs
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
start=$(date +%s)
scripts/build.sh
echo "test: build took $(( $(date +%s) - start )) s"
BUILD_DIR="${PTFT_BUILD_DIR:-build}"
# Where OpenBLAS does not know the CPU and runs its slow generic kernels, ptft's compute commands
# restart with OPENBLAS_CORETYPE (ptft env: kernels_override); the test binaries get it from here
# (env_test checks the restart itself with the variable removed).
core="$("$BUILD_DIR/ptft" env --json | sed -n 's/.*"kernels_override": "\([A-Za-z]*\)".*/\1/p')"
if [[ -n "$core" && -z "${OPENBLAS_CORETYPE+x}" ]]; then
  export OPENBLAS_CORETYPE="$core"
  echo "test: OPENBLAS_CORETYPE=$core (OpenBLAS does not know this CPU)"
fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${PTFT_TEST_JOBS:-2}" "$@"
echo "test: total $(( $(date +%s) - start )) s"
