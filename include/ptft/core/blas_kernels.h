// ptft/core/blas_kernels.h — OpenBLAS's kernels on a CPU it does not know. OpenBLAS (0.3.21 in
// Debian 12) picks its kernels by CPU model when it loads; a model it does not know (Sapphire
// Rapids, ...) gets the generic SSE3 "Prescott" kernels: fp32 GEMM ~7x slower (38 vs 259 GFLOP/s,
// 2-core Xeon with AVX-512) and matrix-vector products ~2x. The choice can only be changed before
// the library loads, through OPENBLAS_CORETYPE, so a compute command restarts itself once with it.
//
//   std::string core = blas_kernels_override();   // "Cooperlake" | "SkylakeX" | "Haswell" | ""
//   restart_with_blas_kernels(argv);              // no return when it restarts; else returns
//
// A set OPENBLAS_CORETYPE (any value) is the user's choice and is never overridden.
#pragma once

#include <string>

namespace ptft {

// The kernel set OpenBLAS chose when it loaded (openblas_get_corename(): "Prescott", "Haswell",
// "Cooperlake", ...); "" when the BLAS in this process is not OpenBLAS.
std::string openblas_corename();

// The OPENBLAS_CORETYPE this process should have run with: non-empty only when OpenBLAS is loaded,
// fell back to its Prescott kernels, the CPU has AVX2 or AVX-512, and OPENBLAS_CORETYPE is unset.
std::string blas_kernels_override();

// Re-executes this program (same pid, arguments and environment, plus OPENBLAS_CORETYPE) when
// blas_kernels_override() is non-empty. Returns when there is nothing to do or exec fails (then it
// logs a warning and the run goes on with the slow kernels).
void restart_with_blas_kernels(char** argv);

// For a parent whose children do the computing (ptft launch): set OPENBLAS_CORETYPE for them.
void export_blas_kernels();

}  // namespace ptft
