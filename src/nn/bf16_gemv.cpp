#include "ptft/nn/bf16_gemv.h"

#include <immintrin.h>

#include <cstdint>

#include "ptft/core/error.h"
#include "ptft/core/parallel.h"
#include "vector_math.h"

// g++ 12 reports the _mm512_undefined_* placeholders of its own intrinsics as "may be used
// uninitialized" once they are inlined into this file's kernels (GCC bug 105593, a false
// positive); only this file uses AVX-512 intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ptft::nn {
namespace {

using RowsFn = void (*)(const uint16_t* w, const float* x, int64_t in, int64_t begin, int64_t end, float* y);

// y[r] = sum_k w[r, k] x[k] for rows [begin, end).
void rows_portable(const uint16_t* w, const float* x, int64_t in, int64_t begin, int64_t end, float* y) {
  for (int64_t r = begin; r < end; ++r) {
    const uint16_t* row = w + r * in;
    float acc = 0.f;
    for (int64_t k = 0; k < in; ++k) acc += vec::from_bf16(row[k]) * x[k];
    y[r] = acc;
  }
}

__attribute__((target("avx2,fma"))) void rows_avx2(const uint16_t* w, const float* x, int64_t in, int64_t begin,
                                                   int64_t end, float* y) {
  const int64_t body = in - in % 8;
  for (int64_t r = begin; r < end; ++r) {
    const uint16_t* row = w + r * in;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= body; k += 16) {
      const __m256i a = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k))), 16);
      const __m256i b = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k + 8))), 16);
      acc0 = _mm256_fmadd_ps(_mm256_castsi256_ps(a), _mm256_loadu_ps(x + k), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_castsi256_ps(b), _mm256_loadu_ps(x + k + 8), acc1);
    }
    for (; k < body; k += 8) {
      const __m256i a = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k))), 16);
      acc0 = _mm256_fmadd_ps(_mm256_castsi256_ps(a), _mm256_loadu_ps(x + k), acc0);
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, _mm256_add_ps(acc0, acc1));
    float acc = 0.f;
    for (float v : lanes) acc += v;
    for (; k < in; ++k) acc += vec::from_bf16(row[k]) * x[k];
    y[r] = acc;
  }
}

// 16 bf16 values at p as float32.
__attribute__((target("avx512f"))) inline __m512 load16(const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}

// Four rows at a time: four independent accumulators and four memory streams share each x load.
__attribute__((target("avx512f"))) void rows_avx512(const uint16_t* w, const float* x, int64_t in, int64_t begin,
                                                    int64_t end, float* y) {
  const int64_t body = in - in % 16;
  int64_t r = begin;
  for (; r + 4 <= end; r += 4) {
    const uint16_t* w0 = w + r * in;
    const uint16_t *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    for (int64_t k = 0; k < body; k += 16) {
      const __m512 xv = _mm512_loadu_ps(x + k);
      a0 = _mm512_fmadd_ps(load16(w0 + k), xv, a0);
      a1 = _mm512_fmadd_ps(load16(w1 + k), xv, a1);
      a2 = _mm512_fmadd_ps(load16(w2 + k), xv, a2);
      a3 = _mm512_fmadd_ps(load16(w3 + k), xv, a3);
    }
    float s[4] = {_mm512_reduce_add_ps(a0), _mm512_reduce_add_ps(a1), _mm512_reduce_add_ps(a2), _mm512_reduce_add_ps(a3)};
    for (int64_t k = body; k < in; ++k)
      for (int j = 0; j < 4; ++j) s[j] += vec::from_bf16(w0[j * in + k]) * x[k];
    for (int j = 0; j < 4; ++j) y[r + j] = s[j];
  }
  for (; r < end; ++r) {
    const uint16_t* row = w + r * in;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t k = 0; k < body; k += 16) acc = _mm512_fmadd_ps(load16(row + k), _mm512_loadu_ps(x + k), acc);
    float s = _mm512_reduce_add_ps(acc);
    for (int64_t k = body; k < in; ++k) s += vec::from_bf16(row[k]) * x[k];
    y[r] = s;
  }
}

RowsFn pick() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return rows_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return rows_avx2;
  return rows_portable;
}

const RowsFn kRows = pick();

}  // namespace

const char* bf16_gemv_kernel() {
  return kRows == rows_avx512 ? "avx512" : kRows == rows_avx2 ? "avx2" : "portable";
}

torch::Tensor bf16_gemv(const torch::Tensor& weight, const torch::Tensor& x, const torch::Tensor& bias) {
  PTFT_CHECK(weight.dim() == 2 && weight.scalar_type() == torch::kBFloat16 && weight.is_contiguous() && weight.is_cpu(),
             "bf16_gemv: weight must be a contiguous (out, in) bfloat16 CPU tensor");
  const int64_t out = weight.size(0), in = weight.size(1);
  PTFT_CHECK(x.numel() == in, "bf16_gemv: x has " + std::to_string(x.numel()) + " values, the weight " + std::to_string(in) + " columns");
  const torch::Tensor xf = x.reshape({in}).to(torch::kFloat32).contiguous();  // (in)
  auto shape = x.sizes().vec();
  shape.back() = out;
  torch::Tensor y = torch::empty(shape, xf.options());                        // (..., out)
  const auto* w = reinterpret_cast<const uint16_t*>(weight.data_ptr<at::BFloat16>());
  const float* xp = xf.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  // Chunks of >= 64 rows (at 576 columns: 72 KB of weights each) keep the threads' overhead small.
  ptft::parallel_for(0, out, 64, [&](int64_t begin, int64_t end) { kRows(w, xp, in, begin, end, yp); });
  if (bias.defined()) y.add_(bias);
  return y;
}

}  // namespace ptft::nn
