#include "ptft/nn/dense_linear.h"

#include <ATen/record_function.h>

#include "linear_op_parts.h"
#include "ptft/core/compat.h"

namespace ptft::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Inputs: x, W, b (or_placeholder), then whether b is real.
struct DenseLinear : torch::autograd::Function<DenseLinear> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& bias, bool has_bias) {
    const auto type = compat::matmul_dtype(x);
    const auto x2 = x.reshape({-1, w.size(1)}).to(type);  // (N, in)
    const auto wc = w.to(type);                           // (out, in)
    auto y = has_bias ? torch::addmm(bias.to(type), x2, wc.t()) : torch::mm(x2, wc.t());  // (N, out)
    ctx->save_for_backward({w.requires_grad() ? x2 : torch::Tensor(), wc});
    ctx->saved_data["x_type"] = static_cast<int64_t>(x.scalar_type());
    return y.view(with_last(x, w.size(0)));  // (..., out)
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x2 = saved[0], &wc = saved[1];
    const auto dy = grads[0].reshape({-1, wc.size(0)}).to(wc.scalar_type());  // (N, out)
    variable_list g(4);  // the engine casts each to its input's dtype
    if (ctx->needs_input_grad(0)) {
      const auto x_type = static_cast<torch::ScalarType>(ctx->saved_data["x_type"].toInt());
      g[0] = torch::mm(dy, wc).view(with_last(grads[0], wc.size(1))).to(x_type);  // (..., in)
    }
    if (ctx->needs_input_grad(1)) g[1] = weight_grad(dy, x2);  // (out, in)
    if (ctx->needs_input_grad(2)) g[2] = bias_grad(dy);        // (out)
    return g;
  }
};

}  // namespace

torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  RECORD_FUNCTION("ptft::dense_linear", std::vector<c10::IValue>({x, weight}));
  return DenseLinear::apply(x, weight, or_placeholder(bias, x), bias.defined());
}

}  // namespace ptft::nn
