// ptft/nn/dense_linear.h — y = x W^T + b as one autograd op whose weight gradient reads dy
// transposed once into a row-major matrix (nn::weight_grad), for projections that train in bf16
// on the CPU (nn::linear routes them here):
//
//   y = nn::dense_linear(x, W, b);   // x (..., in), W (out, in), b (out) or undefined -> (..., out)
//
// The op nn::wide_linear is, with all of W's rows in one block (src/nn/linear_op_parts.h:
// blocked_linear). Forward: one addmm from the bias (or mm) in the matmul dtype (autocast's, cast
// once as its linear would). Backward: dx = dy W, dW = weight_grad(dy, x) (contiguous (out, in), so
// the engine's cast to W's float32 is one straight pass), db = sum of dy's rows in float. libtorch's
// own backward computes dW as mm(dy^T, x) over a transposed view of dy, which oneDNN reads at
// ~1.0-1.15 TFLOP/s against ~1.4-1.9 row-major (xeon machine). Any device and dtype; the gain is
// on the CPU in bf16 / fp16.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias = {});

}  // namespace ptft::nn
