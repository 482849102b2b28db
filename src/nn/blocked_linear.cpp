#include "linear_op_parts.h"
#include "ptft/core/compat.h"

namespace ptft::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// f(first, count) for each block of at most `block` of the n output columns.
template <class F>
void for_blocks(int64_t n, int64_t block, F&& f) {
  for (int64_t b = 0; b < n; b += block) f(b, std::min(block, n - b));
}

// Inputs: x, W, b (or_placeholder), then whether b is real and the block's rows of W.
struct BlockedLinear : torch::autograd::Function<BlockedLinear> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& bias, bool has_bias, int64_t block) {
    const auto type = compat::matmul_dtype(x);
    const int64_t out = w.size(0);
    const auto x2 = x.reshape({-1, w.size(1)}).to(type);  // (N, in)
    const auto wc = w.to(type);                           // (out, in)
    const auto bc = has_bias ? bias.to(type) : torch::Tensor();
    auto y = torch::empty({x2.size(0), out}, x2.options());  // (N, out)
    for_blocks(out, block, [&](int64_t b, int64_t n) {
      auto yb = y.narrow(1, b, n);  // (N, n), rows `out` apart
      if (bc.defined()) torch::addmm_out(yb, bc.narrow(0, b, n), x2, wc.narrow(0, b, n).t());
      else torch::mm_out(yb, x2, wc.narrow(0, b, n).t());
    });
    ctx->save_for_backward({w.requires_grad() ? x2 : torch::Tensor(), wc});
    ctx->saved_data["x_type"] = static_cast<int64_t>(x.scalar_type());
    ctx->saved_data["block"] = block;
    return y.view(with_last(x, out));  // (..., out)
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x2 = saved[0], &wc = saved[1];
    const int64_t out = wc.size(0), in = wc.size(1), block = ctx->saved_data["block"].toInt();
    const auto dy = grads[0].reshape({-1, out}).to(wc.scalar_type());  // (N, out)
    variable_list g(5);  // the engine casts each to its input's dtype
    if (ctx->needs_input_grad(0)) {
      torch::Tensor dx;  // (N, in) = sum over blocks of dy_b W_b
      for_blocks(out, block, [&](int64_t b, int64_t n) {
        if (!dx.defined()) dx = torch::mm(dy.narrow(1, b, n), wc.narrow(0, b, n));
        else dx.addmm_(dy.narrow(1, b, n), wc.narrow(0, b, n));
      });
      g[0] = dx.view(with_last(grads[0], in)).to(static_cast<torch::ScalarType>(ctx->saved_data["x_type"].toInt()));
    }
    if (ctx->needs_input_grad(1)) {
      auto dw = torch::empty({out, in}, dy.options());  // (out, in), block b = dy_b^T x
      for_blocks(out, block, [&](int64_t b, int64_t n) {
        auto dwb = dw.narrow(0, b, n);
        weight_grad_out(dwb, dy.narrow(1, b, n), x2);
      });
      g[1] = dw;
    }
    if (ctx->needs_input_grad(2)) g[2] = bias_grad(dy);
    return g;
  }
};

}  // namespace

torch::Tensor blocked_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             int64_t block) {
  return BlockedLinear::apply(x, weight, or_placeholder(bias, x), bias.defined(), block);
}

}  // namespace ptft::nn
