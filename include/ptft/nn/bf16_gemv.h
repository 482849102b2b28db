// ptft/nn/bf16_gemv.h — y = W x (+ b) for bfloat16 weights and float32 vectors, accumulated in
// float32: the decode step's projections when generation holds its weights in bf16 (half the
// bytes a token reads; at batch 1 a decode step is bound by reading the weights).
//
//   torch::Tensor w16 = w.to(torch::kBFloat16).contiguous();   // (out, in)
//   torch::Tensor y = nn::bf16_gemv(w16, x, b);                 // x (..., in), one row -> (..., out) float32
//
// AVX-512 or AVX2 kernels chosen at run time (a bf16 value is the top half of a float32, so the
// conversion is a 16-bit shift: no avx512_bf16 needed), else portable C++; rows split over
// libtorch's intra-op threads. Equal to (W.float() @ x + b) up to float32 summation order.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

// x holds one row of `in` values in any leading shape ((in), (1,in), (1,1,in)); the result has
// that shape with `out` last.
torch::Tensor bf16_gemv(const torch::Tensor& weight, const torch::Tensor& x, const torch::Tensor& bias = {});

// Which kernel bf16_gemv runs on this CPU: "avx512", "avx2" or "portable".
const char* bf16_gemv_kernel();

}  // namespace ptft::nn
