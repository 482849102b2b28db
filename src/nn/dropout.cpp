#include "ptft/nn/dropout.h"

#include <ATen/record_function.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>
#include <mutex>

#include "kernel_types.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/dropout_kernel.h"

namespace ptft::nn {
namespace {

constexpr int64_t kGrain = 16384;  // elements per task of the thread pool

uint64_t draw_key() {
  auto* gen = at::check_generator<at::CPUGeneratorImpl>(at::detail::getDefaultCPUGenerator());
  std::lock_guard<std::mutex> lock(gen->mutex_);
  return gen->random64();
}

torch::Tensor apply_mask(const torch::Tensor& x, uint64_t key, double p) {
  const auto threshold = static_cast<uint32_t>(std::min(std::llround(p * 4294967296.0), 4294967295LL));
  const auto scale = static_cast<float>(1.0 / (1.0 - p));
  auto y = torch::empty_like(x);
  with_elements(x.scalar_type(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = elements<T>(x);
    T* out = elements<T>(y);
    ptft::parallel_for(0, x.numel(), kGrain, [&](int64_t b, int64_t e) {
      dropout_mask_apply(in + b, out + b, e - b, b, key, threshold, scale);
    });
  });
  return y;
}

struct Dropout : torch::autograd::Function<Dropout> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p) {
    const uint64_t key = draw_key();
    ctx->saved_data["key"] = static_cast<int64_t>(key);
    ctx->saved_data["p"] = p;
    return apply_mask(x.contiguous(), key, p);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto key = static_cast<uint64_t>(ctx->saved_data["key"].toInt());
    const double p = ctx->saved_data["p"].toDouble();
    return {apply_mask(grads[0].contiguous(), key, p), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  RECORD_FUNCTION("ptft::dropout", std::vector<c10::IValue>({x}));
  if (!training || p <= 0) return x;
  const bool kernel = kernel_dtype(x) && p < 1 && x.numel() < std::numeric_limits<uint32_t>::max();
  if (!kernel) return torch::dropout(x, p, true);
  return Dropout::apply(x, p);
}

}  // namespace ptft::nn
