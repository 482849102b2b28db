#include "ptft/train/adamw_kernel.h"

#include <cmath>

namespace ptft {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PTFT_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PTFT_MULTIVERSION
#endif

PTFT_MULTIVERSION
void adamw_update(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                  int64_t n, const AdamWStep& s) {
  const float decay = 1.0f - s.lr * s.weight_decay;
  const float step_size = s.lr / s.bias_correction1;
  const float inv_bc2_sqrt = 1.0f / s.bias_correction2_sqrt;
  const float one_minus_b1 = 1.0f - s.beta1, b2 = s.beta2, one_minus_b2 = 1.0f - s.beta2, eps = s.eps;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] * s.grad_scale;
    const float mi = m[i] + one_minus_b1 * (gi - m[i]);  // lerp, as torch does
    const float vi = b2 * v[i] + one_minus_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) * inv_bc2_sqrt + eps;
    p[i] = p[i] * decay - step_size * mi / denom;
  }
}

PTFT_MULTIVERSION
double sum_squares(const float* __restrict x, int64_t n) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += x[i + j] * x[i + j];
  double total = 0;
  for (; i < n; ++i) total += static_cast<double>(x[i]) * x[i];
  for (float a : acc) total += a;
  return total;
}

}  // namespace ptft
