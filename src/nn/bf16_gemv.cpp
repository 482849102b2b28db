#include "ptft/nn/bf16_gemv.h"

#include <immintrin.h>

#include <cstdint>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/core/parallel.h"
#include "vector_math.h"

// g++ 12 reports the _mm512_undefined_* placeholders of its own intrinsics as "may be used
// uninitialized" once they are inlined into this file's kernels (GCC bug 105593, a false
// positive); only this file uses AVX-512 intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ptft::nn {
namespace {

// y[r] = sum_k w[r, k] x[k] for rows [begin, end); x as float32, and as bf16 (xb, zero-padded to a
// multiple of 32) for the kernel that multiplies bf16 pairs.
using RowsFn = void (*)(const uint16_t* w, const float* x, const uint16_t* xb, int64_t in, int64_t begin, int64_t end,
                        float* y);

void rows_portable(const uint16_t* w, const float* x, const uint16_t*, int64_t in, int64_t begin, int64_t end, float* y) {
  for (int64_t r = begin; r < end; ++r) {
    const uint16_t* row = w + r * in;
    float acc = 0.f;
    for (int64_t k = 0; k < in; ++k) acc += vec::from_bf16(row[k]) * x[k];
    y[r] = acc;
  }
}

__attribute__((target("avx2,fma"))) void rows_avx2(const uint16_t* w, const float* x, const uint16_t*, int64_t in,
                                                   int64_t begin, int64_t end, float* y) {
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

// Four rows at a time: four independent accumulators and four memory streams share each x load.
__attribute__((target("avx512f"))) void rows_avx512(const uint16_t* w, const float* x, const uint16_t*, int64_t in,
                                                    int64_t begin, int64_t end, float* y) {
  const int64_t body = in - in % 16;
  int64_t r = begin;
  for (; r + 4 <= end; r += 4) {
    const uint16_t* w0 = w + r * in;
    const uint16_t *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    for (int64_t k = 0; k < body; k += 16) {
      const __m512 xv = _mm512_loadu_ps(x + k);
      a0 = _mm512_fmadd_ps(vec::load16_bf16(w0 + k), xv, a0);
      a1 = _mm512_fmadd_ps(vec::load16_bf16(w1 + k), xv, a1);
      a2 = _mm512_fmadd_ps(vec::load16_bf16(w2 + k), xv, a2);
      a3 = _mm512_fmadd_ps(vec::load16_bf16(w3 + k), xv, a3);
    }
    float s[4] = {_mm512_reduce_add_ps(a0), _mm512_reduce_add_ps(a1), _mm512_reduce_add_ps(a2), _mm512_reduce_add_ps(a3)};
    for (int64_t k = body; k < in; ++k)
      for (int j = 0; j < 4; ++j) s[j] += vec::from_bf16(w0[j * in + k]) * x[k];
    for (int j = 0; j < 4; ++j) y[r + j] = s[j];
  }
  for (; r < end; ++r) {
    const uint16_t* row = w + r * in;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t k = 0; k < body; k += 16) acc = _mm512_fmadd_ps(vec::load16_bf16(row + k), _mm512_loadu_ps(x + k), acc);
    float s = _mm512_reduce_add_ps(acc);
    for (int64_t k = body; k < in; ++k) s += vec::from_bf16(row[k]) * x[k];
    y[r] = s;
  }
}

// sum_k row[k] xb[k] over 32-value blocks, the last one masked (xb is zero-padded; the row is not).
PTFT_AVX512_BF16 inline __m512 dot_bf16(const uint16_t* row, const uint16_t* xb,
                                                                             int64_t in, __m512 acc) {
  const int64_t body = in - in % 32;
  for (int64_t k = 0; k < body; k += 32)
    acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_loadu_si512(row + k), (__m512bh)_mm512_loadu_si512(xb + k));
  if (body < in) {
    const __mmask32 m = (1u << (in - body)) - 1;
    acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_maskz_loadu_epi16(m, row + body), (__m512bh)_mm512_loadu_si512(xb + body));
  }
  return acc;
}

