#include "ptft/core/env.h"

#include "ptft/core/blas_kernels.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace ptft {
namespace {

std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        return v;
      }
    }
  }
  return {};
}

std::set<std::string> cpu_flags() {
  std::set<std::string> flags;
  std::istringstream ss(cpuinfo_field("flags"));
  std::string f;
  while (ss >> f) flags.insert(f);
  return flags;
}

// Shared objects in /proc/self/maps whose file name says BLAS or LAPACK.
std::vector<std::string> mapped_blas_libraries() {
  std::ifstream in("/proc/self/maps");
  std::string line;
  std::set<std::string> seen;
  std::vector<std::string> out;
  while (std::getline(in, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    std::string base = std::filesystem::path(path).filename().string();
    std::string lower = base;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    bool blas = lower.find("blas") != std::string::npos || lower.find("lapack") != std::string::npos ||
                lower.find("mkl") != std::string::npos;
    if (!blas || lower.find(".so") == std::string::npos) continue;
    if (seen.insert(path).second) out.push_back(path);
  }
  return out;
}

}  // namespace

bool cpu_has_feature(const std::string& flag) { return cpu_flags().count(flag) > 0; }

EnvInfo collect_env() {
  EnvInfo env;
  env.ptft_version = PTFT_VERSION;
  env.torch_version = TORCH_VERSION;
  env.intra_op_threads = at::get_num_threads();
  env.inter_op_threads = at::get_num_interop_threads();
  env.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());
  env.cpu_model = cpuinfo_field("model name");
  auto flags = cpu_flags();
  for (const char* f : {"avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
                        "amx_tile", "amx_bf16", "neon", "asimd"}) {
    if (flags.count(f)) env.cpu_features.push_back(f);
  }
  env.bf16_fast_cpu = flags.count("avx512_bf16") || flags.count("amx_bf16");
  env.cuda_built = at::hasCUDA() || torch::cuda::is_available();
  env.cuda_devices = static_cast<int>(torch::cuda::device_count());

  // BLAS: read from the process, not assumed. Make sure it is loaded first (torch links it lazily
  // on some builds), then look at the mappings and ask OpenBLAS itself.
  BlasInfo& b = env.blas;
  b.libraries = mapped_blas_libraries();
  using GetConfig = char* (*)();
  using GetInt = int (*)();
  auto get_config = reinterpret_cast<GetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  auto get_parallel = reinterpret_cast<GetInt>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
  auto get_threads = reinterpret_cast<GetInt>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  bool reference = false;
  for (auto& lib : b.libraries) {
    std::error_code ec;
    auto real = std::filesystem::weakly_canonical(lib, ec).string();
    if (!ec) lib = real;
    if (lib.find("/blas/libblas") != std::string::npos) reference = true;
  }
  if (get_config) {
    b.name = "OpenBLAS";
    b.config = get_config();
    if (get_parallel) {
      int p = get_parallel();
      b.threading = p == 0 ? "sequential" : p == 1 ? "pthread" : p == 2 ? "openmp" : "unknown";
    }
    if (get_threads) b.threads = get_threads();
    b.kernels = openblas_corename();
    b.kernels_override = blas_kernels_override();
    if (b.threading == "pthread")
      b.warning = "the pthread OpenBLAS fights libtorch's OpenMP threads (~3x slower steps); "
                  "run scripts/setup.sh (selects libopenblas0-openmp)";
  } else if (dlsym(RTLD_DEFAULT, "mkl_get_max_threads")) {
    b.name = "MKL";
  } else if (reference) {
    b.name = "reference BLAS";
    b.warning = "the reference BLAS is ~30x slower than OpenBLAS; run scripts/setup.sh";
  } else {
    b.name = b.libraries.empty() ? "none loaded" : "unknown";
  }
  if (reference && b.name == "OpenBLAS")
    b.warning = "both the reference BLAS and OpenBLAS are loaded; libblas.so.3 should point to "
                "OpenBLAS (run scripts/setup.sh)";
  return env;
}

nlohmann::json env_json(const EnvInfo& env) {
  nlohmann::json j;
  j["ptft"] = env.ptft_version;
  j["torch"] = env.torch_version;
  j["blas"] = {{"name", env.blas.name},         {"config", env.blas.config},
               {"threading", env.blas.threading}, {"threads", env.blas.threads},
               {"libraries", env.blas.libraries}, {"warning", env.blas.warning},
               {"kernels", env.blas.kernels},     {"kernels_override", env.blas.kernels_override}};
  j["threads"] = {{"intra_op", env.intra_op_threads},
                  {"inter_op", env.inter_op_threads},
                  {"hardware", env.hardware_threads}};
  j["cpu"] = {{"model", env.cpu_model}, {"features", env.cpu_features}, {"bf16_fast", env.bf16_fast_cpu}};
  j["cuda"] = {{"built", env.cuda_built}, {"devices", env.cuda_devices}};
  return j;
}

std::string env_text(const EnvInfo& env) {
  std::ostringstream s;
  s << "ptft " << env.ptft_version << " | libtorch " << env.torch_version << "\n";
  s << "BLAS: " << env.blas.name;
  if (!env.blas.threading.empty()) s << " (" << env.blas.threading << ", " << env.blas.threads << " threads)";
  if (!env.blas.config.empty()) s << " [" << env.blas.config << "]";
  s << "\n";
  for (const auto& lib : env.blas.libraries) s << "  loaded: " << lib << "\n";
  if (!env.blas.warning.empty()) s << "  WARNING: " << env.blas.warning << "\n";
  if (!env.blas.kernels_override.empty())
    s << "  note: OpenBLAS does not know this CPU and runs its generic " << env.blas.kernels
      << " kernels; ptft's compute commands restart with OPENBLAS_CORETYPE=" << env.blas.kernels_override
      << " (fp32 matrix products several times faster); export it for other programs (PyTorch)\n";
  s << "threads: " << env.intra_op_threads << " intra-op, " << env.inter_op_threads
    << " inter-op, " << env.hardware_threads << " hardware\n";
  s << "CPU: " << env.cpu_model << " | features:";
  for (const auto& f : env.cpu_features) s << " " << f;
  s << (env.bf16_fast_cpu ? " | bf16 fast" : " | bf16 slow (no avx512_bf16/amx)") << "\n";
  s << "CUDA: " << (env.cuda_built ? "available" : "not available") << ", " << env.cuda_devices
    << " device(s)\n";
  return s.str();
}

}  // namespace ptft
