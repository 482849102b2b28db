// ptft/train/classification_task.h — single-label classification: cross-entropy on
// `logits` (B, C) against `y` (B); metrics loss and accuracy.
#pragma once

#include "ptft/train/task.h"

namespace ptft {

class ClassificationTask : public Task {
 public:
  std::string name() const override { return "classification"; }
  torch::Tensor loss_sum(ModelImpl& model, const Batch& batch) override;
  std::unique_ptr<EvalAccumulator> new_eval() const override;
};

}  // namespace ptft
