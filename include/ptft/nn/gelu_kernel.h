// ptft/nn/gelu_kernel.h — GELU, exact (erf: BERT's "gelu") and with the tanh approximation
// (GPT-2's "gelu_new"), forward and backward, over contiguous fp32 or bf16 ranges, torch-free.
//
//   erf:  y = x Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2,   dx = dy (Phi(x) + x phi(x))
//
// Phi from erfc(|x| / sqrt 2) / 2 (Numerical Recipes' Chebyshev fit of erfc, < 1.2e-7 relative
// for every argument, on the exp below): no cancellation in the negative tail, where libtorch's
// 1 + erf(x / sqrt 2) loses all digits; phi(x) = e^(-x^2/2) / sqrt(2 pi).
//
// tanh:
//
//   y  = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
//   dx = dy (0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2))
//
// The function of libtorch's gelu(approximate="tanh") and its backward, computed as
// y = x sigmoid(2u) = x / (1 + e^(-2u)) (the same value; no cancellation in the negative tail)
// with a branch-free exp (range reduction + polynomial, ~1e-7 relative), so that the loop
// vectorises (libtorch calls Sleef's 1-ulp tanh: a sixth of a GPT-2 training step). bf16 is
// read into fp32, computed there and rounded once to nearest even. Multiversioned (AVX-512 /
// AVX2 / baseline). nn/gelu.h is the autograd op on tensors.
//
//   gelu_tanh_forward(x, y, n);   gelu_tanh_backward(x, dy, dx, n);   // float* or uint16_t* (bf16)
//   gelu_erf_forward(x, y, n);    gelu_erf_backward(x, dy, dx, n);
#pragma once

#include <cstdint>

namespace ptft::nn {

void gelu_tanh_forward(const float* x, float* y, int64_t n);
void gelu_tanh_backward(const float* x, const float* dy, float* dx, int64_t n);
// bf16 (the upper 16 bits of an IEEE float) in and out.
void gelu_tanh_forward(const uint16_t* x, uint16_t* y, int64_t n);
void gelu_tanh_backward(const uint16_t* x, const uint16_t* dy, uint16_t* dx, int64_t n);

void gelu_erf_forward(const float* x, float* y, int64_t n);
void gelu_erf_backward(const float* x, const float* dy, float* dx, int64_t n);
void gelu_erf_forward(const uint16_t* x, uint16_t* y, int64_t n);
void gelu_erf_backward(const uint16_t* x, const uint16_t* dy, uint16_t* dx, int64_t n);

}  // namespace ptft::nn
