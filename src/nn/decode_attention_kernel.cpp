#include "ptft/nn/decode_attention_kernel.h"

#include <algorithm>
#include <limits>

#include "vector_math.h"

namespace ptft::nn {
namespace {

constexpr int64_t kLanes = 16;  // partial sums: the loops vectorise without reassociating float adds

// sum_i a[i] b[i]
PTFT_MULTIVERSION
float dot(const float* __restrict a, const float* __restrict b, int64_t n) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lanes[l] += a[i + l] * b[i + l];
  float s = 0.f;
  for (; i < n; ++i) s += a[i] * b[i];
  for (float l : lanes) s += l;
  return s;
}

// e^d for d <= 0, held at e^-87 below (exp_approx's domain; ~1e-38 next to the maximum's 1).
inline float exp_nonpositive(float d) { return vec::exp_approx(d < -87.0f ? -87.0f : d); }

// p[j] = exp(p[j] - max p); returns sum_j p[j].
PTFT_MULTIVERSION
float exp_shifted(float* __restrict p, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) m = std::max(m, p[j]);
  float lanes[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) {
      p[j + l] = exp_nonpositive(p[j + l] - m);
      lanes[l] += p[j + l];
    }
  float s = 0.f;
  for (; j < n; ++j) {
    p[j] = exp_nonpositive(p[j] - m);
    s += p[j];
  }
  for (float l : lanes) s += l;
  return s;
}

// out += w * v
PTFT_MULTIVERSION
void axpy(float w, const float* __restrict v, float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += w * v[i];
}

}  // namespace

void decode_attention_head(const float* q, const float* k, const float* v, int64_t row_stride, int64_t length,
                           int64_t hs, float scale, float* scores, float* out) {
  for (int64_t j = 0; j < length; ++j) scores[j] = scale * dot(q, k + j * row_stride, hs);
  const float inv = 1.0f / exp_shifted(scores, length);
  std::fill(out, out + hs, 0.0f);
  for (int64_t j = 0; j < length; ++j) axpy(scores[j], v + j * row_stride, out, hs);
  for (int64_t i = 0; i < hs; ++i) out[i] *= inv;
}

}  // namespace ptft::nn
