// ptft/nn/cross_entropy.h — the summed softmax cross-entropy of a language model's logits as one
// autograd op that never materialises fp32 copies of the logits or their log-softmax.
//
//   loss = nn::cross_entropy_sum(logits, targets, ignore_index);   // logits (N,V), targets (N)
//   // = F::cross_entropy(logits.to(kFloat), targets, sum, ignore_index): an fp32 scalar (double
//   //   logits: a double one)
//
// CPU fp32 / bf16 logits: per row (over the thread pool) log-sum-exp in fp32 from the logits as
// they are (nn/cross_entropy_kernel.h); the backward writes softmax - one-hot straight into a
// gradient of the logits' dtype (for GPT-2's 50k vocabulary at B4 x T256 the fp32 path holds
// ~400 MB of copies). Rows whose target is ignore_index add nothing and get a zero gradient; a
// target outside [0, V) is an error, as in libtorch. Other tensors (CUDA, double) run libtorch's.
//
// overwrite_logits: the backward writes the gradient over the logits (their buffer becomes the
// gradient) instead of into a new tensor — one (N, V) buffer less at the backward's start, the
// step's peak: ~100 MB for GPT-2's 50k vocabulary at B4 x T256 in bf16. For a loss that is
// differentiated once (no retain_graph) and whose logits nobody reads after it: a training step's.
// Their version counter is bumped, so that an op that saved them for its own backward fails
// loudly instead of reading the gradient.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

torch::Tensor cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& targets, int64_t ignore_index,
                                bool overwrite_logits = false);

}  // namespace ptft::nn
