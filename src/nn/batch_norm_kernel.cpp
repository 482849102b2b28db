#include "ptft/nn/batch_norm_kernel.h"

#include <type_traits>

#include "bf16_avx512.h"
#include "vector_math.h"

namespace ptft::nn {
namespace {

// The loops, written once for fp32 and bf16 elements (T: float or uint16_t) and for each
// variant (ReLU or not, residual or not) as compile-time flags, so that every inner loop is
// branch-free and vectorises with its bf16 conversions inline (no widened copies: bf16 forward +
// backward at 16 x 28 x 28 took 1.76 ms this way, 2.2 ms widening blocks into scratch rows, on
// build/bench/ptft_bench_batch_norm). Inlined into the
// multiversioned entry points below (target_clones takes no templates). Rows of n lanes.
inline float load(float v) { return v; }
inline float load(uint16_t v) { return vec::from_bf16(v); }
template <class T>
inline T store(float v) {
  if constexpr (std::is_same_v<T, float>) return v;
  else return vec::to_bf16(v);
}

template <class T>
[[gnu::always_inline]] inline void sums_rows(const T* x, const float* __restrict shift, int64_t rows, int64_t n,
                                             float* __restrict s1, float* __restrict s2) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict xr = x + r * n;
    for (int64_t j = 0; j < n; ++j) {
      const float d = load(xr[j]) - shift[j];
      s1[j] += d;
      s2[j] += d * d;
    }
  }
}

// y = x scale + bias [+ res], then ReLU (which keeps a NaN, as torch.relu).
template <class T, bool kRelu, bool kRes>
[[gnu::always_inline]] inline void apply_rows(const T* x, const T* res, const float* __restrict scale,
                                              const float* __restrict bias, T* y, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict xr = x + r * n;
    const T* __restrict rr = kRes ? res + r * n : nullptr;
    T* __restrict yr = y + r * n;
    for (int64_t j = 0; j < n; ++j) {
      float v = load(xr[j]) * scale[j] + bias[j];
      if constexpr (kRes) v += load(rr[j]);
      if constexpr (kRelu) v = v < 0.0f ? 0.0f : v;
      yr[j] = store<T>(v);
    }
  }
}

// g = dy, or with the ReLU dy where y > 0 and 0 elsewhere (dy loaded either way: a load under
// the condition is control flow, and the loop would not vectorise).
template <bool kRelu, class T>
inline float gate(const T* __restrict dy, const T* __restrict y, int64_t j) {
  const float d = load(dy[j]);
  if constexpr (kRelu) return load(y[j]) > 0.0f ? d : 0.0f;
  else return d;
}

template <class T, bool kRelu>
[[gnu::always_inline]] inline void backward_sums_rows(const T* dy, const T* y, const T* x, const float* __restrict mean,
                                                      int64_t rows, int64_t n, float* __restrict s1,
                                                      float* __restrict s2) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict dyr = dy + r * n;
    const T* __restrict yr = kRelu ? y + r * n : nullptr;
    const T* __restrict xr = x + r * n;
    for (int64_t j = 0; j < n; ++j) {
      const float g = gate<kRelu>(dyr, yr, j);
      s1[j] += g;
      s2[j] += g * (load(xr[j]) - mean[j]);
    }
  }
}

template <class T, bool kRelu, bool kRes>
[[gnu::always_inline]] inline void backward_apply_rows(const T* dy, const T* y, const T* x, const float* __restrict k,
                                                       const float* __restrict cx, const float* __restrict c0, T* dx,
                                                       T* dres, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict dyr = dy + r * n;
    const T* __restrict yr = kRelu ? y + r * n : nullptr;
    const T* __restrict xr = x + r * n;
    T* __restrict dxr = dx + r * n;
    T* __restrict dresr = kRes ? dres + r * n : nullptr;
    for (int64_t j = 0; j < n; ++j) {
      const float g = gate<kRelu>(dyr, yr, j);
      dxr[j] = store<T>(k[j] * g + cx[j] * load(xr[j]) + c0[j]);
      if constexpr (kRes) dresr[j] = store<T>(g);
    }
  }
}

