#include "ptft/nn/dropout_kernel.h"

#include <algorithm>

#include "vector_math.h"

namespace ptft::nn {
namespace {

inline uint32_t mix(uint32_t i, uint32_t k0, uint32_t k1) {
  uint32_t h = i * 0x9E3779B1u + k0;
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h += k1;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

PTFT_MULTIVERSION
void apply(const float* __restrict x, float* __restrict y, int64_t n, uint32_t first, uint32_t k0, uint32_t k1,
           uint32_t threshold, float scale) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t h = mix(first + static_cast<uint32_t>(i), k0, k1);
    y[i] = h >= threshold ? x[i] * scale : 0.0f;
  }
}

}  // namespace

void dropout_mask_apply(const float* x, float* y, int64_t n, int64_t first, uint64_t key, uint32_t threshold,
                        float scale) {
  apply(x, y, n, static_cast<uint32_t>(first), static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32), threshold,
        scale);
}

void dropout_mask_apply(const uint16_t* x, uint16_t* y, int64_t n, int64_t first, uint64_t key, uint32_t threshold,
                        float scale) {
  float xf[vec::kBlock], yf[vec::kBlock];
  for (int64_t b = 0; b < n; b += vec::kBlock) {
    const int64_t m = std::min(vec::kBlock, n - b);
    vec::widen(x + b, xf, m);
    dropout_mask_apply(xf, yf, m, first + b, key, threshold, scale);
    vec::narrow(yf, y + b, m);
  }
}

}  // namespace ptft::nn
