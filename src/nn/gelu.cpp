#include "ptft/nn/gelu.h"

#include "ptft/nn/gelu_kernel.h"

namespace ptft::nn {
namespace {

constexpr int64_t kGrain = 16384;  // elements per task of the thread pool

bool has_kernel(const torch::Tensor& x) {
  return x.is_cpu() && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kBFloat16);
}

torch::Tensor forward_kernel(const torch::Tensor& x) {
  auto y = torch::empty_like(x);
  const int64_t n = x.numel();
  if (x.scalar_type() == torch::kFloat) {
    const float* in = x.data_ptr<float>();
    float* out = y.data_ptr<float>();
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { gelu_tanh_forward(in + b, out + b, e - b); });
  } else {
    const auto* in = reinterpret_cast<const uint16_t*>(x.data_ptr<at::BFloat16>());
    auto* out = reinterpret_cast<uint16_t*>(y.data_ptr<at::BFloat16>());
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { gelu_tanh_forward(in + b, out + b, e - b); });
  }
  return y;
}

torch::Tensor backward_kernel(const torch::Tensor& x, const torch::Tensor& dy) {
  auto dx = torch::empty_like(x);
  const int64_t n = x.numel();
  if (x.scalar_type() == torch::kFloat) {
    const float* in = x.data_ptr<float>();
    const float* g = dy.data_ptr<float>();
    float* out = dx.data_ptr<float>();
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { gelu_tanh_backward(in + b, g + b, out + b, e - b); });
  } else {
    const auto* in = reinterpret_cast<const uint16_t*>(x.data_ptr<at::BFloat16>());
    const auto* g = reinterpret_cast<const uint16_t*>(dy.data_ptr<at::BFloat16>());
    auto* out = reinterpret_cast<uint16_t*>(dx.data_ptr<at::BFloat16>());
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { gelu_tanh_backward(in + b, g + b, out + b, e - b); });
  }
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
  if (!has_kernel(x)) return torch::gelu(x, "tanh");
  return GeluTanh::apply(x);
}

}  // namespace ptft::nn
