// src/nn/bf16_avx512.h — private to src/nn/: bf16 <-> fp32 for 16 lanes with the CPU's own
// conversion (vcvtneps2bf16: round to nearest even, as vec::to_bf16, but inputs and results below
// 2^-126 become zero), for kernels that have an avx512_bf16 path beside their portable loops.
// vec::to_bf16's integer rounding costs ~7 vector instructions per 16 values: in the BatchNorm
// kernels' bf16 loops that was a third of their time (build/bench/ptft_bench_batch_norm).
//
//   if (vec::cpu_has_avx512_bf16() && n % 16 == 0) return loop_avx512_bf16(...);   // PTFT_AVX512_BF16
#pragma once

#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__)  // g++ and clang: target attributes
#include <immintrin.h>
#define PTFT_HAVE_AVX512_BF16 1
#define PTFT_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

namespace ptft::nn::vec {

// Whether this CPU converts bf16 in hardware (and has the AVX-512 the loops around it use).
inline bool cpu_has_avx512_bf16() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  }();
  return yes;
}

// p[0..16) as floats (exact): AVX-512F alone, so that plain AVX-512 loops inline it too. (The
// maskz forms: g++ 12 warns of an uninitialised value inside the unmasked intrinsics.)
__attribute__((target("avx512f"))) inline __m512 load16_bf16(const uint16_t* p) {
  const __m512i wide = _mm512_maskz_cvtepu16_epi32(0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, wide, 16));
}

// v rounded to bf16 into p[0..16).
PTFT_AVX512_BF16 inline void store16_bf16(uint16_t* p, __m512 v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v)));
}

}  // namespace ptft::nn::vec
#endif
