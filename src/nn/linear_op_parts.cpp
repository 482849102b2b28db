#include "linear_op_parts.h"

#include <ATen/AccumulateType.h>

#include "ptft/nn/column_sum_kernel.h"
#include "ptft/nn/transpose_kernel.h"

namespace ptft::nn {
namespace {

// Whether dy is worth transposing first: a 16-bit CPU matrix with contiguous rows, and a weight of
// at least 768 x 768. Measured on the xeon machine (oneDNN 2.6's AMX kernels, 2 threads), dW of
// (out, in) from N rows, transposed view vs row-major dy: GPT-2's (N 1024) 3072 x 768 4.49 vs
// 2.66 ms, 2304 x 768 3.42 vs 2.65, 768 x 3072 5.00 vs 3.58, 768 x 768 0.88 vs 0.76; but
// gpt-small's (N 2048) 1536 x 384 1.87 vs 2.07, 384 x 1536 2.51 vs 2.97, 384 x 384 0.54 vs 0.63:
// with a side below 768 the transposed view is as fast or faster, and the transpose is a loss.
bool transpose_first(const torch::Tensor& dy, const torch::Tensor& x) {
  const auto t = dy.scalar_type();
  return dy.is_cpu() && (t == torch::kBFloat16 || t == torch::kHalf) && dy.dim() == 2 && dy.stride(1) == 1 &&
         dy.size(1) >= 768 && x.size(1) >= 768;
}

// m (R, C) -> m^T (C, R), contiguous. 16-bit CPU matrices whose rows are contiguous through
// nn::transpose16 (libtorch's strided copy of them is ~3x slower); others through libtorch.
torch::Tensor transposed(const torch::Tensor& m) {
  const auto t = m.scalar_type();
  if (!m.is_cpu() || m.dim() != 2 || m.stride(1) != 1 || (t != torch::kBFloat16 && t != torch::kHalf))
    return m.t().contiguous();
  const int64_t rows = m.size(0), cols = m.size(1);
  auto out = torch::empty({cols, rows}, m.options());  // (C, R)
  transpose16(static_cast<const uint16_t*>(m.data_ptr()), m.stride(0), static_cast<uint16_t*>(out.data_ptr()), rows,
              rows, cols);
  return out;
}

}  // namespace

torch::Tensor bias_grad(const torch::Tensor& dy) {
  if (!dy.is_cpu() || dy.scalar_type() != torch::kBFloat16 || dy.dim() != 2 || dy.stride(1) != 1)
    return dy.sum(0, /*keepdim=*/false, at::toAccumulateType(dy.scalar_type(), dy.is_cuda()));
  auto out = torch::empty({dy.size(1)}, dy.options().dtype(torch::kFloat));  // (out)
  column_sums_bf16(static_cast<const uint16_t*>(dy.data_ptr()), dy.stride(0), dy.size(0), dy.size(1),
                   out.data_ptr<float>());
  return out;
}

torch::Tensor weight_grad(const torch::Tensor& dy, const torch::Tensor& x) {
  return transpose_first(dy, x) ? torch::mm(transposed(dy), x) : torch::mm(dy.t(), x);
}

void weight_grad_out(torch::Tensor& out, const torch::Tensor& dy, const torch::Tensor& x) {
  if (transpose_first(dy, x)) torch::mm_out(out, transposed(dy), x);
  else torch::mm_out(out, dy.t(), x);
}

}  // namespace ptft::nn
