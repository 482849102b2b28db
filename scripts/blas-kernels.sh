# Sourced with PTFT set (scripts/test.sh, the benchmarks): where OpenBLAS does not know this CPU
# and would run its generic Prescott kernels, ptft's compute commands restart themselves with
# OPENBLAS_CORETYPE (include/ptft/core/blas_kernels.h). Exporting the same value here gives it to
# every process started afterwards: the test binaries, and the benchmarks' PyTorch peers on the
# same OpenBLAS, so each side runs its fastest kernels. A variable already set is left alone.
blas_core="$("$PTFT" env --json | sed -n 's/.*"kernels_override": "\([A-Za-z]*\)".*/\1/p')"
if [[ -n "$blas_core" && -z "${OPENBLAS_CORETYPE+x}" ]]; then
  export OPENBLAS_CORETYPE="$blas_core"
  echo "$(basename "$0"): OPENBLAS_CORETYPE=$blas_core for every process (OpenBLAS does not know this CPU)" >&2
fi
