#include "ptft/nn/swiglu.h"

#include <ATen/record_function.h>

#include "kernel_types.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/swiglu_kernel.h"

namespace ptft::nn {
namespace {

constexpr int64_t kGrain = 16384;  // elements per task of the thread pool

struct SwiGlu : torch::autograd::Function<SwiGlu> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& gate,
                               const torch::Tensor& up) {
    const torch::Tensor g = gate.contiguous(), u = up.contiguous();
    auto y = torch::empty_like(g);
    with_elements(g.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      const T *gp = elements<T>(g), *up_ = elements<T>(u);
      T* yp = elements<T>(y);
      ptft::parallel_for(0, g.numel(), kGrain, [&](int64_t b, int64_t e) { swiglu_forward(gp + b, up_ + b, yp + b, e - b); });
    });
    ctx->save_for_backward({g, u});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &g = saved[0], &u = saved[1];
    const torch::Tensor dy = grads[0].to(g.scalar_type()).contiguous();
    auto dg = torch::empty_like(g), du = torch::empty_like(u);
    with_elements(g.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      const T *gp = elements<T>(g), *up_ = elements<T>(u), *dyp = elements<T>(dy);
      T *dgp = elements<T>(dg), *dup = elements<T>(du);
      ptft::parallel_for(0, g.numel(), kGrain, [&](int64_t b, int64_t e) {
        swiglu_backward(gp + b, up_ + b, dyp + b, dgp + b, dup + b, e - b);
      });
    });
    return {dg, du};
  }
};

}  // namespace

torch::Tensor swiglu(const torch::Tensor& gate, const torch::Tensor& up) {
  RECORD_FUNCTION("ptft::swiglu", std::vector<c10::IValue>({gate}));
  const bool kernel = kernel_dtype(gate) && gate.scalar_type() == up.scalar_type() && up.is_cpu() &&
                      gate.sizes() == up.sizes();
  if (!kernel) return torch::silu(gate) * up;
  return SwiGlu::apply(gate, up);
}

}  // namespace ptft::nn
