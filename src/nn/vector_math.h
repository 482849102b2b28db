// src/nn/vector_math.h — private to the torch-free kernels in src/nn/ (the *_kernel.cpp files,
// and bf16_gemv.cpp): a branch-free exp and bf16 <-> fp32 conversions written so that g++
// vectorises the loops that use them (compile with -O3 -fno-math-errno -fno-trapping-math), the
// multiversioning attribute (AVX-512 / AVX2 / baseline clones, picked at load time) and per-thread
// scratch rows.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "bf16_avx512.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PTFT_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PTFT_MULTIVERSION
#endif

namespace ptft::nn::vec {

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
  // n within [-127, 128] before it becomes an integer: a NaN x (n NaN) or one outside the domain
  // would make the conversion and the shift undefined (UBSan); inside the domain nothing changes,
  // and a NaN x still gives NaN through p.
  const float n_clamped = n > -127.0f ? (n < 128.0f ? n : 128.0f) : -127.0f;
  const int32_t bits = (static_cast<int32_t>(n_clamped) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

constexpr int kLanes = 16;  // partial results per lane: the loops vectorise without reassociation

// The largest of x[0..n) (-inf for n = 0; NaN elements are skipped unless all are NaN).
PTFT_MULTIVERSION
[[maybe_unused]] static float row_max(const float* __restrict x, int64_t n) {
  float m[kLanes];
  for (float& v : m) v = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) m[l] = x[i + l] > m[l] ? x[i + l] : m[l];
  for (; i < n; ++i) m[0] = x[i] > m[0] ? x[i] : m[0];
  float r = m[0];
  for (int l = 1; l < kLanes; ++l) r = m[l] > r ? m[l] : r;
  return r;
}

// sum_i a[i] b[i]
PTFT_MULTIVERSION
[[maybe_unused]] static float dot(const float* __restrict a, const float* __restrict b, int64_t n) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += a[i + l] * b[i + l];
  float s = 0.f;
  for (; i < n; ++i) s += a[i] * b[i];
  for (float l : lanes) s += l;
  return s;
}

// e^(d) for d = x - max <= 0; below -87 it is 0 in fp32 (the clamp keeps the exp's bit trick
// valid; NaN passes).
inline float exp_nonpositive(float d) { return exp_approx(d < -87.0f ? -87.0f : d); }

inline float from_bf16(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Round to nearest even; a NaN stays a (quiet) NaN. The value of c10::detail::round_to_nearest_even
// (libtorch's bf16 cast), written without its NaN branch so that the loops calling it vectorise.
// (src/io/gguf_access.cpp has the widening for the GGUF reader, on the torch-free side.)
inline uint16_t to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const uint32_t rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
  const uint32_t nan = (bits >> 16) | 0x40;
  return static_cast<uint16_t>((bits & 0x7FFFFFFF) > 0x7F800000 ? nan : rounded);
}


// bf16 kernels run on blocks widened to fp32 and round the results back (each loop vectorises on
// its own; one loop doing all three did not).
constexpr int64_t kBlock = 1024;

PTFT_MULTIVERSION
[[maybe_unused]] static void widen(const uint16_t* __restrict in, float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = from_bf16(in[i]);
}

#ifdef PTFT_HAVE_AVX512_BF16
// narrow() with the CPU's conversion, the last (< 16) values masked.
PTFT_AVX512_BF16 [[maybe_unused]] static void narrow_avx512_bf16(const float* in, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) store16_bf16(out + i, _mm512_loadu_ps(in + i));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m256i h = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, in + i)));
    _mm256_mask_storeu_epi16(out + i, m, h);
  }
}
#endif

// in rounded to bf16 (round to nearest even; on an avx512_bf16 CPU by its own instruction, which
// makes values below 2^-126 zero: src/nn/bf16_avx512.h).
PTFT_MULTIVERSION
[[maybe_unused]] static void narrow(const float* __restrict in, uint16_t* __restrict out, int64_t n) {
#ifdef PTFT_HAVE_AVX512_BF16
  if (cpu_has_avx512_bf16()) return narrow_avx512_bf16(in, out, n);
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = to_bf16(in[i]);
}

// A per-thread fp32 buffer of at least n floats (rows widened from bf16, results before rounding);
// slot 0-3 picks one of four independent buffers. Valid until the same slot is asked for again.
inline float* scratch(int slot, int64_t n) {
  thread_local std::vector<float> buffers[4];
  std::vector<float>& b = buffers[slot];
  if (static_cast<int64_t>(b.size()) < n) b.resize(static_cast<size_t>(n));
  return b.data();
}

}  // namespace ptft::nn::vec
