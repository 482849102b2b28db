#include "ptft/nn/attention_softmax_kernel.h"

#include <cstring>
#include <limits>

#include "vector_math.h"

namespace ptft::nn {
namespace {

using vec::kLanes;

// t = scale t in place; returns the largest of the results.
PTFT_MULTIVERSION
float scale_and_max(float* t, float scale, int64_t n) {
  float m[kLanes];
  for (float& v : m) v = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      t[i + l] *= scale;
      m[l] = t[i + l] > m[l] ? t[i + l] : m[l];
    }
  for (; i < n; ++i) {
    t[i] *= scale;
    m[0] = t[i] > m[0] ? t[i] : m[0];
  }
  float r = m[0];
  for (int l = 1; l < kLanes; ++l) r = m[l] > r ? m[l] : r;
  return r;
}

// t = e^(t - max) in place; returns their sum.
PTFT_MULTIVERSION
float exp_and_sum(float* t, float max, int64_t n) {
  float s[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      t[i + l] = vec::exp_nonpositive(t[i + l] - max);
      s[l] += t[i + l];
    }
  for (; i < n; ++i) {
    t[i] = vec::exp_nonpositive(t[i] - max);
    s[0] += t[i];
  }
  float r = 0;
  for (float v : s) r += v;
  return r;
}

PTFT_MULTIVERSION
void multiply(float* t, float k, int64_t n) {
  for (int64_t i = 0; i < n; ++i) t[i] *= k;
}

// t = softmax(scale t) in place (a row of scores already in fp32).
void softmax(float* t, float scale, int64_t n) {
  const float m = scale_and_max(t, scale, n);
  multiply(t, 1.0f / exp_and_sum(t, m, n), n);
}

// ds = scale p (dp - <p, dp>)
PTFT_MULTIVERSION
void softmax_grad(const float* __restrict p, const float* __restrict dp, float scale, float* __restrict ds, int64_t n) {
  const float d = vec::dot(p, dp, n);
  for (int64_t i = 0; i < n; ++i) ds[i] = scale * p[i] * (dp[i] - d);
}

template <class T>
void zero_tail(T* row, int64_t from, int64_t n) {
  for (int64_t i = from; i < n; ++i) row[i] = 0;  // bf16 zero is all bits zero
}

}  // namespace

void attention_softmax_row(const float* s, float scale, int64_t visible, float* p, int64_t n) {
  std::memcpy(p, s, static_cast<size_t>(visible) * sizeof(float));
  softmax(p, scale, visible);
  zero_tail(p, visible, n);
}

void attention_softmax_row(const uint16_t* s, float scale, int64_t visible, uint16_t* p, int64_t n) {
  float* t = vec::scratch(2, visible);
  vec::widen(s, t, visible);
  softmax(t, scale, visible);
  vec::narrow(t, p, visible);
  zero_tail(p, visible, n);
}

void attention_softmax_grad_row(const float* p, const float* dp, float scale, int64_t visible, float* ds, int64_t n) {
  softmax_grad(p, dp, scale, ds, visible);
  zero_tail(ds, visible, n);
}

void attention_softmax_grad_row(const uint16_t* p, const uint16_t* dp, float scale, int64_t visible, uint16_t* ds,
                                int64_t n) {
  float* pf = vec::scratch(2, visible);
  float* dpf = vec::scratch(3, visible);
  float* out = vec::scratch(0, visible);
  vec::widen(p, pf, visible);
  vec::widen(dp, dpf, visible);
  softmax_grad(pf, dpf, scale, out, visible);
  vec::narrow(out, ds, visible);
  zero_tail(ds, visible, n);
}

}  // namespace ptft::nn
