// ptft/nn/dropout_kernel.h — inverted dropout with a counter-based mask, torch-free (nn/dropout.h
// is the autograd op on tensors).
//
//   keep(i) = hash(key, i) >= threshold          threshold = round(p 2^32): P(drop) = p
//   y[i]    = keep(i) ? x[i] * scale : 0         scale = 1 / (1 - p)
//
// The mask is a pure function of (key, i): the backward applies the same call to the gradient
// and nothing is saved; any split of the range over threads gives the same mask. hash: a 32-bit
// mix of the element index with the two halves of the key (the murmur3 finaliser), which
// vectorises; bf16 in blocks, rounded once. Multiversioned (AVX-512 / AVX2 / baseline).
//
//   dropout_mask_apply(x, y, n, /*first=*/b, key, threshold, scale);   // elements b .. b+n-1
#pragma once

#include <cstdint>

namespace ptft::nn {

// x and y point at element `first` of the tensor; first + n <= 2^32.
void dropout_mask_apply(const float* x, float* y, int64_t n, int64_t first, uint64_t key, uint32_t threshold,
                        float scale);
void dropout_mask_apply(const uint16_t* x, uint16_t* y, int64_t n, int64_t first, uint64_t key, uint32_t threshold,
                        float scale);

}  // namespace ptft::nn
