#include "ptft/nn/gelu.h"

#include "kernel_types.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/gelu_kernel.h"

namespace ptft::nn {
namespace {

constexpr int64_t kGrain = 16384;  // elements per task of the thread pool

torch::Tensor forward_kernel(const torch::Tensor& x) {
  auto y = torch::empty_like(x);
  with_elements(x.scalar_type(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = elements<T>(x);
    T* out = elements<T>(y);
    ptft::parallel_for(0, x.numel(), kGrain, [&](int64_t b, int64_t e) { gelu_tanh_forward(in + b, out + b, e - b); });
  });
  return y;
}

torch::Tensor backward_kernel(const torch::Tensor& x, const torch::Tensor& dy) {
  auto dx = torch::empty_like(x);
  with_elements(x.scalar_type(), [&](auto tag) {
    using T = decltype(tag);
    const T *in = elements<T>(x), *g = elements<T>(dy);
    T* out = elements<T>(dx);
    ptft::parallel_for(0, x.numel(), kGrain, [&](int64_t b, int64_t e) { gelu_tanh_backward(in + b, g + b, out + b, e - b); });
  });
  return dx;
}

struct GeluTanh : torch::autograd::Function<GeluTanh> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    const torch::Tensor in = x.contiguous();
    ctx->save_for_backward({in});
    return forward_kernel(in);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    return {backward_kernel(x, grads[0].to(x.scalar_type()).contiguous())};
  }
};

}  // namespace

torch::Tensor gelu_tanh(const torch::Tensor& x) {
  if (!kernel_dtype(x)) return torch::gelu(x, "tanh");
  return GeluTanh::apply(x);
}

}  // namespace ptft::nn
