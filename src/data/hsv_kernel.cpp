#include "ptft/data/hsv_kernel.h"

#include <algorithm>

#include "hsv_math.h"

namespace ptft {

namespace {

constexpr int64_t kBlock = 64;  // pixels per block: three short loops that each vectorise

// One block of m <= kBlock pixels, planes as float in, levels as float out.
inline void jitter_block(const float* __restrict r, const float* __restrict g, const float* __restrict b, int64_t m,
                         float hue_shift, float s_gain, float v_gain, float* __restrict ro, float* __restrict go,
                         float* __restrict bo) {
  for (int64_t i = 0; i < m; ++i) {
    float h0, s0, v0;
    hsv::hsv_of(r[i], g[i], b[i], h0, s0, v0);
    const float h = hsv::python_mod(h0 + hue_shift, 180.0f), s = std::clamp(s0 * s_gain, 0.0f, 255.0f),
                v = std::clamp(v0 * v_gain, 0.0f, 255.0f);
    const float sector = h / 30.0f, sn = s / 255.0f;  // as hsv::rgb_of
    ro[i] = std::clamp(std::nearbyint(hsv::rgb_channel(sector, sn, v, 5)), 0.0f, 255.0f);
    go[i] = std::clamp(std::nearbyint(hsv::rgb_channel(sector, sn, v, 3)), 0.0f, 255.0f);
    bo[i] = std::clamp(std::nearbyint(hsv::rgb_channel(sector, sn, v, 1)), 0.0f, 255.0f);
  }
}

}  // namespace

std::array<uint8_t, 3> hsv_jitter_pixel(uint8_t r, uint8_t g, uint8_t b, float hue_shift, float s_gain, float v_gain) {
  const float in[3] = {static_cast<float>(r), static_cast<float>(g), static_cast<float>(b)};
  float o[3];
  jitter_block(&in[0], &in[1], &in[2], 1, hue_shift, s_gain, v_gain, &o[0], &o[1], &o[2]);
  return {static_cast<uint8_t>(static_cast<int32_t>(o[0])), static_cast<uint8_t>(static_cast<int32_t>(o[1])),
          static_cast<uint8_t>(static_cast<int32_t>(o[2]))};
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void hsv_jitter_planes(const uint8_t* in, uint8_t* out, int64_t n, float hue_shift, float s_gain, float v_gain) {
  alignas(64) float f[6][kBlock];  // r, g, b in; r, g, b out
  for (int64_t at = 0; at < n; at += kBlock) {
    const int64_t m = std::min(kBlock, n - at);
    for (int c = 0; c < 3; ++c)
      for (int64_t i = 0; i < m; ++i) f[c][i] = static_cast<float>(in[c * n + at + i]);
    jitter_block(f[0], f[1], f[2], m, hue_shift, s_gain, v_gain, f[3], f[4], f[5]);
    for (int c = 0; c < 3; ++c)
      for (int64_t i = 0; i < m; ++i) out[c * n + at + i] = static_cast<uint8_t>(static_cast<int32_t>(f[3 + c][i]));
  }
}

}  // namespace ptft
