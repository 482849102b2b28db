#include "ptft/nn/lora_linear.h"

#include <ATen/record_function.h>

#include "linear_op_parts.h"
#include "ptft/core/compat.h"

namespace ptft::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Inputs, in this order: x, h (dropped x, or x again), W, b (or_placeholder), A, B; then the scale
// and whether h and b are real.
enum Input : size_t { kX, kH, kW, kBias, kA, kB };

struct LoraLinear : torch::autograd::Function<LoraLinear> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& h,
                               const torch::Tensor& w, const torch::Tensor& bias, const torch::Tensor& a,
                               const torch::Tensor& b, double scale, bool has_h, bool has_bias) {
    const auto type = compat::matmul_dtype(x);
    const int64_t in = w.size(1);
    const auto x2 = x.reshape({-1, in}).to(type);                      // (N, in)
    const auto h2 = has_h ? h.reshape({-1, in}).to(type) : x2;  // (N, in)
    const auto wc = w.to(type), ac = a.to(type), bc = b.to(type);
    const auto u = torch::mm(h2, ac.t());                               // (N, r)
    const auto bias_c = has_bias ? bias.to(type) : torch::Tensor();
    auto y = bias_c.defined() ? torch::addmm(bias_c, x2, wc.t()) : torch::mm(x2, wc.t());  // (N, out)
    y.addmm_(u, bc.t(), /*beta=*/1, /*alpha=*/scale);                                    // += s u B^T
    // x2 only for a weight that trains (dW); h2 is x2 without dropout, so kept once either way.
    ctx->save_for_backward({w.requires_grad() ? x2 : torch::Tensor(), h2, wc, ac, bc, u});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["x_type"] = static_cast<int64_t>(x.scalar_type());
    ctx->saved_data["has_h"] = has_h;
    return y.view(with_last(x, w.size(0)));  // (..., out)
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x2 = saved[0], &h2 = saved[1], &wc = saved[2], &ac = saved[3], &bc = saved[4], &u = saved[5];
    const double scale = ctx->saved_data["scale"].toDouble();
    const auto x_type = static_cast<torch::ScalarType>(ctx->saved_data["x_type"].toInt());
    const bool has_h = ctx->saved_data["has_h"].toBool();
    const auto dy = grads[0].reshape({-1, wc.size(0)}).to(wc.scalar_type());  // (N, out)
    auto du = torch::mm(dy, bc).mul_(scale);                                     // (N, r)
    variable_list g(9);  // one per input of forward (undefined: none); the engine casts each to its input's dtype
    if (ctx->needs_input_grad(kX)) {
      auto dx = torch::mm(dy, wc);  // (N, in)
      if (!has_h) dx.addmm_(du, ac);
      g[kX] = dx.view(with_last(grads[0], wc.size(1))).to(x_type);
    }
    if (has_h && ctx->needs_input_grad(kH)) g[kH] = torch::mm(du, ac).view(with_last(grads[0], wc.size(1))).to(x_type);
    if (ctx->needs_input_grad(kW)) g[kW] = weight_grad(dy, x2);  // (out, in); the engine casts to W's dtype
    if (ctx->needs_input_grad(kBias)) g[kBias] = bias_grad(dy);
    if (ctx->needs_input_grad(kA)) g[kA] = torch::mm(du.t(), h2);  // (r, in)
    if (ctx->needs_input_grad(kB)) g[kB] = torch::mm(u.t() * scale, dy).t().contiguous();  // (out, r): u^T dy reads dy row-major
    return g;
  }
};

}  // namespace

torch::Tensor lora_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                          const torch::Tensor& lora_A, const torch::Tensor& lora_B, double scale,
                          const torch::Tensor& dropped_x) {
  RECORD_FUNCTION("ptft::lora_linear", std::vector<c10::IValue>({x, weight}));
  return LoraLinear::apply(x, dropped_x.defined() ? dropped_x : x, weight, or_placeholder(bias, x), lora_A, lora_B,
                           scale, dropped_x.defined(), bias.defined());
}

}  // namespace ptft::nn
