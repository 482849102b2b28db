#include "ptft/models/causal_lm.h"

#include "ptft/nn/attention.h"
#include "ptft/nn/bf16_gemv.h"
#include "ptft/nn/gated_feed_forward.h"
#include "ptft/nn/linear.h"

#include <ATen/CPUGeneratorImpl.h>

#include "ptft/models/model.h"

namespace ptft {

TensorMap causal_lm_example_batch(const ModelImpl& model, int64_t n, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto w = torch::randint(model.vocab_size(), {n, std::min<int64_t>(model.context_length(), 16) + 1}, g, torch::kLong);
  return {{"input_ids", w.narrow(1, 0, w.size(1) - 1)}, {"targets", w.narrow(1, 1, w.size(1) - 1)}};  // (B,T) each
}

void CausalLm::hold_bf16_copies(torch::nn::Module& self, const torch::Tensor& tied_head) {
  for (const auto& m : self.modules(/*include_self=*/false))
    if (auto* linear = dynamic_cast<nn::LinearImpl*>(m.get())) linear->hold_bf16_copy();
  // Projections that read the same input become one matrix for decode steps.
  for (const auto& m : self.modules(/*include_self=*/false)) {
    if (auto* attn = dynamic_cast<nn::SelfAttentionImpl*>(m.get())) attn->stack_decode_weights();
    if (auto* mlp = dynamic_cast<nn::GatedFeedForwardImpl*>(m.get())) mlp->stack_decode_weights();
  }
  torch::NoGradGuard ng;
  head_bf16_ = tied_head.defined() && tied_head.is_cpu() ? tied_head.detach().to(torch::kBFloat16).contiguous()
                                                          : torch::Tensor();
}

torch::Tensor CausalLm::tied_head_logits(const torch::Tensor& x, const torch::Tensor& weight) const {
  if (!head_bf16_.defined() || x.numel() != weight.size(1) || torch::GradMode::is_enabled())
    return nn::linear(x, head_cast_.of(weight));  // (B,T,C) -> (B,T,V)
  return nn::bf16_gemv(head_bf16_, x);  // one row: (1,1,C) -> (1,1,V)
}

}  // namespace ptft
