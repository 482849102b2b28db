#include "ptft/nn/column_sum_kernel.h"

#include <algorithm>

#include "ptft/core/parallel.h"
#include "vector_math.h"

namespace ptft::nn {
namespace {

constexpr int64_t kColumns = 128;  // a block's fp32 sums: 512 bytes, in registers / L1

// out[j] = sum over the rows of m[., j] for the block's n <= kColumns columns.
PTFT_MULTIVERSION
void block_sums(const uint16_t* __restrict m, int64_t ld, int64_t rows, int64_t n, float* __restrict out) {
  float acc[kColumns] = {};
  for (int64_t i = 0; i < rows; ++i) {
    const uint16_t* row = m + i * ld;
    for (int64_t j = 0; j < n; ++j) acc[j] += vec::from_bf16(row[j]);
  }
  std::copy(acc, acc + n, out);
}

}  // namespace

void column_sums_bf16(const uint16_t* m, int64_t ld, int64_t rows, int64_t cols, float* out) {
  const int64_t blocks = (cols + kColumns - 1) / kColumns;
  ptft::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t j0 = b * kColumns;
      block_sums(m + j0, ld, rows, std::min(kColumns, cols - j0), out + j0);
    }
  });
}

}  // namespace ptft::nn
