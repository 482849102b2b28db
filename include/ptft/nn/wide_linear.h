// ptft/nn/wide_linear.h — a projection to many outputs (a vocabulary: a language model's output
// layer) computed in blocks of output columns, forward and backward, as one autograd op.
//
//   logits = nn::wide_linear(x, W);   // x (..., in), W (V, in), b (V) or none -> (..., V): F::linear's
//
// Each block of 4096 rows of W multiplies all of x and writes its columns of the output, so the
// block stays in cache while every row of x passes. oneDNN's bf16 GEMM of GPT-2's head (1024 x 768
// -> 50257) as one call streams the whole 77 MB weight per block of rows: 92 ms, against 64 ms in
// blocks; the backward's input gradient 74 -> 68 ms and its weight gradient 116 -> 94 (xeon
// machine, 2 threads; fp32 through OpenBLAS 325 -> 290). Under autocast the operands are cast once
// to autocast's dtype; the gradients come back in each input's dtype. Any device.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

// Weights with at least this many rows take wide_linear in nn::linear (CPU, more than one row).
constexpr int64_t kWideLinearRows = 16384;

torch::Tensor wide_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias = {});

}  // namespace ptft::nn
