#include "ptft/nn/gelu.h"

#include <ATen/record_function.h>

#include <type_traits>

#include "kernel_types.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/gelu_kernel.h"

namespace ptft::nn {
namespace {

constexpr int64_t kGrain = 16384;  // elements per task of the thread pool

// The kernels of one GELU: [0] forward, [1] backward, per element type.
struct Kernels {
  void (*forward_f32)(const float*, float*, int64_t);
  void (*backward_f32)(const float*, const float*, float*, int64_t);
  void (*forward_bf16)(const uint16_t*, uint16_t*, int64_t);
  void (*backward_bf16)(const uint16_t*, const uint16_t*, uint16_t*, int64_t);
  template <class T>
  auto forward() const {
    if constexpr (std::is_same_v<T, float>) return forward_f32;
    else return forward_bf16;
  }
  template <class T>
  auto backward() const {
    if constexpr (std::is_same_v<T, float>) return backward_f32;
    else return backward_bf16;
  }
};

const Kernels kErf{gelu_erf_forward, gelu_erf_backward, gelu_erf_forward, gelu_erf_backward};
const Kernels kTanh{gelu_tanh_forward, gelu_tanh_backward, gelu_tanh_forward, gelu_tanh_backward};

torch::Tensor forward_kernel(const torch::Tensor& x, const Kernels& k) {
  auto y = torch::empty_like(x);
  with_elements(x.scalar_type(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = elements<T>(x);
    T* out = elements<T>(y);
    ptft::parallel_for(0, x.numel(), kGrain, [&](int64_t b, int64_t e) { k.forward<T>()(in + b, out + b, e - b); });
  });
  return y;
}

torch::Tensor backward_kernel(const torch::Tensor& x, const torch::Tensor& dy, const Kernels& k) {
  auto dx = torch::empty_like(x);
  with_elements(x.scalar_type(), [&](auto tag) {
    using T = decltype(tag);
    const T *in = elements<T>(x), *g = elements<T>(dy);
    T* out = elements<T>(dx);
    ptft::parallel_for(0, x.numel(), kGrain, [&](int64_t b, int64_t e) { k.backward<T>()(in + b, g + b, out + b, e - b); });
  });
  return dx;
}

struct Gelu : torch::autograd::Function<Gelu> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, bool erf) {
    const torch::Tensor in = x.contiguous();
    ctx->save_for_backward({in});
    ctx->saved_data["erf"] = erf;
    return forward_kernel(in, erf ? kErf : kTanh);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    const Kernels& k = ctx->saved_data["erf"].toBool() ? kErf : kTanh;
    return {backward_kernel(x, grads[0].to(x.scalar_type()).contiguous(), k), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor gelu_erf(const torch::Tensor& x) {
  RECORD_FUNCTION("ptft::gelu_erf", std::vector<c10::IValue>({x}));
  if (!kernel_dtype(x)) return torch::gelu(x);
  return Gelu::apply(x, true);
}

torch::Tensor gelu_tanh(const torch::Tensor& x) {
  RECORD_FUNCTION("ptft::gelu_tanh", std::vector<c10::IValue>({x}));
  if (!kernel_dtype(x)) return torch::gelu(x, "tanh");
  return Gelu::apply(x, false);
}

}  // namespace ptft::nn
