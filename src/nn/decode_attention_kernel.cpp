#include "ptft/nn/decode_attention_kernel.h"

#include <algorithm>

#include "ptft/nn/cross_entropy_kernel.h"
#include "vector_math.h"

namespace ptft::nn {
namespace {

// out += w * v
PTFT_MULTIVERSION
void axpy(float w, const float* __restrict v, float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += w * v[i];
}

}  // namespace

void decode_attention_head(const float* q, const float* k, const float* v, int64_t row_stride, int64_t length,
                           int64_t hs, float scale, float* scratch, float* out) {
  float* scores = scratch;
  float* probs = scratch + length;
  for (int64_t j = 0; j < length; ++j) scores[j] = scale * vec::dot(q, k + j * row_stride, hs);
  // The softmax of the cross-entropy kernel (a row's log-sum-exp, then its softmax: its
  // gradient without a target, scale 1).
  cross_entropy_grad(scores, log_sum_exp(scores, length), /*target=*/-1, 1.0f, probs, length);
  std::fill(out, out + hs, 0.0f);
  for (int64_t j = 0; j < length; ++j) axpy(probs[j], v + j * row_stride, out, hs);
}

}  // namespace ptft::nn
