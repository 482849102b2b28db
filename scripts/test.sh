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
# OpenBLAS's fast kernels for the test binaries too where it does not know the CPU (env_test checks
# ptft's own restart with the variable removed).
PTFT="$BUILD_DIR/ptft" source scripts/blas-kernels.sh
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${PTFT_TEST_JOBS:-2}" "$@"
echo "test: total $(( $(date +%s) - start )) s"
