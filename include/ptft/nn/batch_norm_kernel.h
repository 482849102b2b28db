// ptft/nn/batch_norm_kernel.h — batch normalisation fused with the residual add and the ReLU that
// follow it in a ResNet, forward and backward, over channels-last rows; torch-free (nn/batch_norm.h
// is the autograd op on tensors).
//
// A channels-last (B,C,H,W) tensor is B*H*W rows of C channels. The kernels take rows of n
// values whose lane j holds channel j mod C (n = C, or k*C: k rows side by side, so that narrow
// layers fill a vector); per-lane vectors (shift, scale, ...) are repeated k times accordingly.
//
//   forward:   s1 += sum (x - shift), s2 += sum (x - shift)^2           (batch statistics)
//              y = act(x scale + bias [+ res]),  act = ReLU or identity
//   backward:  g = act'(y) dy          (ReLU: dy where y > 0, else 0)
//              s1 += sum g, s2 += sum g (x - mean)                      (dbeta, dgamma / invstd)
//              dx = k g + cx x + c0,  dres = g                           (per-lane k, cx, c0)
//
// x, res, y, dy, dx and dres are all fp32 or all bf16 (bf16: converted to fp32 as it is loaded,
// results rounded once); shift, scale, bias, mean, k, cx, c0 and the sums are fp32. Sums are added to
// (+=) the caller's n-lane arrays, row after row: the caller keeps blocks short and adds the
// blocks' sums in double. Multiversioned (AVX-512 / AVX2 / baseline); on a CPU with avx512_bf16
// the bf16 apply loops for n % 16 == 0 round with its vcvtneps2bf16 (src/nn/bf16_avx512.h: values
// below 2^-126 become zero there).
#pragma once

#include <cstdint>

namespace ptft::nn {

void batch_norm_sums(const float* x, const float* shift, int64_t rows, int64_t n, float* s1, float* s2);
void batch_norm_sums(const uint16_t* x, const float* shift, int64_t rows, int64_t n, float* s1, float* s2);

// res: nullptr for none.
void batch_norm_apply(const float* x, const float* res, const float* scale, const float* bias, bool relu, float* y,
                      int64_t rows, int64_t n);
void batch_norm_apply(const uint16_t* x, const uint16_t* res, const float* scale, const float* bias, bool relu,
                      uint16_t* y, int64_t rows, int64_t n);

// y: read only with relu (may be nullptr without).
void batch_norm_backward_sums(const float* dy, const float* y, const float* x, const float* mean, bool relu,
                              int64_t rows, int64_t n, float* s1, float* s2);
void batch_norm_backward_sums(const uint16_t* dy, const uint16_t* y, const uint16_t* x, const float* mean, bool relu,
                              int64_t rows, int64_t n, float* s1, float* s2);

// dres: nullptr when no residual gradient is wanted. With running statistics cx = c0 = 0.
void batch_norm_backward_apply(const float* dy, const float* y, const float* x, bool relu, const float* k,
                               const float* cx, const float* c0, float* dx, float* dres, int64_t rows, int64_t n);
void batch_norm_backward_apply(const uint16_t* dy, const uint16_t* y, const uint16_t* x, bool relu, const float* k,
                               const float* cx, const float* c0, uint16_t* dx, uint16_t* dres, int64_t rows,
                               int64_t n);

}  // namespace ptft::nn
