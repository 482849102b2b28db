#include "ptft/nn/rope_kernel.h"

#include "vector_math.h"

namespace ptft::nn {
namespace {

// One row, halves of h: y[i] = x[i] c[i] - sign x[i+h] s_lo[i], y[i+h] = x[i+h] c[i+h] + sign x[i] s_hi[i].
PTFT_MULTIVERSION
void rotate_row(const float* __restrict x, const float* __restrict c, const float* __restrict s_lo,
                const float* __restrict s_hi, float sign, float* __restrict y, int64_t h) {
  for (int64_t i = 0; i < h; ++i) {
    y[i] = x[i] * c[i] - sign * x[i + h] * s_lo[i];
    y[i + h] = x[i + h] * c[i + h] + sign * x[i] * s_hi[i];
  }
}

// Forward: s_lo = s, s_hi = s + h, sign +1. Backward (the transpose): s_lo = s + h, s_hi = s,
// sign -1.
void rotate(const float* x, const float* c, const float* s, bool backward, float* y, int64_t d) {
  const int64_t h = d / 2;
  if (backward) rotate_row(x, c, s + h, s, -1.0f, y, h);
  else rotate_row(x, c, s, s + h, 1.0f, y, h);
}

}  // namespace

void rope_sequence(const float* x, int64_t x_stride, const float* c, const float* s, float* y, int64_t t, int64_t d,
                   bool backward) {
  for (int64_t k = 0; k < t; ++k) rotate(x + k * x_stride, c + k * d, s + k * d, backward, y + k * d, d);
}

void rope_sequence(const uint16_t* x, int64_t x_stride, const float* c, const float* s, uint16_t* y, int64_t t,
                   int64_t d, bool backward) {
  float* xf = vec::scratch(0, d);
  float* yf = vec::scratch(1, d);
  for (int64_t k = 0; k < t; ++k) {
    vec::widen(x + k * x_stride, xf, d);
    rotate(xf, c + k * d, s + k * d, backward, yf, d);
    vec::narrow(yf, y + k * d, d);
  }
}

}  // namespace ptft::nn
