#include "ptft/nn/rms_norm.h"

#include <ATen/record_function.h>

#include <algorithm>

#include "kernel_types.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/rms_norm_kernel.h"

namespace ptft::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The formula in libtorch's ops: CUDA, double, a bf16 weight.
torch::Tensor rms_norm_reference(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  auto h = x.to(torch::kFloat32);                                                  // (..., C)
  h = h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);                 // (..., C)
  return weight * h.to(x.scalar_type());
}

// Rows per task of the forward: ~64k elements.
int64_t row_grain(int64_t n) { return std::max<int64_t>(1, 65536 / std::max<int64_t>(1, n)); }

// Rows per block of the backward; each block sums its own weight gradient, the blocks are added
// in block order: the same result whatever the number of threads.
int64_t row_block(int64_t rows) { return std::max<int64_t>(16, (rows + 127) / 128); }

struct RmsNormOp : torch::autograd::Function<RmsNormOp> {
  // x (..., n) fp32/bf16, w (n) fp32 -> y (..., n) fp32
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in, const torch::Tensor& w_in, double eps) {
    const torch::Tensor x = x_in.contiguous(), w = w_in.contiguous();
    const int64_t n = x.size(-1), rows = x.numel() / n;
    auto y = torch::empty(x.sizes(), x.options().dtype(torch::kFloat));
    auto r = torch::empty({rows}, torch::kFloat);  // 1 / rms per row
    with_elements(x.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      const T* xp = elements<T>(x);
      ptft::parallel_for(0, rows, row_grain(n), [&](int64_t b, int64_t e) {
        rms_norm_forward(xp + b * n, w.data_ptr<float>(), static_cast<float>(eps), y.data_ptr<float>() + b * n,
                         r.data_ptr<float>() + b, e - b, n);
      });
    });
    ctx->save_for_backward({x, w, r});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1], &r = saved[2];
    const torch::Tensor dy = grads[0].to(torch::kFloat).contiguous();
    const int64_t n = x.size(-1), rows = x.numel() / n, block = row_block(rows), blocks = (rows + block - 1) / block;
    auto dx = torch::empty_like(x);
    const bool want_w = ctx->needs_input_grad(1);
    auto dw_blocks = want_w ? torch::zeros({blocks, n}, torch::kFloat) : torch::Tensor();  // (blocks, n)
    with_elements(x.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      ptft::parallel_for(0, blocks, 1, [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k) {
          const int64_t r0 = k * block, m = std::min(block, rows - r0);
          rms_norm_backward(elements<T>(x) + r0 * n, w.data_ptr<float>(), r.data_ptr<float>() + r0,
                            dy.data_ptr<float>() + r0 * n, elements<T>(dx) + r0 * n,
                            want_w ? dw_blocks.data_ptr<float>() + k * n : nullptr, m, n);
        }
      });
    });
    auto dw = want_w ? dw_blocks.to(torch::kDouble).sum(0).to(torch::kFloat) : torch::Tensor();  // (n)
    return {dx, dw, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  RECORD_FUNCTION("ptft::rms_norm", std::vector<c10::IValue>({x}));
  TORCH_CHECK(x.dim() >= 1 && weight.dim() == 1 && weight.size(0) == x.size(-1), "rms_norm: weight (",
              weight.sizes(), ") must be one value per element of x's last dimension (x ", x.sizes(), ")");
  const bool kernel = kernel_dtype(x) && weight.is_cpu() && weight.scalar_type() == torch::kFloat && x.numel() > 0;
  if (!kernel) return rms_norm_reference(x, weight, eps);
  return RmsNormOp::apply(x, weight, eps);
}

RmsNormImpl::RmsNormImpl(RmsNormOptions opts) : options(std::move(opts)) { reset(); }

void RmsNormImpl::reset() { weight = register_parameter("weight", torch::ones({options.dim()})); }

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) { return rms_norm(x, weight, options.eps()); }

}  // namespace ptft::nn
