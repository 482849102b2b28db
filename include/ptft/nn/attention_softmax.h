// ptft/nn/attention_softmax.h — attention's probabilities from its raw scores, one autograd op:
//
//   p = softmax(scale * s + mask)   s (..., R, Tk): R rows per head group, row r being query r % Tq
//                                   (the query heads of one key/value head stacked, R = rep * Tq)
//   p = nn::attention_softmax(s, 1 / sqrt(hs), /*causal=*/true, tq);
//
// Causal: query i of Tq sees keys 0..Tk-Tq+i (bottom-right aligned, as a KV cache needs); a hidden
// key's probability is exactly 0. On CPU fp32 / bf16 scores one pass per row each way
// (nn/attention_softmax_kernel.h; fp32 arithmetic, p and the gradient in the scores' dtype,
// rounded once; only p is saved): the scale and the mask cost no pass of their own, where
// libtorch's baddbmm copied a broadcast -inf mask into the scores first. Other tensors (CUDA,
// double): libtorch's ops, the same formula. Scores whose rows are not whole heads of Tq queries,
// or a causal Tq > Tk, are an InternalError (a caller's bug), before any kernel runs.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

torch::Tensor attention_softmax(const torch::Tensor& scores, double scale, bool causal, int64_t tq);

}  // namespace ptft::nn
