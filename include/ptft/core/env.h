// ptft/core/env.h — what this process runs on: libtorch, the BLAS actually loaded, threads,
// CPU features, accelerators. Printed by `ptft env` and at the start of every training run.
//
//   EnvInfo env = collect_env();
//   std::cerr << env_text(env);           // human lines
//   nlohmann::json j = env_json(env);     // {"torch": "...", "blas": {...}, ...}
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptft {

struct BlasInfo {
  std::vector<std::string> libraries;  // BLAS/LAPACK shared objects mapped into this process (real paths)
  std::string name;                    // "OpenBLAS", "reference BLAS", "MKL", "unknown"
  std::string config;                  // openblas_get_config(), when OpenBLAS is loaded
  std::string threading;               // "openmp", "pthread", "sequential", ""
  int threads = 0;                     // openblas_get_num_threads()
  std::string kernels;                 // openblas_get_corename(): the kernel set it chose ("Prescott", "Haswell", ...)
  std::string kernels_override;        // blas_kernels_override(): what ptft's compute commands restart with, or ""
  std::string warning;                 // non-empty when this BLAS will be slow or fight torch's threads
};

struct EnvInfo {
  std::string ptft_version;
  std::string torch_version;
  BlasInfo blas;
  int intra_op_threads = 0;            // at::get_num_threads()
  int inter_op_threads = 0;
  int hardware_threads = 0;            // std::thread::hardware_concurrency()
  std::string cpu_model;
  std::vector<std::string> cpu_features;  // of avx2, avx512f, avx512_bf16, amx_bf16, ... present
  bool bf16_fast_cpu = false;          // avx512_bf16 or amx_bf16: bf16 autocast pays off on CPU
  int cuda_devices = 0;
  bool cuda_built = false;             // libtorch compiled with CUDA
};

EnvInfo collect_env();
nlohmann::json env_json(const EnvInfo& env);
std::string env_text(const EnvInfo& env);
bool cpu_has_feature(const std::string& flag);  // from /proc/cpuinfo

}  // namespace ptft
