// ptft/nn/lora_linear.h — a projection with a LoRA adapter as one autograd op:
//
//   y = x W^T + b + scale * (h A^T) B^T        x (..., in), W (out, in), b (out) or undefined,
//                                               A (r, in), B (out, r); h = dropout(x), or x when
//                                               h is undefined (no adapter dropout)
//
//   y = nn::lora_linear(x, W, b, A, B, /*scale=*/alpha / r);
//
// The adapter's term is accumulated into the base product by the GEMM (y += (s u) B^T, u = h A^T:
// (N, r)), and the backward reads dy in three GEMMs: dx = dy W (+ du A accumulated in place), du =
// s dy B, dB = s (u^T dy)^T; dA = du^T h. The composition of torch ops (B(A(h)), then add(y, z,
// scale)) wrote the adapter's (N, out) product and read it back, and its backward scaled dy and
// added the adapter's input gradient in passes of their own: ~95 ms of a 790 ms LoRA step of
// GPT-2 124M (B4 x T256, bf16, xeon machine; those ops timed alone), 890-916 -> 764-799 ms/step
// measured with this op and nn::FrozenCast. Gradients only for inputs that need them (a frozen
// W gets no weight-gradient GEMM).
//
// Precision: under autocast (CPU or CUDA) everything is cast once to autocast's dtype, as
// autocast's linear would; the gradients come back in each input's own dtype. Any device.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

torch::Tensor lora_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                          const torch::Tensor& lora_A, const torch::Tensor& lora_B, double scale,
                          const torch::Tensor& dropped_x = {});

}  // namespace ptft::nn