// With x rounded to bf16, one vdpbf16ps multiplies 32 pairs and adds them into float32 lanes: a
// quarter of the instructions of widening the weights, which at 2 threads was what held the decode
// step below the memory's speed (GPT-2 124M's weights: 18 -> 23 GB/s, streaming reads ~25 GB/s).
// Four rows at a time share each x load, as above.
PTFT_AVX512_BF16 void rows_avx512_bf16(const uint16_t* w, const float*,
                                                                             const uint16_t* xb, int64_t in,
                                                                             int64_t begin, int64_t end, float* y) {
  const int64_t body = in - in % 32;
  int64_t r = begin;
  for (; r + 4 <= end; r += 4) {
    const uint16_t* w0 = w + r * in;
    const uint16_t *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    for (int64_t k = 0; k < body; k += 32) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(xb + k);
      a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_loadu_si512(w0 + k), xv);
      a1 = _mm512_dpbf16_ps(a1, (__m512bh)_mm512_loadu_si512(w1 + k), xv);
      a2 = _mm512_dpbf16_ps(a2, (__m512bh)_mm512_loadu_si512(w2 + k), xv);
      a3 = _mm512_dpbf16_ps(a3, (__m512bh)_mm512_loadu_si512(w3 + k), xv);
    }
    if (body < in) {  // the tail, one row at a time
      a0 = dot_bf16(w0 + body, xb + body, in - body, a0);
      a1 = dot_bf16(w1 + body, xb + body, in - body, a1);
      a2 = dot_bf16(w2 + body, xb + body, in - body, a2);
      a3 = dot_bf16(w3 + body, xb + body, in - body, a3);
    }
    y[r] = _mm512_reduce_add_ps(a0);
    y[r + 1] = _mm512_reduce_add_ps(a1);
    y[r + 2] = _mm512_reduce_add_ps(a2);
    y[r + 3] = _mm512_reduce_add_ps(a3);
  }
  for (; r < end; ++r) y[r] = _mm512_reduce_add_ps(dot_bf16(w + r * in, xb, in, _mm512_setzero_ps()));
}

RowsFn pick() {
  __builtin_cpu_init();
  if (vec::cpu_has_avx512_bf16()) return rows_avx512_bf16;
  if (__builtin_cpu_supports("avx512f")) return rows_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return rows_avx2;
  return rows_portable;
}

const RowsFn kRows = pick();

}  // namespace

const char* bf16_gemv_kernel() {
  if (kRows == rows_avx512_bf16) return "avx512_bf16";
  return kRows == rows_avx512 ? "avx512" : kRows == rows_avx2 ? "avx2" : "portable";
}

bool bf16_gemv_rounds_x() { return kRows == rows_avx512_bf16; }

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
  thread_local std::vector<uint16_t> xb;  // x as bf16 (vec::narrow: round to nearest even), zero-padded
  if (bf16_gemv_rounds_x()) {
    xb.assign(static_cast<size_t>((in + 31) / 32 * 32), 0);
    vec::narrow(xp, xb.data(), in);
  }
  const uint16_t* xbp = xb.data();
  PTFT_CHECK(!bias.defined() || (bias.numel() == out && bias.is_cpu() && bias.scalar_type() == torch::kFloat),
             "bf16_gemv: bias must hold `out` float32 values on the CPU");
  const torch::Tensor b = bias.defined() ? bias.contiguous() : bias;
  const float* bp = b.defined() ? b.data_ptr<float>() : nullptr;
  // Chunks of >= 64 rows (at 576 columns: 72 KB of weights each) keep the threads' overhead small;
  // the bias is added to each chunk's rows as they are written (no pass, no op of its own).
  ptft::parallel_for(0, out, 64, [&](int64_t begin, int64_t end) {
    kRows(w, xp, xbp, in, begin, end, yp);
    if (bp != nullptr)
      for (int64_t r = begin; r < end; ++r) yp[r] += bp[r];
  });
  return y;
}

}  // namespace ptft::nn
