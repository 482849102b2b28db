// ptft/nn/attention_softmax_kernel.h — one row of attention probabilities and its gradient, on
// fp32 or bf16 scores, torch-free (nn/attention_softmax.h is the autograd op).
//
//   attention_softmax_row(s, scale, visible, p, n);       // p = softmax(scale s[0..visible)), 0 after
//   attention_softmax_grad_row(p, dp, scale, visible, ds, n);  // ds = scale p (dp - <p, dp>), 0 after
//
// A row of n columns whose first `visible` are attended (a causal row sees the keys up to its own
// position; visible >= 1). fp32 arithmetic whatever the element type (bf16 widened, the result
// rounded once to nearest even): e^(x - max) in one pass with its sum, then one multiplication.
#pragma once

#include <cstdint>

namespace ptft::nn {

void attention_softmax_row(const float* s, float scale, int64_t visible, float* p, int64_t n);
void attention_softmax_row(const uint16_t* s, float scale, int64_t visible, uint16_t* p, int64_t n);
void attention_softmax_grad_row(const float* p, const float* dp, float scale, int64_t visible, float* ds, int64_t n);
void attention_softmax_grad_row(const uint16_t* p, const uint16_t* dp, float scale, int64_t visible, uint16_t* ds,
                                int64_t n);

}  // namespace ptft::nn
