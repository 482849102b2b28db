// ptft/nn/decode_attention_kernel.h — one query position attending to every cached key, for one
// head, torch-free (nn/decode_attention.h applies it to a decode step's heads):
//
//   out = sum_j p_j v_j,   p = softmax_j(scale * q . k_j),   j = 0 .. length-1
//
// float32 throughout: the dot products in 16 lanes, the softmax that of nn/cross_entropy_kernel.h
// (the maximum subtracted, the sum in blocks added in double); multiversioned (AVX-512 / AVX2 /
// baseline).
//
//   decode_attention_head(q, k, v, /*row_stride=*/hs, length, hs, 0.125f, scratch, out);
#pragma once

#include <cstdint>

namespace ptft::nn {

// q: hs values; key j at k + j * row_stride, value j at v + j * row_stride (hs values each);
// scratch: room for 2 * length floats (overwritten); out: hs values. length >= 1.
void decode_attention_head(const float* q, const float* k, const float* v, int64_t row_stride, int64_t length,
                           int64_t hs, float scale, float* scratch, float* out);

}  // namespace ptft::nn