template <class T>
[[gnu::always_inline]] inline void apply_any(const T* x, const T* res, const float* scale, const float* bias, bool relu,
                                             T* y, int64_t rows, int64_t n) {
  if (res != nullptr) {
    if (relu) apply_rows<T, true, true>(x, res, scale, bias, y, rows, n);
    else apply_rows<T, false, true>(x, res, scale, bias, y, rows, n);
  } else {
    if (relu) apply_rows<T, true, false>(x, res, scale, bias, y, rows, n);
    else apply_rows<T, false, false>(x, res, scale, bias, y, rows, n);
  }
}

template <class T>
[[gnu::always_inline]] inline void backward_apply_any(const T* dy, const T* y, const T* x, bool relu, const float* k,
                                                      const float* cx, const float* c0, T* dx, T* dres, int64_t rows,
                                                      int64_t n) {
  if (dres != nullptr) {
    if (relu) backward_apply_rows<T, true, true>(dy, y, x, k, cx, c0, dx, dres, rows, n);
    else backward_apply_rows<T, false, true>(dy, y, x, k, cx, c0, dx, dres, rows, n);
  } else {
    if (relu) backward_apply_rows<T, true, false>(dy, y, x, k, cx, c0, dx, dres, rows, n);
    else backward_apply_rows<T, false, false>(dy, y, x, k, cx, c0, dx, dres, rows, n);
  }
}

#ifdef PTFT_HAVE_AVX512_BF16
// The bf16 loops again with the CPU's bf16 conversion, for rows of n % 16 == 0 lanes (every
// ResNet width from 16 up): ~1/3 faster than with vec::to_bf16 (ptft_bench_batch_norm).
template <bool kRelu, bool kRes>
PTFT_AVX512_BF16 void apply_rows_hw(const uint16_t* x, const uint16_t* res, const float* scale, const float* bias,
                                    uint16_t* y, int64_t rows, int64_t n) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0, at = r * n; j < n; j += 16, at += 16) {
      __m512 v = _mm512_fmadd_ps(vec::load16_bf16(x + at), _mm512_loadu_ps(scale + j), _mm512_loadu_ps(bias + j));
      if constexpr (kRes) v = _mm512_add_ps(v, vec::load16_bf16(res + at));
      if constexpr (kRelu) v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero);  // NaN stays
      vec::store16_bf16(y + at, v);
    }
}

template <bool kRelu, bool kRes>
PTFT_AVX512_BF16 void backward_apply_rows_hw(const uint16_t* dy, const uint16_t* y, const uint16_t* x, const float* k,
                                             const float* cx, const float* c0, uint16_t* dx, uint16_t* dres,
                                             int64_t rows, int64_t n) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0, at = r * n; j < n; j += 16, at += 16) {
      __m512 g = vec::load16_bf16(dy + at);
      if constexpr (kRelu) g = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(vec::load16_bf16(y + at), zero, _CMP_GT_OQ), g);
      const __m512 lin = _mm512_fmadd_ps(_mm512_loadu_ps(cx + j), vec::load16_bf16(x + at), _mm512_loadu_ps(c0 + j));
      vec::store16_bf16(dx + at, _mm512_fmadd_ps(_mm512_loadu_ps(k + j), g, lin));
      if constexpr (kRes) vec::store16_bf16(dres + at, g);  // g is a bf16 value: stored exactly
    }
}

PTFT_AVX512_BF16 void apply_hw(const uint16_t* x, const uint16_t* res, const float* scale, const float* bias,
                               bool relu, uint16_t* y, int64_t rows, int64_t n) {
  if (res != nullptr) {
    if (relu) apply_rows_hw<true, true>(x, res, scale, bias, y, rows, n);
    else apply_rows_hw<false, true>(x, res, scale, bias, y, rows, n);
  } else {
    if (relu) apply_rows_hw<true, false>(x, res, scale, bias, y, rows, n);
    else apply_rows_hw<false, false>(x, res, scale, bias, y, rows, n);
  }
}

