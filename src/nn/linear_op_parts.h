// src/nn/linear_op_parts.h — private to the projection ops written as one autograd function
// (nn::dense_linear and nn::wide_linear, both blocked_linear; nn::lora_linear): the op they share
// and the pieces they need around their GEMMs.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace ptft::nn {

// `t`'s sizes with the last one replaced: (..., n) -> (..., last).
inline std::vector<int64_t> with_last(const torch::Tensor& t, int64_t last) {
  auto shape = t.sizes().vec();
  shape.back() = last;
  return shape;
}

// An optional tensor input of a torch::autograd::Function: itself, or an empty tensor on x's device
// (Function::apply records every tensor input's device; an undefined one throws "tensor does not
// have a device"). Pass whether it is real as a separate argument.
inline torch::Tensor or_placeholder(const torch::Tensor& t, const torch::Tensor& x) {
  return t.defined() ? t : torch::empty({0}, x.options().requires_grad(false));
}

// A bias's gradient from dy (N, out): summed over the rows in the accumulate type (float for bf16),
// as libtorch's reductions; a bf16 CPU dy with contiguous rows through nn::column_sums_bf16 (read
// once, not widened into an fp32 copy first).
torch::Tensor bias_grad(const torch::Tensor& dy);

// A weight's gradient dW = dy^T x: dy (N, out), x (N, in) -> (out, in), contiguous. In bf16 / fp16
// on the CPU, for a weight of at least 768 x 768, dy is first transposed into a row-major (out, N)
// matrix: oneDNN's GEMM reads a transposed-view A at ~1.0-1.15 TFLOP/s against ~1.4-1.9 for a
// row-major one (GPT-2's projection shapes, N = 1024, xeon machine, 2 threads; see
// nn/transpose_kernel.h; smaller weights measured no gain, linear_op_parts.cpp). Else mm(dy^T, x).
torch::Tensor weight_grad(const torch::Tensor& dy, const torch::Tensor& x);
// The same into `out` (out, in) (a block of rows of a larger gradient).
void weight_grad_out(torch::Tensor& out, const torch::Tensor& dy, const torch::Tensor& x);

// y = x W^T + b as one autograd op computed in blocks of `block` rows of W (output columns),
// forward and backward (src/nn/blocked_linear.cpp): nn::wide_linear's 4096-row blocks, and
// nn::dense_linear's one block. x (..., in), W (out, in), b (out) or undefined -> (..., out). Under
// autocast the operands are cast once to autocast's dtype; the gradients come back in each input's
// dtype (dW by weight_grad, db by bias_grad).
torch::Tensor blocked_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             int64_t block);

}  // namespace ptft::nn
