// ptft/train/causal_lm_task.h — next-token prediction: cross-entropy of `logits` (B,T,V)
// against `targets` (B,T) (-100 = not predicted, e.g. prompt tokens in SFT). Units are target
// tokens, so accumulation and data-parallel splits weight every token equally.
// Metrics: loss (mean per token), perplexity = exp(loss), tokens.
#pragma once

#include "ptft/train/task.h"

namespace ptft {

class CausalLmTask : public Task {
 public:
  static constexpr int64_t kIgnore = -100;
  std::string name() const override { return "causal_lm"; }
  torch::Tensor loss_sum(ModelImpl& model, const Batch& batch) override;
  std::unique_ptr<EvalAccumulator> new_eval() const override;
  std::string unit() const override { return "tokens"; }
};

}  // namespace ptft