PTFT_AVX512_BF16 void backward_apply_hw(const uint16_t* dy, const uint16_t* y, const uint16_t* x, bool relu,
                                        const float* k, const float* cx, const float* c0, uint16_t* dx,
                                        uint16_t* dres, int64_t rows, int64_t n) {
  if (dres != nullptr) {
    if (relu) backward_apply_rows_hw<true, true>(dy, y, x, k, cx, c0, dx, dres, rows, n);
    else backward_apply_rows_hw<false, true>(dy, y, x, k, cx, c0, dx, dres, rows, n);
  } else {
    if (relu) backward_apply_rows_hw<true, false>(dy, y, x, k, cx, c0, dx, dres, rows, n);
    else backward_apply_rows_hw<false, false>(dy, y, x, k, cx, c0, dx, dres, rows, n);
  }
}

// Whether rows of n lanes take the loops above.
bool hw_rows(int64_t n) { return n % 16 == 0 && vec::cpu_has_avx512_bf16(); }
#endif

}  // namespace

PTFT_MULTIVERSION
void batch_norm_sums(const float* x, const float* shift, int64_t rows, int64_t n, float* s1, float* s2) {
  sums_rows(x, shift, rows, n, s1, s2);
}

PTFT_MULTIVERSION
void batch_norm_sums(const uint16_t* x, const float* shift, int64_t rows, int64_t n, float* s1, float* s2) {
  sums_rows(x, shift, rows, n, s1, s2);
}

PTFT_MULTIVERSION
void batch_norm_apply(const float* x, const float* res, const float* scale, const float* bias, bool relu, float* y,
                      int64_t rows, int64_t n) {
  apply_any(x, res, scale, bias, relu, y, rows, n);
}

PTFT_MULTIVERSION
void batch_norm_apply(const uint16_t* x, const uint16_t* res, const float* scale, const float* bias, bool relu,
                      uint16_t* y, int64_t rows, int64_t n) {
#ifdef PTFT_HAVE_AVX512_BF16
  if (hw_rows(n)) return apply_hw(x, res, scale, bias, relu, y, rows, n);
#endif
  apply_any(x, res, scale, bias, relu, y, rows, n);
}

PTFT_MULTIVERSION
void batch_norm_backward_sums(const float* dy, const float* y, const float* x, const float* mean, bool relu,
                              int64_t rows, int64_t n, float* s1, float* s2) {
  if (relu) backward_sums_rows<float, true>(dy, y, x, mean, rows, n, s1, s2);
  else backward_sums_rows<float, false>(dy, y, x, mean, rows, n, s1, s2);
}

PTFT_MULTIVERSION
void batch_norm_backward_sums(const uint16_t* dy, const uint16_t* y, const uint16_t* x, const float* mean, bool relu,
                              int64_t rows, int64_t n, float* s1, float* s2) {
  if (relu) backward_sums_rows<uint16_t, true>(dy, y, x, mean, rows, n, s1, s2);
  else backward_sums_rows<uint16_t, false>(dy, y, x, mean, rows, n, s1, s2);
}

PTFT_MULTIVERSION
void batch_norm_backward_apply(const float* dy, const float* y, const float* x, bool relu, const float* k,
                               const float* cx, const float* c0, float* dx, float* dres, int64_t rows, int64_t n) {
  backward_apply_any(dy, y, x, relu, k, cx, c0, dx, dres, rows, n);
}

PTFT_MULTIVERSION
void batch_norm_backward_apply(const uint16_t* dy, const uint16_t* y, const uint16_t* x, bool relu, const float* k,
                               const float* cx, const float* c0, uint16_t* dx, uint16_t* dres, int64_t rows,
                               int64_t n) {
#ifdef PTFT_HAVE_AVX512_BF16
  if (hw_rows(n)) return backward_apply_hw(dy, y, x, relu, k, cx, c0, dx, dres, rows, n);
#endif
  backward_apply_any(dy, y, x, relu, k, cx, c0, dx, dres, rows, n);
}

}  // namespace ptft::nn
