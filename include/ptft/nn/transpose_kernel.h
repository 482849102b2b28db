// ptft/nn/transpose_kernel.h — a 2-D transpose of 16-bit elements (bf16, fp16), torch-free, in
// 8 x 8 blocks of SSE2 unpacks within 64 x 64 tiles, on libtorch's intra-op threads.
//
//   transpose16(in, ld_in, out, ld_out, rows, cols);   // out[j * ld_out + i] = in[i * ld_in + j]
//
// Why: oneDNN's bf16 GEMM reads a transposed-view A (a weight gradient dy^T x) at ~1.0-1.15
// TFLOP/s and a row-major one at ~1.4-1.9 on the xeon machine (GPT-2's shapes, N = 1024 rows, 2
// threads), and libtorch's strided copy of dy^T moves ~5 GB/s read + written (2.57 ms for 1024 x
// 3072); these blocks ~15-18 GB/s (0.71 ms; build/bench/ptft_bench_linear_grad). nn::weight_grad
// (src/nn/linear_op_parts.h) is the user.
#pragma once

#include <cstdint>

namespace ptft::nn {

void transpose16(const uint16_t* in, int64_t ld_in, uint16_t* out, int64_t ld_out, int64_t rows, int64_t cols);

}  // namespace ptft::nn
