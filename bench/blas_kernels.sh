# Sourced by the benchmarks after PTFT is set: where OpenBLAS does not know this CPU and would run
# its generic Prescott kernels, ptft's compute commands restart with OPENBLAS_CORETYPE
# (include/ptft/core/blas_kernels.h); the PyTorch peers, on the same OpenBLAS, get the same
# variable, so each side runs its fastest kernels. A variable already set is left alone.
blas_core="$("$PTFT" env --json | sed -n 's/.*"kernels_override": "\([A-Za-z]*\)".*/\1/p')"
if [[ -n "$blas_core" && -z "${OPENBLAS_CORETYPE+x}" ]]; then
  export OPENBLAS_CORETYPE="$blas_core"
  echo "bench: OPENBLAS_CORETYPE=$blas_core for both sides (OpenBLAS does not know this CPU)" >&2
fi
