// tests/models/overfit.h — the overfit-one-batch check every classifier family runs: AdamW on one
// fixed batch until the mean cross-entropy falls below a target.
//
//   OverfitResult r = overfit_classifier(*model, batch, /*max_steps=*/300, /*lr=*/1e-2, /*target=*/0.05);
//   EXPECT_LT(r.loss, 0.05) << "after " << r.steps << " steps (start " << r.first << ")";
#pragma once

#include "ptft/models/model.h"
#include "ptft/train/classification_task.h"
#include "ptft/train/optimizer.h"

namespace ptft::test {

struct OverfitResult {
  double first = 0;  // loss at step 0
  double loss = 0;   // last loss
  int steps = 0;     // optimizer steps taken
};

inline OverfitResult overfit_classifier(ModelImpl& m, const Batch& b, int max_steps, double lr, double target) {
  ClassificationTask task;
  AdamW opt(default_param_groups(m, 0.0, [](const std::string&) { return 1.0; }), 0.9, 0.999, 1e-8);
  const double n = static_cast<double>(b.weight);  // examples
  OverfitResult r;
  for (; r.steps < max_steps; ++r.steps) {
    auto l = task.loss_sum(m, b) / n;
    r.loss = l.item<double>();
    if (r.steps == 0) r.first = r.loss;
    if (r.loss < target) break;
    l.backward();
    opt.step(lr);
    opt.zero_grad();
  }
  return r;
}

}  // namespace ptft::test
