// ptft/train/masked_lm_task.h — masked-token prediction (BERT pre-training): cross-entropy of the
// model's `logits` against the original tokens at the selected positions (ptft/data/mlm_windows.h:
// `targets` (B,T), -100 = not selected). A model that scores only the selected positions returns
// them gathered: `logits` (N,V) with `targets` (N) (BERT does, so the V-wide decoder runs on 15 %
// of the tokens). Units are selected tokens.
// Metrics: loss (mean per selected token), perplexity = exp(loss), accuracy (argmax = original
// token), tokens.
#pragma once

#include "ptft/train/task.h"

namespace ptft {

class MaskedLmTask : public Task {
 public:
  std::string name() const override { return "masked_lm"; }
  torch::Tensor loss_sum(ModelImpl& model, const Batch& batch) override;
  std::unique_ptr<EvalAccumulator> new_eval() const override;
  std::string unit() const override { return "tokens"; }
};

}  // namespace ptft
