// ptft/nn/rope_kernel.h — rotary position embeddings in Hugging Face's rotate_half layout over
// rows of one head (d elements, halves h = d/2), forward and backward, torch-free (nn/rotary.h
// applies them to tensors as one autograd op).
//
//   y  = x c + rotate_half(x) s:   y[i] = x[i] c[i] - x[i+h] s[i],   y[i+h] = x[i+h] c[i+h] + x[i] s[i+h]
//   dx = the transpose:            dx[i] = dy[i] c[i] + dy[i+h] s[i+h],   dx[i+h] = dy[i+h] c[i+h] - dy[i] s[i]
//
// c and s are the cos and sin rows of the row's position (fp32; the caller rounds them to x's
// dtype first when it is bf16, as HF casts the tables). fp32 arithmetic, bf16 rows widened and
// the result rounded once; multiversioned (AVX-512 / AVX2 / baseline).
//
//   rope_sequence(x, x_stride, c, s, y, t, d, /*backward=*/false);
#pragma once

#include <cstdint>

namespace ptft::nn {

// Rows k = 0 .. t-1 of one head's sequence: x row at x + k * x_stride, its tables c + k * d and
// s + k * d (the positions of the rows, in order), result row at y + k * d (contiguous).
// backward: apply the transpose (x holds dy, y gets dx).
void rope_sequence(const float* x, int64_t x_stride, const float* c, const float* s, float* y, int64_t t, int64_t d,
                   bool backward);
void rope_sequence(const uint16_t* x, int64_t x_stride, const float* c, const float* s, uint16_t* y, int64_t t,
                   int64_t d, bool backward);

}  // namespace ptft::nn
