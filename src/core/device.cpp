#include "ptft/core/device.h"

#include <ATen/Parallel.h>
#include <sched.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "ptft/core/env.h"
#include "ptft/core/error.h"

namespace ptft {

c10::Device resolve_device(const std::string& spec) {
  if (spec == "auto") return torch::cuda::is_available() ? c10::Device("cuda:0") : c10::Device("cpu");
  if (spec == "cpu") return c10::Device("cpu");
  if (spec.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw UserError("device '" + spec + "' requested but no CUDA device is available",
                      "this libtorch build or machine has no CUDA; use --device cpu (or auto)");
    c10::Device d("cpu");
    try {
      d = c10::Device(spec);
    } catch (const std::exception&) {
      throw UserError("invalid device '" + spec + "'", "use auto, cpu, cuda or cuda:N");
    }
    if (d.has_index() && d.index() >= static_cast<int>(torch::cuda::device_count()))
      throw UserError("device '" + spec + "' does not exist: " +
                          std::to_string(torch::cuda::device_count()) + " CUDA device(s)",
                      "use cuda:0 .. cuda:" + std::to_string(torch::cuda::device_count() - 1));
    return d;
  }
  throw UserError("invalid device '" + spec + "'", "use auto, cpu, cuda or cuda:N");
}

Precision resolve_precision(const std::string& spec, const c10::Device& device) {
  Precision p;
  if (spec == "fp32") return p;
  bool fast = device.is_cuda() ? true : cpu_has_feature("avx512_bf16") || cpu_has_feature("amx_bf16");
  if (spec == "auto" && !fast) return p;
  if (spec != "auto" && spec != "bf16")
    throw UserError("invalid precision '" + spec + "'", "use auto, fp32 or bf16");
  p.name = "bf16";
  p.autocast = true;
  p.dtype = c10::kBFloat16;
  return p;
}

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::thread::hardware_concurrency());
}

void set_threads(int threads) {
  if (threads > 0) {
    at::set_num_threads(threads);
    return;
  }
  // libtorch's own default counts physical cores through cpuinfo, which reports 1 on some VMs
  // with 2 usable CPUs; use every CPU this process may run on unless the user set OMP_NUM_THREADS.
  if (std::getenv("OMP_NUM_THREADS") == nullptr) at::set_num_threads(std::max(1, available_cpus()));
}

double measure_matmul_tflops(const c10::Device& device, const Precision& precision) {
  torch::NoGradGuard ng;
  const int64_t n = device.is_cuda() ? 8192 : 1024;
  const auto dtype = precision.autocast ? precision.dtype : c10::kFloat;
  auto opts = torch::TensorOptions().device(device).dtype(dtype);
  torch::Tensor a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  torch::mm(a, b);  // warm-up: kernel selection, packing buffers
  sync();
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::Tensor c = torch::mm(a, b);
    sync();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * n * n * n / std::max(s, 1e-9) / 1e12);
  }
  return best;
}

}  // namespace ptft
