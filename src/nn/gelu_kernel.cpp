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

constexpr float kRsqrt2 = 0.70710678118654752f;    // 1 / sqrt(2)
constexpr float kRsqrt2Pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)

// erfc(a) for a >= 0: Numerical Recipes' erfcc, t e^(-a^2 + P(t)), t = 1 / (1 + a/2), relative
// error < 1.2e-7 everywhere; the exponent clamped at -87 (erfc is below fp32's range there).
inline float erfc_nonnegative(float a) {
  const float t = 1.0f / (1.0f + 0.5f * a);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float e = p - a * a;
  return t * exp_approx(e < -87.0f ? -87.0f : e);
}

// Phi(x) = erfc(-x / sqrt 2) / 2: the half erfc of |x| directly for x < 0, 1 minus it for x >= 0.
inline float normal_cdf(float x) {
  const float h = 0.5f * erfc_nonnegative((x < 0 ? -x : x) * kRsqrt2);
  return x < 0 ? h : 1.0f - h;
}

inline float normal_pdf(float x) {
  const float e = -0.5f * x * x;
  return kRsqrt2Pi * exp_approx(e < -87.0f ? -87.0f : e);
}

// The bf16 versions of a kernel: blocks widened to fp32, run, rounded back.
template <void (*Kernel)(const float*, float*, int64_t)>
void on_bf16(const uint16_t* x, uint16_t* y, int64_t n) {
  float xf[kBlock], yf[kBlock];
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    widen(x + b, xf, m);
    Kernel(xf, yf, m);
    narrow(yf, y + b, m);
  }
}

template <void (*Kernel)(const float*, const float*, float*, int64_t)>
void on_bf16(const uint16_t* x, const uint16_t* dy, uint16_t* dx, int64_t n) {
  float xf[kBlock], gf[kBlock], df[kBlock];
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    widen(x + b, xf, m);
    widen(dy + b, gf, m);
    Kernel(xf, gf, df, m);
    narrow(df, dx + b, m);
  }
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

void gelu_tanh_forward(const uint16_t* x, uint16_t* y, int64_t n) { on_bf16<gelu_tanh_forward>(x, y, n); }

void gelu_tanh_backward(const uint16_t* x, const uint16_t* dy, uint16_t* dx, int64_t n) {
  on_bf16<gelu_tanh_backward>(x, dy, dx, n);
}

PTFT_MULTIVERSION
void gelu_erf_forward(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * normal_cdf(x[i]);
}

PTFT_MULTIVERSION
void gelu_erf_backward(const float* __restrict x, const float* __restrict dy, float* __restrict dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (normal_cdf(x[i]) + x[i] * normal_pdf(x[i]));
}

void gelu_erf_forward(const uint16_t* x, uint16_t* y, int64_t n) { on_bf16<gelu_erf_forward>(x, y, n); }

void gelu_erf_backward(const uint16_t* x, const uint16_t* dy, uint16_t* dx, int64_t n) {
  on_bf16<gelu_erf_backward>(x, dy, dx, n);
}

}  // namespace ptft::nn
