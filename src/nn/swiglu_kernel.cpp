#include "ptft/nn/swiglu_kernel.h"

#include <algorithm>

#include "vector_math.h"

namespace ptft::nn {
namespace {

using vec::kBlock;

// sigmoid(g) = 1 / (1 + e^(-g)), the exponent clamped to [-87, 87] (e^(-g) stays finite; NaN
// passes).
inline float sigmoid(float g) {
  const float a = -g;
  return 1.0f / (1.0f + vec::exp_approx(a < -87.0f ? -87.0f : (a > 87.0f ? 87.0f : a)));
}

}  // namespace

PTFT_MULTIVERSION
void swiglu_forward(const float* __restrict g, const float* __restrict u, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = g[i] * sigmoid(g[i]) * u[i];
}

PTFT_MULTIVERSION
void swiglu_backward(const float* __restrict g, const float* __restrict u, const float* __restrict dy,
                     float* __restrict dg, float* __restrict du, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float s = sigmoid(g[i]);
    dg[i] = dy[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    du[i] = dy[i] * g[i] * s;
  }
}

void swiglu_forward(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n) {
  float gf[kBlock], uf[kBlock], yf[kBlock];
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    vec::widen(g + b, gf, m);
    vec::widen(u + b, uf, m);
    swiglu_forward(gf, uf, yf, m);
    vec::narrow(yf, y + b, m);
  }
}

void swiglu_backward(const uint16_t* g, const uint16_t* u, const uint16_t* dy, uint16_t* dg, uint16_t* du,
                     int64_t n) {
  float gf[kBlock], uf[kBlock], df[kBlock], dgf[kBlock], duf[kBlock];
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    vec::widen(g + b, gf, m);
    vec::widen(u + b, uf, m);
    vec::widen(dy + b, df, m);
    swiglu_backward(gf, uf, df, dgf, duf, m);
    vec::narrow(dgf, dg + b, m);
    vec::narrow(duf, du + b, m);
  }
}

}  // namespace ptft::nn
