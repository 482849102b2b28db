// ptft/nn/cross_entropy_kernel.h — one row of a softmax cross-entropy over a vocabulary, forward
// and gradient, on fp32 or bf16 logits, torch-free (nn/cross_entropy.h is the autograd op).
//
//   RowLse l = log_sum_exp(row, V);     // log sum_j e^row[j] = l.max + l.log_sum
//   cross_entropy_grad(row, l, target, scale, grad, V);      // grad = scale (softmax(row) - onehot)
//
// fp32 arithmetic whatever the logits' type (bf16 is widened in blocks, the gradient rounded
// once to nearest even), the exp of nn/gelu_kernel.cpp's kind (~1e-7 relative), lane-wise
// partial sums so that the loops vectorise; multiversioned (AVX-512 / AVX2 / baseline).
#pragma once

#include <cstdint>

namespace ptft::nn {

// Kept in two parts: softmax = e^((x - max) - log_sum) is then as exact in fp32 as libtorch's
// log_softmax (x - max is exact near the max; one sum of both would round at the scale of max).
struct RowLse {
  float max = 0, log_sum = 0;
};

RowLse log_sum_exp(const float* row, int64_t n);
RowLse log_sum_exp(const uint16_t* row, int64_t n);  // bf16
// target < 0: no one-hot term (a row without a target gets no gradient from the caller). grad may
// be row itself (the gradient written over the logits).
void cross_entropy_grad(const float* row, RowLse lse, int64_t target, float scale, float* grad, int64_t n);
void cross_entropy_grad(const uint16_t* row, RowLse lse, int64_t target, float scale, uint16_t* grad, int64_t n);

}  // namespace ptft::nn
