#include "ptft/nn/cross_entropy_kernel.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "vector_math.h"

namespace ptft::nn {
namespace {

using vec::kLanes;

// Lanes of fp32 partial sums over blocks of 1024, the blocks added in double (a 150k vocabulary
// summed in 16 fp32 lanes alone loses ~1e-6).
PTFT_MULTIVERSION
double row_sum_exp(const float* __restrict x, float max, int64_t n) {
  constexpr int64_t kSumBlock = 1024;
  double total = 0;
  for (int64_t b = 0; b < n; b += kSumBlock) {
    const int64_t e = b + kSumBlock < n ? b + kSumBlock : n;
    float s[kLanes] = {};
    int64_t i = b;
    for (; i + kLanes <= e; i += kLanes)
      for (int l = 0; l < kLanes; ++l) s[l] += vec::exp_nonpositive(x[i + l] - max);
    for (; i < e; ++i) s[0] += vec::exp_nonpositive(x[i] - max);
    float block = 0;
    for (float v : s) block += v;
    total += block;
  }
  return total;
}

PTFT_MULTIVERSION
void row_softmax_scaled(const float* __restrict x, float max, float log_sum, float scale, float* __restrict g,
                        int64_t n) {
  for (int64_t i = 0; i < n; ++i) g[i] = scale * vec::exp_nonpositive((x[i] - max) - log_sum);
}

// A bf16 row widened into a per-thread fp32 buffer.
const float* as_fp32(const uint16_t* row, int64_t n) {
  float* buf = vec::scratch(0, n);
  vec::widen(row, buf, n);
  return buf;
}

}  // namespace

RowLse log_sum_exp(const float* row, int64_t n) {
  const float m = vec::row_max(row, n);  // a +inf logit makes x - m NaN: the loss is NaN, as libtorch's
  return {m, static_cast<float>(std::log(row_sum_exp(row, m, n)))};
}

RowLse log_sum_exp(const uint16_t* row, int64_t n) { return log_sum_exp(as_fp32(row, n), n); }

void cross_entropy_grad(const float* row, RowLse lse, int64_t target, float scale, float* grad, int64_t n) {
  if (row == grad) {  // in place: the row read from a copy (the loop's pointers are __restrict)
    float* copy = vec::scratch(0, n);
    std::copy(row, row + n, copy);
    row = copy;
  }
  row_softmax_scaled(row, lse.max, lse.log_sum, scale, grad, n);
  if (target >= 0) grad[target] -= scale;
}

void cross_entropy_grad(const uint16_t* row, RowLse lse, int64_t target, float scale, uint16_t* grad, int64_t n) {
  float* g = vec::scratch(1, n);
  cross_entropy_grad(as_fp32(row, n), lse, target, scale, g, n);
  vec::narrow(g, grad, n);
}

}  // namespace ptft::nn
