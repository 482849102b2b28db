#include "ptft/nn/transpose_kernel.h"

#include <algorithm>

#include "ptft/core/parallel.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ptft::nn {
namespace {

constexpr int64_t kTile = 64;  // a tile's rows and columns: 8 KB in, 8 KB out, in L1

#if defined(__SSE2__)
// The 8 x 8 block at `in` (rows ld_in apart) written transposed at `out` (rows ld_out apart):
// pairs of rows interleaved by 16, 32 and 64 bits.
inline void block8(const uint16_t* in, int64_t ld_in, uint16_t* out, int64_t ld_out) {
  __m128i r[8], a[8], b[8];
  for (int k = 0; k < 8; ++k) r[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + k * ld_in));
  for (int k = 0; k < 8; k += 2) {
    a[k] = _mm_unpacklo_epi16(r[k], r[k + 1]);      // columns 0-3 of rows k, k+1
    a[k + 1] = _mm_unpackhi_epi16(r[k], r[k + 1]);  // columns 4-7
  }
  for (int k = 0; k < 8; k += 4)
    for (int h = 0; h < 2; ++h) {
      b[k + 2 * h] = _mm_unpacklo_epi32(a[k + h], a[k + 2 + h]);
      b[k + 2 * h + 1] = _mm_unpackhi_epi32(a[k + h], a[k + 2 + h]);
    }
  for (int k = 0; k < 4; ++k) {  // column 2k and 2k+1 of all eight rows
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (2 * k) * ld_out), _mm_unpacklo_epi64(b[k], b[k + 4]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (2 * k + 1) * ld_out), _mm_unpackhi_epi64(b[k], b[k + 4]));
  }
}
#endif

// The tile of rows [i0, i1) and columns [j0, j1).
void tile(const uint16_t* in, int64_t ld_in, uint16_t* out, int64_t ld_out, int64_t i0, int64_t i1, int64_t j0,
          int64_t j1) {
  int64_t i = i0;
#if defined(__SSE2__)
  for (; i + 8 <= i1; i += 8) {
    int64_t j = j0;
    for (; j + 8 <= j1; j += 8) block8(in + i * ld_in + j, ld_in, out + j * ld_out + i, ld_out);
    for (; j < j1; ++j)
      for (int64_t k = i; k < i + 8; ++k) out[j * ld_out + k] = in[k * ld_in + j];
  }
#endif
  for (; i < i1; ++i)
    for (int64_t j = j0; j < j1; ++j) out[j * ld_out + i] = in[i * ld_in + j];
}

}  // namespace

void transpose16(const uint16_t* in, int64_t ld_in, uint16_t* out, int64_t ld_out, int64_t rows, int64_t cols) {
  const int64_t row_tiles = (rows + kTile - 1) / kTile, col_tiles = (cols + kTile - 1) / kTile;
  ptft::parallel_for(0, row_tiles * col_tiles, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t i0 = (t / col_tiles) * kTile, j0 = (t % col_tiles) * kTile;
      tile(in, ld_in, out, ld_out, i0, std::min(i0 + kTile, rows), j0, std::min(j0 + kTile, cols));
    }
  });
}

}  // namespace ptft::nn
