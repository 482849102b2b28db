// ptft/nn/rms_norm_kernel.h — RMSNorm forward and backward over rows, torch-free (nn/rms_norm.h is
// the autograd op on tensors).
//
//   r = 1 / sqrt(mean(x^2) + eps)           per row of n elements
//   y = w * cast(x r)                       cast: to x's dtype (HF's LlamaRMSNorm: h.to(x.dtype))
//   dx = r g - (r^3 / n) x sum(g x),  g = dy w       (the cast's gradient is the identity)
//   dw += dy cast(x r)                      summed over the rows
//
// x is fp32 or bf16 (bf16: read into fp32, x r rounded to bf16 before the weight, as the cast
// does), w and y fp32 (the weight of a model trained in fp32 or bf16 autocast; y has the type
// that w * cast(x r) promotes to), dx of x's dtype (bf16: rounded once). Arithmetic in fp32,
// sums in lanes; multiversioned (AVX-512 / AVX2 / baseline).
//
//   rms_norm_forward(x, w, eps, y, r, rows, n);            // r: (rows) saved for the backward
//   rms_norm_backward(x, w, r, dy, dx, dw, rows, n);       // dw: nullptr (frozen weight) or += (n)
#pragma once

#include <cstdint>

namespace ptft::nn {

void rms_norm_forward(const float* x, const float* w, float eps, float* y, float* r, int64_t rows, int64_t n);
void rms_norm_forward(const uint16_t* x, const float* w, float eps, float* y, float* r, int64_t rows, int64_t n);
void rms_norm_backward(const float* x, const float* w, const float* r, const float* dy, float* dx, float* dw,
                       int64_t rows, int64_t n);
void rms_norm_backward(const uint16_t* x, const float* w, const float* r, const float* dy, uint16_t* dx, float* dw,
                       int64_t rows, int64_t n);

}  // namespace ptft::nn
