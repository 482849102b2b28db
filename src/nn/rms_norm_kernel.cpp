#include "ptft/nn/rms_norm_kernel.h"

#include <cmath>

#include "vector_math.h"

namespace ptft::nn {
namespace {

constexpr int kLanes = 16;  // partial sums per lane: the loops vectorise without reassociation

PTFT_MULTIVERSION
float sum_squares(const float* __restrict x, int64_t n) {
  float s[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) s[l] += x[i + l] * x[i + l];
  for (; i < n; ++i) s[0] += x[i] * x[i];
  double total = 0;
  for (float v : s) total += v;
  return static_cast<float>(total);
}

// sum_i dy_i w_i x_i
PTFT_MULTIVERSION
float dot3(const float* __restrict dy, const float* __restrict w, const float* __restrict x, int64_t n) {
  float s[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) s[l] += dy[i + l] * w[i + l] * x[i + l];
  for (; i < n; ++i) s[0] += dy[i] * w[i] * x[i];
  double total = 0;
  for (float v : s) total += v;
  return static_cast<float>(total);
}

float inverse_rms(const float* x, float eps, int64_t n) {
  return 1.0f / std::sqrt(sum_squares(x, n) / static_cast<float>(n) + eps);
}

// y = w * cast(x r); round: the cast is to bf16 (x was bf16). (A run-time flag, not a template
// parameter: target_clones does not take templates; -O3 unswitches the loop.)
PTFT_MULTIVERSION
void scale_row(const float* __restrict x, const float* __restrict w, float r, bool round, float* __restrict y,
               int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float h = x[i] * r;
    y[i] = w[i] * (round ? vec::from_bf16(vec::to_bf16(h)) : h);
  }
}

// dx = r dy w - c x, c = (r^3 / n) sum(dy w x); dw += dy cast(x r) when dw is given.
PTFT_MULTIVERSION
void backward_row(const float* __restrict x, const float* __restrict w, float r, bool round,
                  const float* __restrict dy, float* __restrict dx, float* __restrict dw, int64_t n) {
  const float c = r * r * r / static_cast<float>(n) * dot3(dy, w, x, n);
  for (int64_t i = 0; i < n; ++i) dx[i] = r * dy[i] * w[i] - c * x[i];
  if (dw == nullptr) return;
  for (int64_t i = 0; i < n; ++i) {
    const float h = x[i] * r;
    dw[i] += dy[i] * (round ? vec::from_bf16(vec::to_bf16(h)) : h);
  }
}

}  // namespace

void rms_norm_forward(const float* x, const float* w, float eps, float* y, float* r, int64_t rows, int64_t n) {
  for (int64_t k = 0; k < rows; ++k, x += n, y += n) {
    r[k] = inverse_rms(x, eps, n);
    scale_row(x, w, r[k], false, y, n);
  }
}

void rms_norm_forward(const uint16_t* x, const float* w, float eps, float* y, float* r, int64_t rows, int64_t n) {
  float* xf = vec::scratch(0, n);
  for (int64_t k = 0; k < rows; ++k, x += n, y += n) {
    vec::widen(x, xf, n);
    r[k] = inverse_rms(xf, eps, n);
    scale_row(xf, w, r[k], true, y, n);
  }
}

void rms_norm_backward(const float* x, const float* w, const float* r, const float* dy, float* dx, float* dw,
                       int64_t rows, int64_t n) {
  for (int64_t k = 0; k < rows; ++k, x += n, dy += n, dx += n) backward_row(x, w, r[k], false, dy, dx, dw, n);
}

void rms_norm_backward(const uint16_t* x, const float* w, const float* r, const float* dy, uint16_t* dx, float* dw,
                       int64_t rows, int64_t n) {
  float* xf = vec::scratch(0, n);
  float* dxf = vec::scratch(1, n);
  for (int64_t k = 0; k < rows; ++k, x += n, dy += n, dx += n) {
    vec::widen(x, xf, n);
    backward_row(xf, w, r[k], true, dy, dxf, dw, n);
    vec::narrow(dxf, dx, n);
  }
}

}  // namespace ptft::nn
