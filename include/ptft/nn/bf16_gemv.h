// ptft/nn/bf16_gemv.h — y = W x (+ b) for bfloat16 weights and float32 vectors, accumulated in
// float32: the decode step's projections when generation holds its weights in bf16 (half the
// bytes a token reads; at batch 1 a decode step is bound by reading the weights).
//
//   torch::Tensor w16 = w.to(torch::kBFloat16).contiguous();   // (out, in)
//   torch::Tensor y = nn::bf16_gemv(w16, x, b);                 // x (..., in), one row -> (..., out) float32
//
// Kernels chosen at run time: on a CPU with avx512_bf16, x is rounded to bf16 (as
// x.to(kBFloat16), what a bf16 prompt's GEMM does too) and vdpbf16ps multiplies bf16 pairs into
// float32 sums — equal to (W.float() @ x.bf16().float() + b) up to float32 summation order;
// otherwise AVX-512F or AVX2 widen the weights (a bf16 value is the top half of a float32: a
// 16-bit shift) and multiply the float32 x — equal to (W.float() @ x + b) up to summation order;
// else portable C++. Rows split over ptft::parallel_for's threads (each row on one thread: the
// same bits on any thread count).
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

// x holds one row of `in` values in any leading shape ((in), (1,in), (1,1,in)); the result has
// that shape with `out` last.
torch::Tensor bf16_gemv(const torch::Tensor& weight, const torch::Tensor& x, const torch::Tensor& bias = {});

// Which kernel bf16_gemv runs on this CPU: "avx512_bf16", "avx512", "avx2" or "portable".
const char* bf16_gemv_kernel();

// Whether that kernel rounds x to bf16 first ("avx512_bf16").
bool bf16_gemv_rounds_x();

}  // namespace ptft::nn
