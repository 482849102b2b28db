#include "ptft/nn/gelu_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ptft::nn {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PTFT_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PTFT_MULTIVERSION
#endif

namespace {

constexpr float kBeta = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kKappa = 0.044715f;

// e^x for x in [-87, 87]: x = n ln2 + r, |r| <= ln2 / 2 (ln2 in two parts), e^r by its Taylor
// polynomial to degree 7 (relative error < 2e-8 there), times 2^n through the exponent bits.
// n is rounded to nearest by adding and subtracting 1.5 * 2^23 (no call to floor: vectorises).
inline float exp_approx(float x) {
  constexpr float kRound = 12582912.0f;
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  const float r = (x - n * 0.693145751953125f) - n * 1.42860682030941723212e-6f;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

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

inline float from_bf16(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Round to nearest even; a NaN stays a (quiet) NaN.
inline uint16_t to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const uint32_t rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
  const uint32_t nan = (bits >> 16) | 0x40;
  return static_cast<uint16_t>((bits & 0x7FFFFFFF) > 0x7F800000 ? nan : rounded);
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

namespace {

// bf16: blocks widened to fp32, the fp32 kernel, rounded back (each loop vectorises on its own;
// one loop doing all three did not).
constexpr int64_t kBlock = 1024;

PTFT_MULTIVERSION
void widen(const uint16_t* __restrict in, float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = from_bf16(in[i]);
}

PTFT_MULTIVERSION
void narrow(const float* __restrict in, uint16_t* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = to_bf16(in[i]);
}

}  // namespace

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
