#include "ptft/nn/gelu_kernel.h"

#include <algorithm>

#include "vector_math.h"

namespace ptft::nn {
namespace {

using vec::exp_approx;
using vec::kBlock;
using vec::narrow;
using vec::widen;

constexpr float kBeta = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kKappa = 0.044715f;

// 0.5 (1 + tanh(u)) = sigmoid(2u) = 1 / (1 + e^(-2u)): no cancellation where tanh(u) nears -1
// (the negative tail). The exponent is clamped to [-87, 87] (e^(-2u) stays finite; NaN passes).
inline float sigmoid_2u(float u) {
  const float a = -2.0f * u;
  return 1.0f / (1.0f + exp_approx(a < -87.0f ? -87.0f : (a > 87.0f ? 87.0f : a)));
}

inline float forward_one(float x) { return x * sigmoid_2u(kBeta * (x + kKappa * x * x * x)); }

// d/dx x s(2u) = s + 2 x s (1 - s) u'(x), the same as libtorch's 0.5 (1 + t) + 0.5 x (1 - t^2) u'(x).
inline float backward_one(float x, float dy) {
  const float x2 = x * x;
  const float s = sigmoid_2u(kBeta * (x + kKappa * x2 * x));
  return dy * (s + 2.0f * x * s * (1.0f - s) * kBeta * (1.0f + 3.0f * kKappa * x2));
}

}  // namespace

PTFT_MULTIVERSION
void gelu_tanh_forward(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = forward_one(x[i]);
}

PTFT_MULTIVERSION
void gelu_tanh_backward(const float* __restrict x, const float* __restrict dy, float* __restrict dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = backward_one(x[i], dy[i]);
}

void gelu_tanh_forward(const uint16_t* x, uint16_t* y, int64_t n) {
  float xf[kBlock], yf[kBlock];
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    widen(x + b, xf, m);
    gelu_tanh_forward(xf, yf, m);
    narrow(yf, y + b, m);
  }
}

void gelu_tanh_backward(const uint16_t* x, const uint16_t* dy, uint16_t* dx, int64_t n) {
  float xf[kBlock], gf[kBlock], df[kBlock];
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    widen(x + b, xf, m);
    widen(dy + b, gf, m);
    gelu_tanh_backward(xf, gf, df, m);
    narrow(df, dx + b, m);
  }
}

}  // namespace ptft::nn
