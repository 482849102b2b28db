#include "ptft/core/blas_kernels.h"

#include <dlfcn.h>
#include <strings.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "ptft/core/env.h"
#include "ptft/core/log.h"

namespace ptft {

std::string openblas_corename() {
  using GetName = char* (*)();
  auto corename = reinterpret_cast<GetName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = corename != nullptr ? corename() : nullptr;
  return name != nullptr ? name : "";
}

std::string blas_kernels_override() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return "";
  if (strcasecmp(openblas_corename().c_str(), "Prescott") != 0) return "";  // not OpenBLAS, or it knows this CPU
  // The newest kernel set the CPU can run (OpenBLAS's names; Cooperlake = SkylakeX + bf16).
  if (cpu_has_feature("avx512_bf16") && cpu_has_feature("avx512f")) return "Cooperlake";
  if (cpu_has_feature("avx512f") && cpu_has_feature("avx512bw") && cpu_has_feature("avx512vl") &&
      cpu_has_feature("avx512dq"))
    return "SkylakeX";
  if (cpu_has_feature("avx2") && cpu_has_feature("fma")) return "Haswell";
  return "";  // an old CPU: Prescott is right
}

void restart_with_blas_kernels(char** argv) {
  const std::string core = blas_kernels_override();
  if (core.empty()) return;
  setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  execv("/proc/self/exe", argv);
  const int err = errno;
  unsetenv("OPENBLAS_CORETYPE");
  log_warn("could not restart with OPENBLAS_CORETYPE=" + core + " (" + std::strerror(err) +
           "): OpenBLAS runs its slow generic kernels; export OPENBLAS_CORETYPE=" + core + " to fix it");
}

void export_blas_kernels() {
  const std::string core = blas_kernels_override();
  if (!core.empty()) setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
}

}  // namespace ptft
